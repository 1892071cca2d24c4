"""Capture: what the browser reports during a run, as bounded, attributed events.

- ``store``: the pure event store (caps, folding, totals, step attribution, notes).
- ``listeners``: ``Capture``, the store fed by a context's Playwright events.
- ``devtools``: each page's console through a DevTools session (collector's own runs).
- ``quiet``: the one wait for late errors, for runs and for tests.
"""

from collector.capture.listeners import Capture
from collector.capture.quiet import wait_quiet
from collector.capture.store import UNRESPONSIVE, CaptureLimits, CaptureStore, safe_text

__all__ = ["UNRESPONSIVE", "Capture", "CaptureLimits", "CaptureStore", "safe_text", "wait_quiet"]
