"""What ends a wait or a run early: deadlines on round trips, and interrupts.

A renderer whose script is busy (``while (true) {}``) never answers again: an
evaluate, a screenshot or a DevTools command sent to it would wait forever, and
so would collector. Whatever the run awaits from a page goes through ``within``.
A signal or a time limit ends a whole run: an ``Interrupt`` says which.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from collector.errors import EXIT_FAILED

if TYPE_CHECKING:
    from playwright.async_api import Page

T = TypeVar("T")

# How long a page that is not busy takes to answer a trivial evaluate, with room
# for a machine whose cores are all taken.
PROBE_S = 3.0
# Closing a page or a context is done by the browser, not by the page's script.
CLOSE_S = 10.0


@dataclass(frozen=True)
class Interrupt:
    """Why a run was stopped before its end: a signal, or a time limit."""

    message: str
    signal: int | None = None  # None: --max-run-time

    @property
    def exit_code(self) -> int:
        """128 + the signal, as shells report it; a time limit is a failed run (1)."""
        return 128 + self.signal if self.signal is not None else EXIT_FAILED


CTRL_C = Interrupt("Interrupted (Ctrl-C)", signal.SIGINT)


class NoAnswer(Exception):
    """The page (or the browser) did not answer within its deadline."""


async def within(awaitable: Awaitable[T], seconds: float, what: str) -> T:
    """``await awaitable``, or raise NoAnswer after ``seconds`` (abandoning it)."""
    try:
        return await asyncio.wait_for(awaitable, max(seconds, 0.001))
    except TimeoutError:
        raise NoAnswer(f"{what}: no answer within {seconds:g} s") from None


# Evaluates an expression in a page within some seconds; NoAnswer when the page is silent.
Evaluate = Callable[[Any, str, float], Awaitable[Any]]


async def evaluate_within(page: Page, expression: str, seconds: float) -> Any:
    """``page.evaluate(expression)`` of the async API, bounded by ``within``."""
    return await within(page.evaluate(expression), seconds, f"evaluating {expression}")


async def answers(page: Any, seconds: float = PROBE_S, evaluate: Evaluate = evaluate_within) -> bool:
    """Whether ``page``'s script can still run: False when it is busy forever.

    Any reply counts, an error included (a page between two documents answers
    that its context is gone): only silence means a hung renderer.
    """
    try:
        await evaluate(page, "0", seconds)
    except NoAnswer:
        return False
    except Exception:
        return True
    return True


def ignore_result(task: asyncio.Future[Any]) -> None:
    """Done-callback of an abandoned task: its outcome no longer matters to anyone."""
    if not task.cancelled():
        task.exception()
