"""A step's error keeps the reason from Playwright's call log (no browser needed:
the messages are Playwright's own, copied from real failures)."""

from __future__ import annotations

import pytest

from collector.errors import step_error

HIDDEN = (
    'Locator.select_option: Timeout 1500ms exceeded.\nCall log:\n  - waiting for locator("#h")\n'
    '    - locator resolved to <select id="h">…</select>\n  - attempting select option action\n'
    "    2 × waiting for element to be visible and enabled\n      - element is not visible\n"
    "    - retrying select option action\n    - waiting 20ms\n"
)
COVERED = (
    'Locator.click: Timeout 1500ms exceeded.\nCall log:\n  - waiting for locator("#c")\n'
    '    - locator resolved to <button id="c">c</button>\n  - attempting click action\n'
    "    2 × waiting for element to be visible, enabled and stable\n"
    "      - element is visible, enabled and stable\n      - scrolling into view if needed\n"
    '      - done scrolling\n      - <div id="cover"></div> intercepts pointer events\n'
    "    - retrying click action\n"
)


@pytest.mark.parametrize(
    ("message", "budget", "expected"),
    [
        (HIDDEN, 15000, "Timeout 15000ms exceeded: element is not visible"),
        (COVERED, None, 'Timeout 1500ms exceeded: <div id="cover"></div> intercepts pointer events'),
        ('Locator.click: Timeout 1500ms exceeded.\nCall log:\n  - waiting for locator("#zz")\n',
         None, 'Timeout 1500ms exceeded: no element matches locator("#zz")'),
        ('Page.goto: Timeout 3000ms exceeded.\nCall log:\n  - navigating to "http://x/", '
         'waiting until "load"\n', 3000, "Timeout 3000ms exceeded."),
        ("Locator.fill: Error: Element is not an <input>, <textarea> or [contenteditable] element"
         '\nCall log:\n  - waiting for locator("#s")\n', None,
         "Error: Element is not an <input>, <textarea> or [contenteditable] element"),
    ],
)  # fmt: skip
def test_step_error(message: str, budget: int | None, expected: str) -> None:
    assert step_error(Exception(message), budget) == expected
