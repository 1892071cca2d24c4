"""The embedded demo shop: a tiny local web shop with one realistic bug.

It exists so that a first run (``collector demo`` / ``make demo``) has something
to break without touching the network: the checkout's "Pay now" button posts to
``/api/pay``, the server answers HTTP 500, and the page's own code then throws an
uncaught ``TypeError`` while the button stays stuck in "Processing…". The
``fixed`` variant of :class:`collector.demo.server.DemoServer` answers 200 so a
replay can show the bug is gone.
"""

from contextlib import AbstractContextManager
from importlib import resources
from pathlib import Path


def demo_scenario() -> AbstractContextManager[Path]:
    """The bundled example scenario as a real file, for as long as the block runs."""
    return resources.as_file(resources.files("collector.demo").joinpath("scenario.yaml"))
