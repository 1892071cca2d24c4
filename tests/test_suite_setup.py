"""The test suite's own set-up: which commands share the session's browser, and the
module order `make test` schedules by."""

from __future__ import annotations

from pathlib import Path

from conftest import LONGEST_FIRST
from shared_browser import attached, shared_browser


def test_browser_commands_attach_to_the_shared_browser() -> None:
    url = shared_browser().cdp_url
    assert url.startswith("http://127.0.0.1:")
    assert attached(["repro", "s.yaml", "--out", "o"]) == [
        "repro",
        "s.yaml",
        "--out",
        "o",
        "--cdp",
        url,
    ]
    assert attached(["check", "u.txt"])[-2:] == ["--cdp", url]


def test_a_test_that_chooses_its_browser_keeps_it() -> None:
    for choice in (
        ["--connect", "ws://x/"],
        ["--cdp", "http://x"],
        ["--browser-path", "/c"],
        ["--headed"],
    ):
        assert attached(["repro", "s.yaml", *choice]) == ["repro", "s.yaml", *choice]


def test_commands_without_a_browser_are_left_alone() -> None:
    for args in (["ticket", "b"], ["validate", "s.yaml"], ["doctor"], []):
        assert attached(args) == args


def test_the_longest_modules_named_first_exist() -> None:
    here = Path(__file__).parent
    assert [m for m in LONGEST_FIRST if not (here / f"{m}.py").is_file()] == []
