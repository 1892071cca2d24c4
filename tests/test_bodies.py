"""What the report keeps of an HTTP error's response body (pure: no browser)."""

from __future__ import annotations

import pytest

from collector.capture.bodies import (
    BODY_LIMIT,
    body_excerpt,
    is_text_type,
    not_text_note,
    over_cap_note,
    run_ended_note,
    too_slow_note,
    unreadable_note,
)
from collector.capture.store import CaptureStore
from collector.labels import note_label
from collector.report import Event, Report
from collector.ticket import TICKET_BODY_CHARS, TICKET_BODY_LINES, response_lines


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "application/problem+json; charset=utf-8",
        "Text/HTML",
        "text/plain",
        "application/xml",
        "application/javascript",
        "text/javascript",
        "application/x-www-form-urlencoded",
        "application/soap+xml",
    ],
)
def test_text_types(content_type: str) -> None:
    assert is_text_type(content_type)


@pytest.mark.parametrize(
    "content_type",
    ["image/png", "application/octet-stream", "application/pdf", "font/woff2", "video/mp4", ""],
)
def test_other_types_are_not_text(content_type: str) -> None:
    assert not is_text_type(content_type)


def test_binary_body_is_not_kept() -> None:
    assert body_excerpt(b"\x89PNG\r\n\x1a\n\x00\x01", "image/png") == {
        "bytes": 10,
        "note": "not kept: image/png is not text",
    }


def test_body_without_content_type_is_kept_only_when_it_is_text() -> None:
    assert body_excerpt(b"Service Unavailable", None)["text"] == "Service Unavailable"
    assert "text" not in body_excerpt(b"\x00\x01\x02binary", None)
    assert "text" not in body_excerpt(b"\xff\xfe\xfa", None)


def test_long_body_is_cut_at_4_kb_never_in_half_a_character() -> None:
    data = b"a" + "é".encode() * 10_000
    kept = body_excerpt(data, "text/plain")
    assert kept["truncated"] is True and kept["bytes"] == len(data)
    assert len(kept["text"].encode()) == BODY_LIMIT - 1  # "a" + 2047 whole "é"
    assert kept["text"].endswith("é")


def test_undecodable_bytes_become_replacement_characters() -> None:
    kept = body_excerpt(b"bad \xff\xfe bytes", "text/plain; charset=utf-8")
    # Not UTF-8, and the declared charset is UTF-8: U+FFFD, valid UTF-8 out.
    assert kept["text"] == "bad \ufffd\ufffd bytes"
    kept = body_excerpt(b"caf\xe9", "text/plain; charset=latin-1")
    assert kept["text"] == "café"
    kept = body_excerpt(b"caf\xe9", "text/plain; charset=no-such-charset")
    assert kept["text"] == "caf\ufffd"


def test_a_detail_added_later_lands_on_the_kept_event_only() -> None:
    store = CaptureStore(clock=lambda: 0.0, wall_clock=lambda: 0.0)
    key = store.record("http_error", "error", "HTTP 503 GET /x", url="/x", status=503)
    assert key is not None
    # The same event again folds into the first: nothing new to attach a body to.
    assert store.record("http_error", "error", "HTTP 503 GET /x", url="/x", status=503) is None
    store.add_detail(key, response={"text": "down", "bytes": 4})
    (event,) = store.events()
    assert isinstance(event, Event) and event.count == 2
    assert event.response is not None and event.response.text == "down"


def _report_with_body(text: str, *, truncated: bool = False, size: int | None = None) -> Report:
    event = Event(
        kind="http_error", level="error", text="HTTP 503 GET /pay", url="http://h/pay",
        method="GET", status=503,
        response={"content_type": "text/plain", "text": text, "truncated": truncated,
                  "bytes": size if size is not None else len(text.encode())},
    )  # fmt: skip
    return Report(
        reference="CR-20261201-AAAAAA", created="2026-12-01T00:00:00Z",
        outcome={"status": "errors"}, events=[event],
    )  # fmt: skip


def test_ticket_says_how_much_of_a_body_it_shows() -> None:
    [line] = response_lines(_report_with_body("Service Unavailable\r\n"))
    assert (line.body, line.shown) == ("Service Unavailable", "")  # a final line break is no cut
    body = "\n".join(f"line {i}" for i in range(30))
    [line] = response_lines(_report_with_body(body))
    assert line.body == "\n".join(f"line {i}" for i in range(TICKET_BODY_LINES))
    assert line.shown == f"first {len(line.body)} of {len(body)} bytes"
    [line] = response_lines(_report_with_body("x" * 4096, truncated=True, size=10**6), "pt")
    assert len(line.body) == TICKET_BODY_CHARS
    assert line.shown == f"primeiros {TICKET_BODY_CHARS} de 1000000 bytes"


NOTES = [
    not_text_note("image/png"),
    not_text_note(None),
    over_cap_note(20),
    too_slow_note(10),
    too_slow_note(2.5),
    unreadable_note("Protocol error (Network.getResponseBody): No resource with given identifier"),
    run_ended_note(3),
]


@pytest.mark.parametrize("note", NOTES)
def test_why_a_body_is_not_shown_is_said_in_portuguese(note: str) -> None:
    assert note_label("en", note) == note
    said = note_label("pt", note)
    assert said.startswith(("não guardado: ", "não lido: ")), said
    assert "not kept" not in said and "not read" not in said and " the " not in said


def test_a_pt_ticket_says_why_the_body_is_not_shown_in_portuguese() -> None:
    event = Event(
        kind="http_error", level="error", text="HTTP 500", url="https://a.example/pay",
        method="POST", status=500,
        response={"content_type": "image/png", "bytes": 10, "note": not_text_note("image/png")},
    )  # fmt: skip
    report = Report(
        reference="CR-20261201-AAAAAA", created="2026-12-01T00:00:00Z",
        outcome={"status": "errors"}, events=[event],
    )  # fmt: skip
    (line,) = response_lines(report, "pt")
    assert line.note == "não guardado: image/png não é texto"
    (line,) = response_lines(report, "en")
    assert line.note == "not kept: image/png is not text"
