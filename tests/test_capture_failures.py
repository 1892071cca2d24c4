"""What capture and the steps could not do is said in the report, never swallowed.

Real Chromium against pages served on 127.0.0.1: a child target that is gone
by the time its console is enabled, and a page whose script breaks the probe
that learns which typed values are passwords.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from collector.capture import Capture
from collector.runner import RunOptions, run_scenario
from collector.scenario import Scenario, scenario_from_document
from collector.yamlsource import SourceDocument

pytestmark = pytest.mark.browser

# Long enough for any load; a fixed capture returns as soon as the browser answers.
SETTLE_S = 60.0


def test_a_child_target_gone_before_its_console_is_enabled_is_noted_not_waited_for(
    browser_loop: Any, pages_url: str
) -> None:
    other_site = pages_url.replace("127.0.0.1", "localhost")  # an out-of-process iframe

    async def provoke(browser: Any) -> tuple[list[str], bool, bool]:
        context = await browser.new_context()
        try:
            capture = Capture()
            await capture.attach(context, browser)
            page = await context.new_page()
            await capture.settle(SETTLE_S)
            await page.goto(f"{pages_url}clean.html")
            await page.evaluate(
                "url => { const f = document.createElement('iframe'); f.src = url;"
                " document.body.append(f); }",
                f"{other_site}clean.html",
            )
            [console] = capture.consoles
            child = await until(lambda: next(iter(console.children), None))
            await page.evaluate("document.querySelector('iframe').remove()")
            await until(lambda: child not in console.children or None)
            # DevTools announces the (now closed) child again: enabling its console fails.
            console.child_attached({"sessionId": child, "targetInfo": {"type": "iframe",
                                    "url": f"{other_site}clean.html"}})  # fmt: skip
            waiting = not capture.attached()
            await capture.settle(SETTLE_S)
            return capture.problems, waiting, capture.attached()
        finally:
            await context.close()

    problems, waited_at_first, attached = browser_loop.run(provoke)
    assert waited_at_first  # the wait for the replay is real...
    assert attached  # ...and ends with the browser's refusal, not with the timeout
    label = f"console of page 1 frame {pages_url.replace('127.0.0.1', 'localhost')}clean.html"
    failed = sorted(p.split(" failed: ", 1)[0] for p in problems if " failed: " in p)
    assert failed == [f"{label}: Log.enable", f"{label}: Runtime.enable"], problems
    assert not any("unanswered" in p for p in problems)


async def until(value: Any, seconds: float = SETTLE_S) -> Any:
    """Poll ``value()`` until it is not None (a deadline only for a broken browser)."""
    deadline = time.monotonic() + seconds
    while (found := value()) is None:
        if time.monotonic() > deadline:
            raise AssertionError("the browser never got there")
        await asyncio.sleep(0.02)
    return found


def scenario(data: dict[str, Any]) -> Scenario:
    return scenario_from_document(SourceDocument("test.yaml", data), env={})


@pytest.mark.parametrize(
    ("step", "unsure"),
    [
        # A type step asks the field's kind in the page's world, where this page breaks it.
        ({"type": {"selector": "#pin", "text": "4711-0815"}}, True),
        # A fill asks in Playwright's own world, which the page's override does not reach.
        ({"fill": {"selector": "#pin", "value": "4711-0815"}}, False),
    ],
)
def test_a_page_that_breaks_the_question_of_a_fields_kind_loses_no_secret(
    browser_loop: Any, pages_url: str, tmp_path: Path, step: dict[str, Any], unsure: bool
) -> None:
    steps = scenario({"url": pages_url, "steps": [{"goto": "probe-hostile.html"}, step]})
    options = RunOptions(linger_s=0, env={}, work_dir=tmp_path)
    result = browser_loop.run(lambda browser: run_scenario(steps, browser, options))
    assert [s.status for s in result.steps] == ["ok", "ok"]
    assert "4711-0815" in result.secrets  # redacted everywhere, screenshots masked
    assert result.steps[1].value == "[REDACTED]"
    notes = [p for p in result.problems if "password field" in p]
    if unsure:
        [note] = notes
        assert note.startswith("step 2: could not tell whether the field is a password field (")
        assert "4711-0815" not in note
    else:
        assert notes == []
