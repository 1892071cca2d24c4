"""Pure parts of the pytest plugin: bundle folder names and scenario comments (no browser)."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from collector.either_api import drive
from collector.pytest_plugin import _free_name, bundle_name, slug
from collector.pytest_recorder import (
    ActionRecorder,
    Recorded,
    _probe,
    _timeout_ms,
)
from collector.scenario import Click, Fill, Goto, Scenario, scenario_to_yaml

IDS = ["a b", "a/b", "a-b", "a:b", "a--b", "a.b", "a_b", "ä-b", "a\\b", "a\nb"]


def test_ids_that_differ_only_in_punctuation_get_their_own_folder() -> None:
    nodeids = [f"tests/test_x.py::test_err[chromium-{i}]" for i in IDS]
    names = [bundle_name(n) for n in nodeids]
    assert len(set(names)) == len(names)
    assert all(n.startswith("tests-test_x.py-test_err-chromium-a") for n in names[:4])
    # Stable: the same id gives the same folder in every run and on every worker.
    assert names == [bundle_name(n) for n in nodeids]
    # 8 hex of sha1("t.py::test_a[chromium]"): the folder name is a documented format.
    assert bundle_name("t.py::test_a[chromium]") == "t.py-test_a-chromium-e7acd402"


def test_bundle_names_are_safe_folder_names_of_bounded_length() -> None:
    for nodeid in ["../../etc::x", "::", "." * 300, "a" * 1000, "x/\x00/y", "\udcff"]:
        name = bundle_name(nodeid)
        assert "/" not in name and "\x00" not in name and not name.startswith(".")
        assert len(name) <= 109
    assert slug("..") == "test"


def test_a_folder_of_the_users_with_the_name_is_kept(tmp_path: Path) -> None:
    name = bundle_name("t.py::test_a[chromium]")
    assert _free_name(tmp_path, name) == name
    (tmp_path / name).mkdir()  # not ours: no report.json
    assert _free_name(tmp_path, name) == f"{name}-2"
    (tmp_path / name / "report.json").write_text("{}")  # an earlier bundle: ours to replace
    assert _free_name(tmp_path, name) == name


def test_comments_sit_where_the_unrecorded_calls_were() -> None:
    recorder = ActionRecorder(owns_page=lambda _p: True, main_page=lambda: None)
    recorder.records = [
        Recorded(None, comment="page.route() has no step equivalent"),
        Recorded(Goto(url="http://127.0.0.1:1/")),
        Recorded(None, comment="page.mouse.move() has no step equivalent"),
        Recorded(Click(selector="#pay")),
        Recorded(None, comment="page.unroute() has no step equivalent"),
    ]
    assert recorder.comments() == {
        0: ["page.route() has no step equivalent"],
        1: ["page.mouse.move() has no step equivalent"],
        2: ["page.unroute() has no step equivalent"],
    }
    assert recorder.warnings()[1] == "not replayable: page.mouse.move() has no step equivalent"
    scenario = Scenario(name="t", steps=recorder.steps())
    text = scenario_to_yaml(scenario, recorder.comments())
    assert text == (
        "name: t\n"
        "steps:\n"
        "  # page.route() has no step equivalent\n"
        "  - goto: http://127.0.0.1:1/\n"
        "  # page.mouse.move() has no step equivalent\n"
        "  - click: '#pay'\n"
        "  # page.unroute() has no step equivalent\n"
    )
    assert yaml.safe_load(text) == yaml.safe_load(scenario_to_yaml(scenario))


def test_a_password_becomes_a_variable_once_per_value() -> None:
    recorder = ActionRecorder(owns_page=lambda _p: True, main_page=lambda: None)
    first = Recorded(Fill(selector="#pw", value="s3cret"))
    again = Recorded(Fill(selector="#pw2", value="s3cret"))
    other = Recorded(Fill(selector="#pin", value="1234"))
    for record in (first, again, other):
        recorder.typed_into_password(record)
    assert [r.step.value for r in (first, again, other)] == [  # type: ignore[union-attr]
        "${COLLECTOR_PASSWORD_1}",
        "${COLLECTOR_PASSWORD_1}",
        "${COLLECTOR_PASSWORD_2}",
    ]
    assert recorder.secrets == ["s3cret", "1234"]
    assert recorder.secret_names == ["COLLECTOR_PASSWORD_1", "COLLECTOR_PASSWORD_2"]


def test_new_workspace_draws_again_when_another_process_took_the_reference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two xdist workers can draw the same reference in the same tick: both see it free,
    # one mkdir wins. The other must draw again, not fail.
    from collector import workspace as bundle

    drawn = iter(["CR-20260101-AAAAAA", "CR-20260101-BBBBBB"])
    monkeypatch.setattr(bundle, "new_reference", lambda exists: next(drawn))
    # The other worker's, made just now (on another machine sharing the folder, say).
    rival = tmp_path / ".CR-20260101-AAAAAA.pid-4242@elsewhere.partial"
    rival.mkdir()
    workspace = bundle.new_workspace(tmp_path, name="t.py-test_a-chromium-e7acd402")
    assert workspace.reference == "CR-20260101-BBBBBB"
    assert workspace.path == tmp_path / bundle.partial_name("CR-20260101-BBBBBB")
    assert workspace.path.is_dir() and rival.is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([rival.name, workspace.path.name])


def test_a_test_timeout_becomes_the_step_timeout_when_a_scenario_allows_it() -> None:
    assert _timeout_ms(5000) == 5000
    assert _timeout_ms(1500.7) == 1500
    assert _timeout_ms(datetime.timedelta(seconds=2)) == 2000
    # No timeout (0), none given, or longer than a scenario allows: replay's default.
    assert [_timeout_ms(v) for v in (0, None, 10**9, True, "5000")] == [None] * 5


def test_a_value_whose_field_cannot_be_probed_is_kept_as_a_secret() -> None:
    """Unsure is secret: a probe that fails (the element went away) never lets a value out."""
    import asyncio

    def gone() -> bool:
        raise RuntimeError("element is detached")

    async def gone_async() -> bool:
        raise RuntimeError("element is detached")

    async def text_field() -> bool:
        return False

    recorder = ActionRecorder(owns_page=lambda _p: True, main_page=lambda: None)
    sync = Recorded(Fill(selector="#pw", value="hunter2"), probe=gone)
    later = Recorded(Fill(selector="#pw", value="hunter3"), probe=gone_async)
    plain = Recorded(Fill(selector="#name", value="Ana"), probe=text_field)
    drive(_probe(recorder, sync))  # the sync API: nothing suspends
    asyncio.run(_probe(recorder, later))
    asyncio.run(_probe(recorder, plain))
    assert [r.step.value for r in (sync, later, plain)] == [  # type: ignore[union-attr]
        "${COLLECTOR_PASSWORD_1}",
        "${COLLECTOR_PASSWORD_2}",
        "Ana",
    ]
    assert recorder.secrets == ["hunter2", "hunter3"]


@pytest.mark.browser
def test_base_url_of_reads_the_context_s_base_url(browser_loop: Any) -> None:
    from collector.pytest_recorder import base_url_of

    async def base_urls(browser: Any) -> list[str | None]:
        found = []
        for options in ({"base_url": "http://127.0.0.1:9/shop/"}, {}):
            context = await browser.new_context(**options)
            page = await context.new_page()
            found.append(base_url_of(page._impl_obj))
            await context.close()
        return found

    assert browser_loop.run(base_urls) == ["http://127.0.0.1:9/shop/", None]
