"""One implementation for Playwright's sync and async APIs.

Code that talks to a page of either API is written once, as a coroutine that
awaits ``settled(call)``: with the async API the call is awaited, with the
sync API it has already returned its value. ``drive`` runs such a coroutine
without an event loop, which is right for the sync API because nothing in it
ever suspends.
"""

from __future__ import annotations

import inspect
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


async def settled(result: Any) -> Any:
    """The value of a Playwright call of either API."""
    if inspect.isawaitable(result):
        return await result
    return result


def drive(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine made of sync-API calls to its end, without an event loop."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coroutine.close()
    raise RuntimeError("an async Playwright call in code driven for the sync API")
