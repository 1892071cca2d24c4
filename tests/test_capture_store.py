"""The capture store as a pure object: DevTools-shaped messages in, events out, no browser.

A fake clock stands for both of the store's clocks (monotonic for the run's time line,
wall for DevTools timestamps), so attribution depends on the times written here and
on nothing the machine does. Steps start the way the runner starts them
(``starts_attribution``), so a break in either place fails a test here.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from collector.capture.devtools import ConsoleTarget
from collector.capture.store import CaptureLimits, CaptureStore
from collector.report import Event
from collector.runner import PASSIVE_STEPS, starts_attribution
from collector.scenario import (
    Click,
    ExpectText,
    ExpectUrl,
    ExpectVisible,
    Fill,
    Goto,
    Screenshot,
    StepBase,
    Wait,
    WaitFor,
    WaitForUrl,
)

EPOCH_MS = 1_796_000_000_000.0  # wall-clock ms when the fake run starts


class FakeClock:
    """Seconds since the run started; ``wall`` is the matching wall clock."""

    def __init__(self) -> None:
        self.t = 0.0

    def monotonic(self) -> float:
        return 1000.0 + self.t

    def wall(self) -> float:
        return EPOCH_MS / 1000 + self.t

    def at_ms(self, t: float) -> float:
        """The DevTools timestamp of something that happened at run time ``t`` seconds."""
        return EPOCH_MS + t * 1000


def new_capture(limits: CaptureLimits | None = None) -> tuple[CaptureStore, FakeClock, ConsoleTarget]:
    clock = FakeClock()
    capture = CaptureStore(limits, clock=clock.monotonic, wall_clock=clock.wall)
    return capture, clock, ConsoleTarget(capture, "page 1")


def console_called(text: str, at: float | None, kind: str = "error") -> dict[str, Any]:
    """A Runtime.consoleAPICalled event as DevTools sends it."""
    event: dict[str, Any] = {
        "type": kind,
        "args": [{"type": "string", "value": text}],
        "executionContextId": 1,
        "stackTrace": {
            "callFrames": [{"functionName": "", "url": "http://127.0.0.1/app.js",
                            "lineNumber": 9, "columnNumber": 4, "scriptId": "7"}]
        },
    }  # fmt: skip
    if at is not None:
        event["timestamp"] = at
    return event


def exception_thrown(message: str, at: float, *, rejection: bool = False) -> dict[str, Any]:
    """A Runtime.exceptionThrown event as DevTools sends it."""
    description = f"TypeError: {message}\n    at pay (http://127.0.0.1/app.js:3:7)"
    return {
        "timestamp": at,
        "exceptionDetails": {
            "exceptionId": 1,
            "text": "Uncaught (in promise)" if rejection else "Uncaught",
            "lineNumber": 2,
            "columnNumber": 6,
            "url": "http://127.0.0.1/app.js",
            "executionContextId": 1,
            "exception": {"type": "object", "subtype": "error", "className": "TypeError",
                          "description": description},
            "stackTrace": {"callFrames": [{"functionName": "pay", "url": "http://127.0.0.1/app.js",
                                           "lineNumber": 2, "columnNumber": 6, "scriptId": "7"}]},
        },
    }  # fmt: skip


def log_entry(text: str, at: float, level: str = "error") -> dict[str, Any]:
    """A Log.entryAdded event (the browser's own messages)."""
    return {
        "entry": {"source": "network", "level": level, "text": text, "timestamp": at,
                  "url": "http://127.0.0.1/missing.png"}
    }  # fmt: skip


def start(capture: CaptureStore, clock: FakeClock, steps: list[StepBase], t: float, index: int) -> None:
    """Step ``index`` (1-based) starts at run time ``t``, as the runner starts it."""
    clock.t = t
    if starts_attribution(steps[index - 1], capture.current_step):
        capture.step_started(index)


def by_text(events: list[Event]) -> dict[str, Event]:
    return {e.text: e for e in events}


# -- attribution -------------------------------------------------------------------------

STEPS: list[StepBase] = [
    Goto(url="http://127.0.0.1/"),  # 1, starts at t=0
    Click(selector="#pay"),  # 2, t=1
    Wait(ms=2000),  # 3, t=2  passive
    ExpectText(selector="#result", text="paid"),  # 4, t=4  passive
    Screenshot(name="after"),  # 5, t=5  passive
    Fill(selector="#email", value="a@b.c"),  # 6, t=6
    WaitFor(selector="#done"),  # 7, t=7  passive
]


def run_steps(capture: CaptureStore, clock: FakeClock) -> None:
    for index, t in enumerate([0, 1, 2, 4, 5, 6, 7], start=1):
        start(capture, clock, STEPS, t, index)


def test_passive_steps_leave_events_with_the_action_before_them() -> None:
    capture, clock, page = new_capture()
    start(capture, clock, STEPS, 0, 1)
    page.api_called(console_called("during goto", clock.at_ms(0.5)))
    start(capture, clock, STEPS, 1, 2)
    page.api_called(console_called("during click", clock.at_ms(1.5)))
    start(capture, clock, STEPS, 2, 3)  # wait
    page.api_called(console_called("timer after the click", clock.at_ms(3.0)))
    start(capture, clock, STEPS, 4, 4)  # expect_text
    page.exception_thrown(exception_thrown("late", clock.at_ms(4.5)))
    start(capture, clock, STEPS, 5, 5)  # screenshot
    page.log_entry(log_entry("Failed to load resource", clock.at_ms(5.5)))
    start(capture, clock, STEPS, 6, 6)  # fill: an action again
    page.api_called(console_called("during fill", clock.at_ms(6.5)))
    start(capture, clock, STEPS, 7, 7)  # wait_for
    page.api_called(console_called("after fill", clock.at_ms(7.5)))
    steps = {e.text: e.step for e in capture.events()}
    assert steps == {
        "during goto": 1,
        "during click": 2,
        "timer after the click": 2,
        "TypeError: late": 2,
        "Failed to load resource": 2,
        "during fill": 6,
        "after fill": 6,
    }


@pytest.mark.parametrize("step", [Wait(ms=1), WaitFor(selector="#x"), WaitForUrl(url="/x"),
                                  ExpectText(selector="#x", text="y"), ExpectVisible(selector="#x"),
                                  ExpectUrl(url="/x"), Screenshot(name="x")])  # fmt: skip
def test_every_passive_step_kind_is_passive_but_owns_events_when_first(step: StepBase) -> None:
    assert isinstance(step, PASSIVE_STEPS)
    assert starts_attribution(step, 3) is False
    assert starts_attribution(step, None) is True  # nothing before it to blame


@pytest.mark.parametrize("step", [Goto(url="/x"), Click(selector="#x"), Fill(selector="#x", value="")])
def test_actions_start_a_step(step: StepBase) -> None:
    assert starts_attribution(step, 3) is True


def test_a_passive_first_step_owns_what_follows() -> None:
    capture, clock, page = new_capture()
    steps: list[StepBase] = [Wait(ms=100), Click(selector="#a")]
    start(capture, clock, steps, 0, 1)
    page.api_called(console_called("while waiting", clock.at_ms(0.05)))
    assert [e.step for e in capture.events()] == [1]


def test_events_that_arrive_after_the_next_step_began_keep_their_own_step() -> None:
    capture, clock, page = new_capture()
    run_steps(capture, clock)  # every step has started: the current step is 6
    # DevTools stamps when it happened; these arrive now, late.
    page.api_called(console_called("logged during goto", clock.at_ms(0.9)))
    page.exception_thrown(exception_thrown("thrown by the click", clock.at_ms(1.0)))
    page.log_entry(log_entry("resource failed in the wait", clock.at_ms(3.9)))
    page.api_called(console_called("logged during fill", clock.at_ms(6.2)))
    page.api_called(console_called("no timestamp", None))  # arrival order then
    page.api_called(console_called("before the first step", clock.at_ms(-0.5)))
    steps = {e.text: e.step for e in capture.events()}
    assert steps == {
        "logged during goto": 1,
        # Exactly at the click's start: the click had started (the last step started before).
        "TypeError: thrown by the click": 2,
        "resource failed in the wait": 2,
        "logged during fill": 6,
        "no timestamp": 6,
        "before the first step": None,
    }


def test_timestamps_of_another_machines_clock_fall_back_to_arrival_order() -> None:
    capture, clock, page = new_capture()
    run_steps(capture, clock)
    page.api_called(console_called("remote browser", clock.at_ms(0.5) - 3_600_000))
    assert [e.step for e in capture.events()] == [6]


# -- folding and caps --------------------------------------------------------------------


def test_identical_events_fold_with_exact_counts() -> None:
    capture, clock, page = new_capture()
    start(capture, clock, STEPS, 0, 1)
    for _ in range(5):
        page.api_called(console_called("same", clock.at_ms(0.1)))
    start(capture, clock, STEPS, 1, 2)
    for _ in range(3):
        page.api_called(console_called("same", clock.at_ms(1.1)))  # same text, another step
    page.api_called(console_called("same", clock.at_ms(1.2), kind="warning"))  # another level
    events = capture.events()
    assert [(e.text, e.step, e.level, e.count) for e in events] == [
        ("same", 1, "error", 5),
        ("same", 2, "error", 3),
        ("same", 2, "warning", 1),
    ]
    assert capture.totals == {"console": {"error": 8, "warning": 1}}
    assert capture.dropped == 0


def test_caps_keep_totals_exact_and_count_what_was_dropped() -> None:
    limits = CaptureLimits(max_console_entries=3, max_other_entries=2)
    capture, clock, page = new_capture(limits)
    start(capture, clock, STEPS, 0, 1)
    for i in range(10):
        page.api_called(console_called(f"console {i}", clock.at_ms(0.1)))
    for i in range(5):
        page.exception_thrown(exception_thrown(f"boom {i}", clock.at_ms(0.2)))
    # A kept event seen again after the cap still folds into its entry: not dropped.
    page.api_called(console_called("console 0", clock.at_ms(0.3)))
    page.exception_thrown(exception_thrown("boom 1", clock.at_ms(0.3)))
    kept = by_text(capture.events())
    assert list(kept) == ["console 0", "console 1", "console 2", "TypeError: boom 0",
                          "TypeError: boom 1"]  # fmt: skip
    assert kept["console 0"].count == 2
    assert kept["TypeError: boom 1"].count == 2
    assert capture.totals == {"console": {"error": 11}, "page_error": 6}
    assert capture.dropped == 7 + 3  # console 3-9, boom 2-4


def test_huge_and_invalid_text_is_cut_with_a_marker_and_made_utf8() -> None:
    capture, clock, page = new_capture(CaptureLimits(max_text_chars=100))
    start(capture, clock, STEPS, 0, 1)
    page.api_called(console_called("x" * 1000, clock.at_ms(0.1)))
    page.api_called(console_called("lone \ud800 surrogate", clock.at_ms(0.1)))
    long, lone = capture.events()
    assert long.text == "x" * 100 + " … [truncated 900 bytes]"
    assert lone.text == "lone \ufffd surrogate"
    lone.text.encode("utf-8")


# -- DevTools shapes -----------------------------------------------------------------------


def test_devtools_messages_become_events_with_locations() -> None:
    capture, clock, page = new_capture()
    start(capture, clock, STEPS, 0, 1)
    clock.t = 0.25
    page.api_called(console_called("%s has %d items", clock.at_ms(0.25), kind="log")
                    | {"args": [{"type": "string", "value": "%s has %d items"},
                                {"type": "string", "value": "cart"},
                                {"type": "number", "value": 3.0}]})  # fmt: skip
    page.exception_thrown(exception_thrown("not paid", clock.at_ms(0.25), rejection=True))
    page.log_entry(log_entry("Failed to load resource: 404", clock.at_ms(0.25)))
    log, rejection, native = capture.events()
    assert (log.kind, log.level, log.text) == ("console", "log", "cart has 3 items")
    assert (log.url, log.line, log.column) == ("http://127.0.0.1/app.js", 10, 5)  # 1-based
    assert log.time_ms == 250
    assert (rejection.kind, rejection.text) == (
        "page_error",
        "Unhandled rejection: TypeError: not paid",
    )
    assert (rejection.line, rejection.column) == (3, 7)
    assert rejection.stack and "at pay" in rejection.stack
    assert (native.kind, native.level, native.native) == ("console", "error", True)
    assert all(e.source == "page 1" for e in (log, rejection, native))


# -- one text for an unhandled rejection, whichever front end saw it -----------------------


def test_every_front_end_words_an_unhandled_rejection_the_same() -> None:
    from types import SimpleNamespace

    from collector.capture import Capture

    capture, clock, page = new_capture()
    start(capture, clock, STEPS, 0, 1)
    page.exception_thrown(exception_thrown("not paid", clock.at_ms(0.1), rejection=True))
    page.log_entry({"entry": {"source": "worker", "level": "error", "workerId": "w1",
                              "text": "Uncaught (in promise) TypeError: not paid",
                              "url": "http://127.0.0.1/app.js", "timestamp": clock.at_ms(0.1)}})  # fmt: skip
    # Playwright's own page error (tests' contexts), in the shape its WebError carries.
    listening = Capture()
    listening._on_page_error(
        None,
        SimpleNamespace(name="TypeError", message="not paid",
                        stack="Uncaught (in promise) TypeError: not paid\n    at pay (app.js:3:7)"),
    )  # fmt: skip
    texts = [e.text for e in capture.events() + listening.events()]
    assert texts == ["Unhandled rejection: TypeError: not paid"] * 3


# -- what capture could not do is said, not swallowed ----------------------------------------


class SilentSession:
    """A DevTools session whose child targets never answer (the shape ConsoleTarget uses)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def send(self, method: str, params: dict[str, Any]) -> Any:
        self.sent.append((method, params))
        return asyncio.get_running_loop().create_future()  # never resolved


def attach_silent_child(capture: Any) -> ConsoleTarget:
    console = ConsoleTarget(capture, "page 1")
    console.listen(SilentSession(), lambda _session, _event, _handler: None)
    capture.consoles.append(console)
    console.child_attached({"sessionId": "child-1",
                            "targetInfo": {"type": "iframe", "url": "http://127.0.0.1/f"}})  # fmt: skip
    return console


def test_a_child_target_that_never_answers_is_noted_once_and_not_waited_for_again() -> None:
    from collector.capture import Capture

    async def scenario() -> Capture:
        capture = Capture()
        attach_silent_child(capture)
        assert not capture.attached()  # "quiet" waits for the child's replay
        await capture.settle(timeout_s=0.05)
        assert capture.attached()  # given up on: the next settle and quiet do not wait
        await capture.settle(timeout_s=3600)
        return capture

    capture = asyncio.run(asyncio.wait_for(scenario(), 60))
    assert capture.problems == [
        "console of child targets (frames, workers): 2 request(s) unanswered within 0.05 s; "
        "their early messages may be missing"
    ]


def test_a_child_that_answers_with_an_error_or_goes_away_is_noted_and_not_waited_for() -> None:
    from collector.capture import Capture

    async def scenario() -> Capture:
        capture = Capture()
        console = attach_silent_child(capture)
        reply = {"id": 1, "error": {"code": -32000, "message": "Runtime.enable refused"}}
        console.child_message({"sessionId": "child-1", "message": json.dumps(reply)})
        assert not capture.attached()  # Log.enable (id 2) is still to come
        console.child_detached({"sessionId": "child-1"})
        assert capture.attached()
        return capture

    capture = asyncio.run(scenario())
    assert capture.problems == [
        "console of page 1 frame http://127.0.0.1/f: enabling failed: Runtime.enable refused"
    ]


def test_capture_notes_are_bounded() -> None:
    store = CaptureStore()
    for i in range(200):
        store.note(f"listener failed {i}")
    assert len(store.problems) == 50 and store.problems[0] == "listener failed 0"


# -- quiet: one wait for runs and tests --------------------------------------------------------


class StillPage:
    """A page as "quiet" sees it: open, answering or not, with some short timers."""

    def __init__(self, timers: int = 0, answers: bool = True) -> None:
        self.timers, self.answering, self.url = timers, answers, "http://127.0.0.1/"

    def is_closed(self) -> bool:
        return False


def quiet_capture(clock: FakeClock, *pages: StillPage) -> Any:
    from collector.capture import Capture

    capture = Capture(clock=clock.monotonic, wall_clock=clock.wall)
    capture.pages.extend(pages)  # type: ignore[arg-type]
    return capture


async def fake_evaluate(page: Any, expression: str, _seconds: float) -> Any:
    from collector.deadlines import NoAnswer

    if not page.answering:
        raise NoAnswer(expression)
    return page.timers if "Pending" in expression else 0


def test_quiet_waits_for_short_timers_then_ends_without_an_event_loop() -> None:
    """The sync API's way: driven without a loop, since nothing in it suspends."""
    from collector.capture import wait_quiet
    from collector.either_api import drive

    clock = FakeClock()
    page = StillPage(timers=1)
    capture = quiet_capture(clock, page)
    looks: list[float] = []

    async def pause(pages: list[Any]) -> bool:
        looks.append(clock.t)
        clock.t += 0.1
        if clock.t >= 0.5:
            page.timers = 0  # the timer fired
        return True

    drive(wait_quiet(capture, 10, evaluate=fake_evaluate, pause=pause))
    assert looks == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])
    assert capture.events() == []


def test_quiet_names_a_page_that_stopped_responding_and_stops_waiting_on_it() -> None:
    from collector.capture import UNRESPONSIVE, wait_quiet
    from collector.either_api import drive

    clock = FakeClock()
    hung = StillPage(answers=False)
    capture = quiet_capture(clock, hung)

    async def pause(pages: list[Any]) -> bool:
        clock.t += 0.1
        return bool(pages)

    drive(wait_quiet(capture, 10, evaluate=fake_evaluate, pause=pause))
    assert [e.text for e in capture.events()] == [UNRESPONSIVE]
    assert capture.open_pages() == []


@pytest.mark.parametrize(
    ("message", "noted"),
    [
        ("Execution context was destroyed, most likely because of a navigation", False),
        ("Protocol error (Runtime.evaluate): Internal error", True),
    ],
)
def test_a_timer_check_that_fails_is_noted_unless_the_page_moved_on(
    message: str, noted: bool
) -> None:
    from playwright.async_api import Error as PlaywrightError

    from collector.capture import wait_quiet
    from collector.either_api import drive

    clock = FakeClock()
    capture = quiet_capture(clock, StillPage())

    async def failing_evaluate(page: Any, expression: str, _seconds: float) -> Any:
        raise PlaywrightError(message)

    async def pause(pages: list[Any]) -> bool:
        clock.t += 0.1
        return True

    drive(wait_quiet(capture, 10, evaluate=failing_evaluate, pause=pause))
    assert capture.events() == []
    expected = [f"checking timers on http://127.0.0.1/: {message}"] if noted else []
    assert capture.problems == expected


def test_a_page_between_two_documents_is_looked_at_again_not_taken_for_quiet() -> None:
    """A popup's first look can land as its document commits: the new document's timers
    (an exception 100 ms later) must still be waited for."""
    from playwright.async_api import Error as PlaywrightError

    from collector.capture import wait_quiet
    from collector.either_api import drive

    clock = FakeClock()
    page = StillPage(timers=1)
    capture = quiet_capture(clock, page)
    looks: list[float] = []

    async def evaluate(page: Any, expression: str, seconds: float) -> Any:
        looks.append(clock.t)
        if len(looks) == 1:
            raise PlaywrightError("Execution context was destroyed, most likely because of a navigation")
        return await fake_evaluate(page, expression, seconds)

    async def pause(pages: list[Any]) -> bool:
        clock.t += 0.1
        if clock.t >= 0.3:
            page.timers = 0  # the new document's timer ran
        return True

    drive(wait_quiet(capture, 10, evaluate=evaluate, pause=pause))
    assert looks == pytest.approx([0.1, 0.2, 0.3])  # not ended at the first look
    assert capture.problems == []
