"""Steps behave exactly as Playwright's calls do: URL globs are Playwright globs (relative
patterns resolved as Playwright resolves them), a step has one timeout whatever it tries,
and its error says why Playwright gave up. Real Chromium, pages on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from collector.bundle import BundleOptions
from collector.repro import Reproduction, reproduce
from collector.runner import RunOptions
from collector.scenario import load_scenario, scenario_from_document
from collector.yamlsource import SourceDocument

pytestmark = pytest.mark.browser
EXAMPLES = Path(__file__).parent.parent / "examples"


def run(browser_loop: Any, tmp_path: Path, data: dict[str, Any], **options: Any) -> Reproduction:
    scenario = scenario_from_document(SourceDocument("test.yaml", data), env={})
    run_options = RunOptions(linger_s=0.2, env={}, **options)
    return browser_loop.run(
        lambda browser: reproduce(
            scenario,
            browser_options=None,  # type: ignore[arg-type]
            run_options=run_options,
            bundle_options=BundleOptions(out_dir=tmp_path / "reports"),
            browser=browser,
        )
    )


def steps_of(done: Reproduction) -> list[dict[str, Any]]:
    return json.loads((done.bundle / "report.json").read_text(encoding="utf-8"))["steps"]


def test_the_example_of_every_step_kind_runs_to_the_end(
    browser_loop: Any, pages_url: str, tmp_path: Path
) -> None:
    scenario = load_scenario(EXAMPLES / "all-step-kinds.yaml")
    options = RunOptions(linger_s=0.2, base_url=pages_url, scenario_dir=EXAMPLES)
    done = browser_loop.run(
        lambda browser: reproduce(
            scenario,
            browser_options=None,  # type: ignore[arg-type]
            run_options=options,
            bundle_options=BundleOptions(out_dir=tmp_path / "reports"),
            browser=browser,
        )
    )
    failed = [s for s in steps_of(done) if s["status"] == "failed"]
    assert failed == []
    assert done.result.outcome.status == "clean", done.result.outcome


@pytest.mark.parametrize(
    ("pattern", "matches"),
    [
        ("{base}check/clean-*", True),  # `*` within a path segment
        ("{base}check/*.html", True),
        ("{base}*.html", False),  # ... but not across a `/`
        ("{base}**/clean-plain.html", True),
        ("**/clean-plain.html", True),  # relative to nothing: matches anywhere
        ("check/clean-plain.html", True),  # relative: resolved against the base URL
        ("check/clean-{plain,dom-work}.html", True),
        ("{base}check/clean-plain.html?x", False),  # `?` is a literal in Playwright's globs
    ],
)
def test_url_patterns_are_playwright_globs(
    browser_loop: Any, pages_url: str, tmp_path: Path, pattern: str, matches: bool
) -> None:
    url = pattern.replace("{base}", pages_url)
    data = {
        "url": pages_url,
        "steps": [
            {"goto": "check/clean-plain.html"},
            {"expect_url": {"url": url, "timeout": 1500}},
            {"wait_for_url": {"url": url, "timeout": 1500}},
        ],
    }
    records = steps_of(run(browser_loop, tmp_path, data))
    if matches:
        assert [s["status"] for s in records] == ["ok", "ok", "ok"], records
    else:
        assert records[1]["status"] == "failed"
        assert records[1]["error"] == (
            f"expected URL {url}, the page is at {pages_url}check/clean-plain.html"
        )


def test_a_select_on_a_hidden_element_says_so_within_one_timeout(
    browser_loop: Any, pages_url: str, tmp_path: Path
) -> None:
    data = {
        "url": pages_url,
        "steps": [
            {"goto": "hidden-select.html"},
            {"select": {"selector": "#size", "value": "m", "timeout": 3000}},
        ],
    }
    step = steps_of(run(browser_loop, tmp_path, data))[1]
    assert step["status"] == "failed"
    assert step["error"] == "Timeout 3000ms exceeded: element is not visible"
    # It used to try by value, then by label with a fresh timeout: twice the budget.
    assert step["duration_ms"] < 5500


@pytest.mark.parametrize(
    ("step", "error"),
    [
        ({"select": {"selector": "#colour", "value": "red"}},
         "Timeout 1500ms exceeded: element is not enabled"),
        ({"select": {"selector": "#go", "value": "red"}},
         "Error: Element is not a <select> element"),
        ({"click": "#missing"}, 'Timeout 1500ms exceeded: no element matches locator("#missing")'),
    ],
)  # fmt: skip
def test_step_errors_carry_playwrights_reason(
    browser_loop: Any, pages_url: str, tmp_path: Path, step: dict[str, Any], error: str
) -> None:
    data = {"url": pages_url, "timeout": 1500, "steps": [{"goto": "hidden-select.html"}, step]}
    assert steps_of(run(browser_loop, tmp_path, data))[1]["error"] == error


def test_select_by_label_or_value_in_one_call(
    browser_loop: Any, pages_url: str, tmp_path: Path
) -> None:
    data = {
        "url": pages_url,
        "steps": [
            {"goto": "hidden-select.html"},
            {"select": {"selector": "#shade", "value": "Light"}},
            {"evaluate": "if (document.querySelector('#shade').value !== 'l') throw 1"},
            {"select": {"selector": "#shade", "value": "d"}},
            {"evaluate": "if (document.querySelector('#shade').value !== 'd') throw 1"},
        ],
    }
    assert {s["status"] for s in steps_of(run(browser_loop, tmp_path, data))} == {"ok"}


def test_a_fill_of_a_select_chooses_the_option_and_a_fill_error_stays_the_steps(
    browser_loop: Any, pages_url: str, tmp_path: Path
) -> None:
    """A fill is sent together with the question of what the element is: the fill's error
    on a <select> is dropped for a choice, and on anything else it is the step's error."""
    data = {
        "url": pages_url,
        "timeout": 1500,
        "steps": [
            {"goto": "hidden-select.html"},
            {"fill": {"selector": "#shade", "value": "l"}},
            {"evaluate": "if (document.querySelector('#shade').value !== 'l') throw 1"},
            {"fill": {"selector": "#go", "value": "text"}},
        ],
    }
    steps = steps_of(run(browser_loop, tmp_path, data))
    assert [s["status"] for s in steps] == ["ok", "ok", "ok", "failed"]
    assert steps[3]["error"].startswith("Error: Element is not an <input>"), steps[3]["error"]


def test_an_alternative_that_cannot_be_used_says_why(
    browser_loop: Any, pages_url: str, tmp_path: Path
) -> None:
    data = {
        "url": pages_url,
        "steps": [
            {"goto": "hidden-select.html"},
            {"click": {"selector": ["#nothing", "[unclosed"], "timeout": 1000}},
        ],
    }
    missing = steps_of(run(browser_loop, tmp_path, data))[1]
    assert missing["status"] == "failed"
    assert "none of the 2 selectors matched" in missing["error"]
    assert "not usable: [unclosed (" in missing["error"], missing["error"]


def test_the_alternative_that_matched_is_the_one_named(
    browser_loop: Any, pages_url: str, tmp_path: Path
) -> None:
    data = {
        "url": pages_url,
        "steps": [
            {"goto": "hidden-select.html"},
            {"click": ['[aria-label="Go to checkout"]', 'text="Go to checkout"']},
            {"click": {"selector": ["#nothing", "#neither"], "timeout": 1000}},
        ],
    }
    done = run(browser_loop, tmp_path, data)
    click, missing = steps_of(done)[1:]
    assert click["target"] == click["matched_selector"] == 'text="Go to checkout"'
    ticket = (done.bundle / "ticket.md").read_text(encoding="utf-8")
    assert 'text="Go to checkout"' in ticket
    assert '[aria-label="Go to checkout"]' not in ticket
    # When none matched, the first (recorded) alternative still names the step.
    assert missing["target"] == "#nothing"
