"""Fingerprints: what must group together and what must stay apart."""

from __future__ import annotations

import re

import pytest

from collector.fingerprint import (
    compare_fingerprints,
    fingerprint,
    group_errors,
    normalise_message,
    top_frame,
)
from collector.report import Event

STACK_A = """TypeError: Cannot read properties of undefined (reading 'card')
    at pay (http://127.0.0.1:8123/static/app.js:12:5)
    at HTMLButtonElement.onclick (http://127.0.0.1:8123/checkout.html:40:1)"""
STACK_A_OTHER_PORT_AND_LINES = """TypeError: Cannot read properties of undefined (reading 'card')
    at pay (http://localhost:9001/static/app.js?v=7:14:9)
    at HTMLButtonElement.onclick (http://localhost:9001/checkout.html:41:1)"""
STACK_OTHER_FUNCTION = """TypeError: Cannot read properties of undefined (reading 'card')
    at refund (http://127.0.0.1:8123/static/app.js:12:5)"""
STACK_OTHER_FILE = """TypeError: Cannot read properties of undefined (reading 'card')
    at pay (http://127.0.0.1:8123/static/legacy.js:12:5)"""

MESSAGE = "Cannot read properties of undefined (reading 'card')"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (MESSAGE, MESSAGE),
        ("Order 1234 failed after 3.5 s", "Order <val> failed after <val> s"),
        ("bad pointer 0x7ffe12AB", "bad pointer <val>"),
        ("chunk a3f9c2e1b7 missing", "chunk <val> missing"),
        ("a deadline is not hex", "a deadline is not hex"),
        ("user 550e8400-e29b-41d4-a716-446655440000 gone", "user <val> gone"),
        ("at 2024-05-01T10:20:30.123Z", "at <time>"),
        ("at 2024-05-01 10:20:30+01:00 sharp", "at <time> sharp"),
        ("on 2024-05-01 only", "on <time> only"),
        ("time 10:20:30.5 elapsed", "time <time> elapsed"),
        ("GET http://127.0.0.1:8123/app.js?v=3&t=9 404", "GET <origin>/app.js <4xx>"),
        ("see https://shop.example.com/orders/42#frag", "see <origin>/orders/<val>"),
        ("origin only http://127.0.0.1:8123 down", "origin only <origin> down"),
        ("img data:image/png;base64,iVBORw0KGgo= broken", "img <data-url> broken"),
        ("Unknown value 'Lisbon, PT'", "Unknown value '<str>'"),
        ('Unknown value "a b c"', 'Unknown value "<str>"'),
        ("template `x-1 y`", "template `<str>`"),
        ("reading `total`", "reading `total`"),
        ("Can't find variable: foo", "Can't find variable: foo"),
        ("  many   spaces\n\tand lines  ", "many spaces and lines"),
    ],
)
def test_normalise_message(text: str, expected: str) -> None:
    assert normalise_message(text) == expected


def test_normalise_message_reads_only_the_first_2000_chars() -> None:
    assert normalise_message("x" * 5_000) == "x" * 2_000
    assert normalise_message("a" * 2_000 + " 1") == normalise_message("a" * 2_000 + " 2")


@pytest.mark.parametrize(
    ("stack", "expected"),
    [
        (None, None),
        ("", None),
        ("Error: no frames here", None),
        (STACK_A, "pay@/static/app.js"),
        (STACK_A_OTHER_PORT_AND_LINES, "pay@/static/app.js"),
        ("Error\n    at http://127.0.0.1:8123/a.js:3:4", "<anonymous>@/a.js"),
        ("Error\n    at async pay (http://h:1/a.js:3:4)", "pay@/a.js"),
        ("Error\n    at new Cart (http://h:1/cart.js:1:2)", "new Cart@/cart.js"),
        ("Error\n    at Array.forEach (<anonymous>)", "Array.forEach@<anonymous>"),
        ("Error\n    at <anonymous>:1:7", "<anonymous>@<anonymous>"),
        (
            "Error\n    at eval (eval at run (http://h:1/a.js:3:4), <anonymous>:1:1)",
            "eval@eval at run (/a.js), <anonymous>",
        ),
        ("Error\n    at f (http://h:1/app.3f9a8b7c1.js:1:2)", "f@/app.<val>.js"),
        ("pay@http://127.0.0.1:8123/a.js:1:2\n@http://h/b.js:1:1", "pay@/a.js"),
    ],
)
def test_top_frame(stack: str | None, expected: str | None) -> None:
    assert top_frame(stack) == expected


SAME = [
    pytest.param(
        ("page_error", "TypeError: " + MESSAGE, STACK_A, None),
        ("page_error", "TypeError: " + MESSAGE, STACK_A_OTHER_PORT_AND_LINES, None),
        id="other-port-and-lines",
    ),
    pytest.param(
        ("console", "Order 1234 could not be paid", None, None),
        ("console", "Order 98 could not be paid", None, None),
        id="numbers",
    ),
    pytest.param(
        ("console", "session 550e8400-e29b-41d4-a716-446655440000 expired", None, None),
        ("console", "session 123e4567-e89b-12d3-a456-426614174000 expired", None, None),
        id="uuids",
    ),
    pytest.param(
        ("console", "stale since 2024-05-01T10:20:30Z", None, None),
        ("console", "stale since 2025-11-25T23:59:01.999+01:00", None, None),
        id="timestamps",
    ),
    pytest.param(
        ("console", "object at 0x7f3a2b", None, None),
        ("console", "object at 0x11", None, None),
        id="hex",
    ),
    pytest.param(
        (
            "console",
            "Failed to load resource: the server responded with a status of 404",
            None,
            "http://127.0.0.1:8123/img/logo.png?v=1",
        ),
        (
            "console",
            "Failed to load resource: the server responded with a status of 404",
            None,
            "http://127.0.0.1:9999/img/logo.png?v=2",
        ),
        id="console-source-url-other-port-and-query",
    ),
    pytest.param(
        ("http_error", "500 Internal Server Error", None, "http://127.0.0.1:8123/api/pay?order=1"),
        ("http_error", "500 Internal Server Error", None, "http://localhost:4000/api/pay?order=2"),
        id="http-other-port-query",
    ),
    pytest.param(
        ("http_error", "HTTP 404 GET http://127.0.0.1:8123/api/orders/123", None, None),
        ("http_error", "HTTP 404 POST http://127.0.0.1:8124/api/orders/456", None, None),
        id="http-url-in-text-ids-and-method",
    ),
    pytest.param(
        ("request_failed", "net::ERR_CONNECTION_REFUSED", None, "http://127.0.0.1:1/api/x?t=1"),
        ("request_failed", "net::ERR_CONNECTION_REFUSED", None, "http://127.0.0.1:2/api/x?t=2"),
        id="request-failed-other-port",
    ),
]

DIFFERENT = [
    pytest.param(
        ("page_error", "TypeError: " + MESSAGE, STACK_A, None),
        ("page_error", "ReferenceError: " + MESSAGE, STACK_A, None),
        id="exception-type",
    ),
    pytest.param(
        (
            "page_error",
            "TypeError: Cannot read properties of undefined (reading 'card')",
            None,
            None,
        ),
        (
            "page_error",
            "TypeError: Cannot read properties of undefined (reading 'total')",
            None,
            None,
        ),
        id="property-name",
    ),
    pytest.param(
        ("page_error", "TypeError: " + MESSAGE, STACK_A, None),
        ("page_error", "TypeError: " + MESSAGE, STACK_OTHER_FUNCTION, None),
        id="top-frame-function",
    ),
    pytest.param(
        ("page_error", "TypeError: " + MESSAGE, STACK_A, None),
        ("page_error", "TypeError: " + MESSAGE, STACK_OTHER_FILE, None),
        id="top-frame-file",
    ),
    pytest.param(
        ("console", "TypeError: " + MESSAGE, None, None),
        ("page_error", "TypeError: " + MESSAGE, None, None),
        id="kind",
    ),
    pytest.param(
        (
            "console",
            "Failed to load resource: the server responded with a status of 404",
            None,
            "http://127.0.0.1:8123/img/logo.png",
        ),
        (
            "console",
            "Failed to load resource: the server responded with a status of 404",
            None,
            "http://127.0.0.1:8123/img/banner.png",
        ),
        id="console-source-path",
    ),
    pytest.param(
        ("http_error", "500 Internal Server Error", None, "http://127.0.0.1:8123/api/pay"),
        ("http_error", "502 Bad Gateway", None, "http://127.0.0.1:8123/api/pay"),
        id="http-status",
    ),
    pytest.param(
        ("http_error", "500 Internal Server Error", None, "http://127.0.0.1:8123/api/pay"),
        ("http_error", "500 Internal Server Error", None, "http://127.0.0.1:8123/api/refund"),
        id="http-path",
    ),
    pytest.param(
        ("request_failed", "net::ERR_CONNECTION_REFUSED", None, "http://127.0.0.1:1/api/x"),
        ("request_failed", "net::ERR_ABORTED", None, "http://127.0.0.1:1/api/x"),
        id="net-error-code",
    ),
    pytest.param(
        ("http_error", "500", None, "http://127.0.0.1:8123/api/pay"),
        ("request_failed", "500", None, "http://127.0.0.1:8123/api/pay"),
        id="network-kind",
    ),
]


@pytest.mark.parametrize(("a", "b"), SAME)
def test_same_fingerprint(a: tuple, b: tuple) -> None:
    assert fingerprint(*a) == fingerprint(*b)


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_different_fingerprint(a: tuple, b: tuple) -> None:
    assert fingerprint(*a) != fingerprint(*b)


def test_fingerprint_is_twelve_hex_digits_and_stable() -> None:
    fp = fingerprint("console", "boom")
    assert re.fullmatch(r"[0-9a-f]{12}", fp)
    assert fp == fingerprint("console", "boom")


def test_status_argument_wins_over_text() -> None:
    url = "http://127.0.0.1:8123/api/pay"
    assert fingerprint("http_error", "Server Error", None, url, status=500) == fingerprint(
        "http_error", "500 Server Error", None, url
    )
    assert fingerprint("http_error", "x", None, url, status=500) != fingerprint(
        "http_error", "x", None, url, status=503
    )


def test_fingerprint_survives_odd_text() -> None:
    assert fingerprint("console", "bad \ud800 surrogate \x00 nul")
    assert fingerprint("http_error", "no url at all") == fingerprint("http_error", "no url at all")


def _event(text: str, **fields: object) -> Event:
    values: dict[str, object] = {"kind": "console", "level": "error", "text": text}
    values.update(fields)
    return Event.model_validate(values)


def test_group_errors_folds_by_fingerprint_in_first_occurrence_order() -> None:
    events = [
        _event(
            "Order 1 failed",
            step=3,
            count=2,
            url="http://h:1/a.js",
            line=5,
            column=7,
            stack="Error\n    at f (http://h:1/a.js:5:7)",
            fails=False,
        ),
        _event("other problem", step=2),
        _event(
            "Order 2 failed",
            step=None,
            count=3,
            url="http://h:1/a.js",
            stack="Error\n    at f (http://h:1/a.js:9:9)",
            fails=True,
        ),
        _event(
            "Order 3 failed",
            step=1,
            url="http://h:1/a.js",
            stack="Error\n    at f (http://h:2/a.js:1:1)",
            fails=False,
        ),
    ]
    groups = group_errors(events)
    assert [g.message for g in groups] == ["Order 1 failed", "other problem"]
    first, second = groups
    assert first.count == 6
    assert first.first_step is None  # before the first step sorts first
    assert first.fails is True
    assert (first.url, first.line, first.column) == ("http://h:1/a.js", 5, 7)
    assert first.stack == events[0].stack
    assert first.kind == "console"
    assert first.fingerprint == fingerprint("console", "Order 1 failed", events[0].stack)
    assert (second.count, second.first_step, second.fails) == (1, 2, False)


@pytest.mark.parametrize(
    ("steps", "expected"),
    [([3, 2, 5], 2), ([None, 4], None), ([4, None], None), ([7], 7)],
)
def test_group_first_step_is_the_earliest(steps: list[int | None], expected: int | None) -> None:
    (group,) = group_errors([_event("same", step=s) for s in steps])
    assert group.first_step == expected


def test_group_message_is_truncated_to_500_chars() -> None:
    (group,) = group_errors([_event("x" * 600)])
    assert len(group.message) == 500
    assert group.message.endswith("…")


def test_group_errors_of_nothing() -> None:
    assert group_errors([]) == []


@pytest.mark.parametrize(
    ("original", "seen", "expected"),
    [
        ({"a", "b"}, {"b", "c"}, ({"b"}, {"a"}, {"c"})),
        ({"a"}, {"a"}, ({"a"}, set(), set())),
        (set(), {"x"}, (set(), set(), {"x"})),
        ({"a"}, set(), (set(), {"a"}, set())),
    ],
)
def test_compare_fingerprints(original: set[str], seen: set[str], expected: tuple) -> None:
    assert compare_fingerprints(original, seen) == expected
