"""A reused context (collector.lanes: check's plain URLs, minimize's candidate runs) leaks
nothing from one run to the next.

Each test has its control: what the same pages see without the reset, so that a
reset that stopped clearing something turns the test red rather than passing
for want of anything to find.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from collector.capture.listeners import _origin
from collector.check import check_targets, url_target
from collector.lanes import LASTING_STEPS, Lane, lasting_step
from collector.runner import RunOptions, RunResult, run_scenario
from collector.scenario import (
    Click,
    Close,
    EmulateNetwork,
    Goto,
    KeyDown,
    KeyUp,
    Scenario,
    SetViewport,
    StepBase,
    WaitFor,
)

LINGER_S = 0.2


def flow(url: str) -> Scenario:
    """Open ``url`` and wait for its #done (the page's async work finished)."""
    return Scenario(name=url, steps=[Goto(url=url), WaitFor(selector="#done", state="attached")])


def state_of(result: RunResult) -> dict[str, Any]:
    """The STATE a read-state.html run logged."""
    assert result.outcome.status == "clean", result.outcome
    logged = [e.text for e in result.events if e.text.startswith("STATE ")]
    assert len(logged) == 1, [e.text for e in result.events]
    return dict(json.loads(logged[0].removeprefix("STATE ")))


def options(tmp_path: Path, name: str) -> RunOptions:
    return RunOptions(linger_s=LINGER_S, work_dir=tmp_path / name, final_screenshot="never")


def test_the_next_page_in_a_reused_context_sees_what_a_fresh_context_shows(
    browser_loop: Any, pages_url: str, tmp_path: Path
) -> None:
    leave, read = pages_url + "lanes/leave-state.html", pages_url + "lanes/read-state.html"

    async def runs(browser: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], Lane]:
        fresh = await run_scenario(flow(read), browser, options(tmp_path, "fresh"))
        # The control: the same two pages one after the other in one context, no reset.
        context = await browser.new_context()
        try:
            page = await context.new_page()
            await page.goto(leave)
            await page.wait_for_selector("#done", state="attached")
            logged = await _state_logged(page, read)
        finally:
            await context.close()
        lane = Lane(browser)
        try:
            left = await run_scenario(flow(leave), browser, options(tmp_path, "leave"), lane=lane)
            assert left.outcome.status == "clean", left.outcome
            reused = lane.context
            after = await run_scenario(flow(read), browser, options(tmp_path, "read"), lane=lane)
            assert lane.context is reused and reused is not None, lane.spoiled
        finally:
            await lane.close()
        return state_of(fresh), logged, state_of(after), lane

    fresh, without_reset, after_reset, _lane = browser_loop.run(runs)
    assert after_reset == fresh
    # Each thing compared is one the first page really leaves behind.
    leaked = {key for key in fresh if without_reset[key] != fresh[key]}
    assert leaked == set(fresh), (fresh, without_reset)


async def _state_logged(page: Any, url: str) -> dict[str, Any]:
    """The STATE read-state.html logs when ``page`` goes to it."""
    logged: list[str] = []
    page.on("console", lambda msg: logged.append(msg.text))
    await page.goto(url)
    await page.wait_for_selector("#done", state="attached")
    states = [text for text in logged if text.startswith("STATE ")]
    return dict(json.loads(states[-1].removeprefix("STATE ")))


def test_permissions_and_cookies_of_any_origin_are_gone_for_the_next_page(
    browser_loop: Any, pages_url: str
) -> None:
    """What the context holds beyond the origins the page's requests reached goes too."""
    origin = pages_url.rstrip("/")
    query = "navigator.permissions.query({name: 'geolocation'}).then(s => s.state)"
    elsewhere = {"name": "left", "value": "1", "domain": "localhost", "path": "/"}

    async def states(browser: Any) -> tuple[tuple[str, int], tuple[str, int]]:
        lane = Lane(browser)
        try:
            context, page = await lane.take({})
            await context.grant_permissions(["geolocation"], origin=origin)
            await context.add_cookies([elsewhere])
            await page.goto(pages_url + "lanes/kept.svg")
            before = (await page.evaluate(query), len(await context.cookies()))
            await lane.give_back({origin})
            again, page = await lane.take({})
            assert again is context, lane.spoiled
            await page.goto(pages_url + "lanes/kept.svg")
            return before, (await page.evaluate(query), len(await context.cookies()))
        finally:
            await lane.close()

    assert browser_loop.run(states) == (("granted", 1), ("prompt", 0))


@pytest.fixture
def contexts_taken(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The context each lane run got, in order (Lane.take, watched)."""
    contexts: list[Any] = []
    take = Lane.take

    async def watched_take(lane: Lane, settings: dict[str, Any]) -> Any:
        taken = await take(lane, settings)
        contexts.append(taken[0])
        return taken

    monkeypatch.setattr(Lane, "take", watched_take)
    return contexts


def check_one_by_one(browser_loop: Any, tmp_path: Path, targets: list[Any]) -> list[Any]:
    return list(
        browser_loop.run(
            lambda browser: check_targets(
                targets, browser, run_options=RunOptions(linger_s=LINGER_S), work_dir=tmp_path,
                concurrency=1,
            )
        )
    )  # fmt: skip


def test_what_a_busy_page_does_after_its_run_reaches_no_later_page(
    browser_loop: Any, pages_url: str, tmp_path: Path, contexts_taken: list[Any]
) -> None:
    """A page still logging errors, waiting on a request and with a popup whose requests
    fail when its linger ends, then a clean page in the same worker: the clean page
    passes, and it did reuse the context."""
    noisy, clean = check_one_by_one(
        browser_loop, tmp_path,
        [url_target(pages_url + "lanes/noisy.html"), url_target(pages_url + "check/clean-plain.html")],
    )  # fmt: skip
    assert noisy.failed and {e.kind for e in noisy.failing} == {"console", "http_error"}
    assert not clean.failed, (clean.reason, [e.text for e in clean.failing])
    assert len(contexts_taken) == 2 and contexts_taken[0] is contexts_taken[1]


def test_a_page_that_stopped_responding_leaves_the_next_a_fresh_context(
    browser_loop: Any, pages_url: str, tmp_path: Path, contexts_taken: list[Any]
) -> None:
    frozen, clean = check_one_by_one(
        browser_loop, tmp_path,
        [url_target(pages_url + "lanes/freeze-after-load.html"), url_target(pages_url + "check/clean-plain.html")],
    )  # fmt: skip
    assert [e.kind for e in frozen.failing] == ["crash"], frozen.failing
    assert "stopped responding" in frozen.failing[0].text.lower(), frozen.failing[0].text
    assert not clean.failed, (clean.reason, [e.text for e in clean.failing])
    assert len(contexts_taken) == 2 and contexts_taken[0] is not contexts_taken[1]


def test_a_page_that_reached_more_origins_than_are_remembered_leaves_a_fresh_context(
    browser_loop: Any, pages_url: str, tmp_path: Path, contexts_taken: list[Any]
) -> None:
    """Storage is cleared per origin: past MAX_ORIGINS the capture stops counting, so the
    context cannot be known clean and is not used again."""
    _many, clean = check_one_by_one(
        browser_loop, tmp_path,
        [url_target(pages_url + "lanes/many-origins.html"), url_target(pages_url + "check/clean-plain.html")],
    )  # fmt: skip
    assert not clean.failed, (clean.reason, [e.text for e in clean.failing])
    assert len(contexts_taken) == 2 and contexts_taken[0] is not contexts_taken[1]


def test_a_dialog_of_the_run_is_the_runs_and_one_raised_by_the_reset_does_not_hold_it(
    browser_loop: Any, pages_url: str, tmp_path: Path
) -> None:
    """The lane listens for dialogs for the context's whole life (one subscription). During a run the run's capture answers them as in a fresh context:
    it dismisses the beforeunload dialog, and the page stays. The same dialog raised by the
    reset's about:blank is accepted, and the context is reused."""
    read = pages_url + "lanes/read-state.html"
    asks = Scenario(
        name="asks",
        steps=[Goto(url=pages_url + "lanes/asks-to-stay.html"), Click(selector="#go"), Goto(url=read)],
    )

    async def runs(browser: Any) -> tuple[RunResult, RunResult, bool, Lane]:
        fresh = await run_scenario(asks, browser, options(tmp_path, "fresh"))
        lane = Lane(browser)
        try:
            asked = await run_scenario(asks, browser, options(tmp_path, "asks"), lane=lane)
            first = lane.context
            after = await run_scenario(flow(read), browser, options(tmp_path, "after"), lane=lane)
            state_of(after)
            return fresh, asked, first is not None and lane.context is first, lane
        finally:
            await lane.close()

    fresh, asked, reused, lane = browser_loop.run(runs)
    dialogs = ["alert: are you sure?", "beforeunload: "]
    for result in (fresh, asked):
        assert [e.text for e in result.events if e.kind == "dialog"] == dialogs
        assert (result.outcome.status, result.outcome.failed_step) == ("step_failed", 3)
        assert "ERR_ABORTED" in result.outcome.message, result.outcome
    assert reused, lane.spoiled
    assert not lane.problems


def test_runs_in_a_reused_context_open_no_session_and_change_no_subscription(
    browser_loop: Any, pages_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What makes a lane's page cheap: its console session and the driver's event
    subscriptions are set up once per context, not once per run (26 round trips a page),
    and the page is asked its timers (and reset) through that session, not through
    Playwright's evaluate, which first installs a helper script in each document."""
    from playwright._impl.channel_owner import ChannelOwner
    from playwright.async_api import BrowserContext, Page

    evaluated: list[str] = []
    evaluate = Page.evaluate

    async def watched_evaluate(page: Any, expression: str, *args: Any, **kwargs: Any) -> Any:
        evaluated.append(expression)
        return await evaluate(page, expression, *args, **kwargs)

    monkeypatch.setattr(Page, "evaluate", watched_evaluate)
    sessions: list[Any] = []
    subscriptions: list[tuple[str, bool]] = []
    new_session, subscribe = BrowserContext.new_cdp_session, ChannelOwner._update_subscription

    async def watched_session(context: Any, page: Any) -> Any:
        sessions.append(page)
        return await new_session(context, page)

    def watched_subscribe(owner: Any, event: str, enabled: bool) -> None:
        if owner._event_to_subscription_mapping.get(str(event)):  # a message to the driver
            subscriptions.append((str(event), enabled))
        subscribe(owner, event, enabled)

    monkeypatch.setattr(BrowserContext, "new_cdp_session", watched_session)
    monkeypatch.setattr(ChannelOwner, "_update_subscription", watched_subscribe)
    url = pages_url + "check/clean-plain.html"
    pages = check_one_by_one(browser_loop, tmp_path, [url_target(f"{url}?{i}") for i in range(3)])
    assert [p.failed for p in pages] == [False, False, False]
    assert len(sessions) == 1
    assert evaluated == [] or evaluated == ["navigator.userAgent"]  # once per browser
    assert sorted(subscriptions) == sorted(
        (event, True) for event in ("request", "response", "requestfailed", "requestfinished", "dialog")
    )


def test_a_flow_gets_a_context_of_its_own(
    browser_loop: Any, pages_url: str, tmp_path: Path, contexts_taken: list[Any]
) -> None:
    url = pages_url + "check/clean-plain.html"
    flows = [replace(url_target(u), plain=False) for u in (url, url + "?again")]
    pages = check_one_by_one(browser_loop, tmp_path, flows)
    assert [p.failed for p in pages] == [False, False]
    assert contexts_taken == []


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("http://127.0.0.1:8000/a/b?c#d", "http://127.0.0.1:8000"),
        ("https://user:secret@Example.COM/x", "https://example.com"),
        ("HTTP://h", "http://h"),
        ("ws://h/socket", None),
        ("data:text/html,hi", None),
        ("blob:http://h/uuid", None),
        ("http://[::1]:9/", "http://[::1]:9"),
    ],
)
def test_the_origin_a_request_leaves_storage_in(url: str, origin: str | None) -> None:
    assert _origin(url) == origin


def test_a_context_serves_its_share_of_pages_with_the_same_settings(
    browser_loop: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("collector.lanes.PAGES_PER_CONTEXT", 2)

    async def contexts(browser: Any) -> list[Any]:
        lane = Lane(browser)
        seen = []
        try:
            for settings in ({}, {}, {}, {"locale": "de-DE"}):
                context, _page = await lane.take(settings)
                seen.append(context)
                await lane.give_back(set())
        finally:
            await lane.close()
        return seen

    first, second, third, fourth = browser_loop.run(contexts)
    assert first is second and third is not second and fourth is not third


# A step of each kind LASTING_STEPS names, after which read-input.html would see a
# difference if the next run had the same page.
LASTING: dict[str, StepBase] = {
    "key_down": KeyDown(key="Shift"),
    "set_viewport": SetViewport(width=300, height=400),
    "emulate_network": EmulateNetwork(offline=True),
    "close": Close(),
}


def test_each_lasting_step_kind_has_a_case() -> None:
    assert set(LASTING) == LASTING_STEPS
    assert lasting_step([Click(selector="#a"), Close(), KeyDown(key="a")]) == "close"
    assert lasting_step([KeyUp(key="Shift"), Goto(url="/")]) is None


@pytest.mark.parametrize("kind", sorted(LASTING))
def test_a_step_no_reset_undoes_leaves_the_next_run_a_fresh_context(
    browser_loop: Any, pages_url: str, tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    read = pages_url + "lanes/read-input.html"
    probe = Scenario(
        name="probe",
        steps=[Goto(url=read), Click(selector="#probe"), WaitFor(selector="#done", state="attached")],
    )
    before = Scenario(name=kind, steps=[Goto(url=read), LASTING[kind]])

    async def states(browser: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        fresh = await run_scenario(probe, browser, options(tmp_path, "fresh"))
        lane = Lane(browser)
        try:
            await run_scenario(before, browser, options(tmp_path, "before"), lane=lane)
            after = await run_scenario(probe, browser, options(tmp_path, "after"), lane=lane)
        finally:
            await lane.close()
        return seen(fresh), seen(after)

    def seen(result: RunResult) -> dict[str, Any]:
        # The control's offline page does not even load: that is what it saw.
        return state_of(result) if result.outcome.status == "clean" else vars(result.outcome)

    fresh, after = browser_loop.run(states)
    assert after == fresh
    if kind != "close":  # a closed page cannot be reused whatever the runner says
        # The control: the lane kept for the next run, the same step leaves its mark.
        monkeypatch.setattr("collector.runner.lasting_step", lambda _steps: None)
        _fresh, kept = browser_loop.run(states)
        assert kept != fresh, kind
