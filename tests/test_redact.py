"""Redaction: every rule, every encoded form, counts and idempotence."""

from __future__ import annotations

import base64
import html
import json
from urllib.parse import quote, quote_plus

import pytest

from collector.errors import ConfigError
from collector.redact import REDACTED, Redactor, is_credential_name, secret_forms

SECRET = "hunter2!S3cret/ü"
R = REDACTED


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def redactor() -> Redactor:
    return Redactor([SECRET, "", "ab"], [r"\b\d{4}-\d{4}-\d{4}-\d{4}\b", r"(?i)acct-[0-9a-f]+"])


ENCODED_FORMS = {
    "raw": SECRET,
    "quote": quote(SECRET),
    "quote-safe-none": quote(SECRET, safe=""),
    "quote_plus": quote_plus(SECRET),
    "json": json.dumps(SECRET)[1:-1],
    "json-utf8": json.dumps(SECRET, ensure_ascii=False)[1:-1],
    "html": html.escape(SECRET),
    "base64": b64(SECRET.encode()),
    "base64-unpadded": b64(SECRET.encode()).rstrip("="),
    "base64-urlsafe": base64.urlsafe_b64encode(SECRET.encode()).decode(),
    "base64-urlsafe-unpadded": base64.urlsafe_b64encode(SECRET.encode()).decode().rstrip("="),
}


@pytest.mark.parametrize("form", ENCODED_FORMS.values(), ids=ENCODED_FORMS.keys())
def test_secret_in_every_encoded_form(form: str) -> None:
    r = redactor()
    assert r.text(f"before {form} after") == f"before {R} after"
    assert r.counts == {"secret": 1}


@pytest.mark.parametrize("prefix", [b"", b"a", b"ab", b"abc", b"user:"])
def test_secret_inside_a_longer_base64_blob(prefix: bytes) -> None:
    """Basic auth: base64("user:secret") hides the secret at any byte alignment."""
    blob = b64(prefix + SECRET.encode() + b"!tail")
    out = redactor().text(f"x {blob} y")
    assert R in out
    for form in ENCODED_FORMS.values():
        assert form not in out


CASES = [
    # (rule, input, output)
    ("secret", f"typed {SECRET} into the form", f"typed {R} into the form"),
    ("secret", f"GET /login?next=x&p={quote_plus(SECRET)}", f"GET /login?next=x&p={R}"),
    (
        "query_param",
        "GET http://127.0.0.1:8123/cb?access_token=abc&x=1",
        f"GET http://127.0.0.1:8123/cb?access_token={R}&x=1",
    ),
    ("query_param", "https://h/#id_token=e.y.z&state=1", f"https://h/#id_token={R}&state=1"),
    (
        "query_param",
        "/api?apiKey=A&api-key=B&api_key=C&key=kept&code=kept",
        f"/api?apiKey={R}&api-key={R}&api_key={R}&key=kept&code=kept",
    ),
    (
        "query_param",
        "/a?token=1&refresh_token=2&pwd=3&passwd=4&secret=5&client_secret=6",
        f"/a?token={R}&refresh_token={R}&pwd={R}&passwd={R}&secret={R}&client_secret={R}",
    ),
    (
        "query_param",
        "/a?session=1&sessionid=2&sid=3&auth=4&signature=5&sig=6&X-Amz-Signature=7",
        f"/a?session={R}&sessionid={R}&sid={R}&auth={R}&signature={R}&sig={R}&X-Amz-Signature={R}",
    ),
    (
        "query_param",
        "/a?user[password]=x&aside=1&design=2",
        f"/a?user[password]={R}&aside=1&design=2",
    ),
    (
        "form_field",
        "email=a%40b.com&password=s3cret&remember=1",
        f"email=a%40b.com&password={R}&remember=1",
    ),
    ("form_field", "body: password=s3cret", f"body: password={R}"),
    (
        "form_field",
        "document.cookie = 'sid=abc123; theme=dark'",
        f"document.cookie = 'sid={R}; theme=dark'",
    ),
    ("json_key", '{"password": "p\\"w", "user": "ana"}', f'{{"password": "{R}", "user": "ana"}}'),
    (
        "json_key",
        '{"accessToken":"t","csrf_token" : "c","count":3}',
        f'{{"accessToken":"{R}","csrf_token" : "{R}","count":3}}',
    ),
    (None, '{"secret": 3, "token": null}', '{"secret": 3, "token": null}'),
    (
        "json_key",
        '"{\\"password\\": \\"x1\\", \\"a\\": \\"b\\"}"',
        f'"{{\\"password\\": \\"{R}\\", \\"a\\": \\"b\\"}}"',
    ),
    ("json_key", "{password: 'hello', user: 'ana'}", f"{{password: '{R}', user: 'ana'}}"),
    ("json_key", "{'token': 'abc', 'x': 1}", f"{{'token': '{R}', 'x': 1}}"),
    (
        "json_key",
        "token: abc123; Unexpected token: identifier",
        f"token: {R}; Unexpected token: identifier",
    ),
    ("header", "Authorization: Basic YW5hOnB3", f"Authorization: {R}"),
    ("header", "proxy-authorization: Digest x=1\nHost: h", f"proxy-authorization: {R}\nHost: h"),
    (
        "header",
        "Cookie: a=1; b=2\r\nSet-Cookie: s=3; Path=/\nX-Other: ok",
        f"Cookie: {R}\r\nSet-Cookie: {R}\nX-Other: ok",
    ),
    (
        "header",
        '{"raw": "x-api-key: k1\\r\\nAccept: */*", "n": 1}',
        f'{{"raw": "x-api-key: {R}\\r\\nAccept: */*", "n": 1}}',
    ),
    ("bearer", "fetch with Bearer eyJhbGciOi.e30.sig then", f"fetch with Bearer {R} then"),
    (None, "bearer of bad news", "bearer of bad news"),
    ("userinfo", "https://ana:pa55word@example.com/p", f"https://ana:{R}@example.com/p"),
    (None, "http://127.0.0.1:8123/no/userinfo", "http://127.0.0.1:8123/no/userinfo"),
    ("pattern", "card 1234-5678-9012-3456 paid", f"card {R} paid"),
    ("pattern", "account ACCT-00ff9 closed", f"account {R} closed"),
    (
        None,
        "nothing to see: a=1&b=2 at http://h/x?y=1",
        "nothing to see: a=1&b=2 at http://h/x?y=1",
    ),
    (None, f"{R} stays {R}", f"{R} stays {R}"),
    (None, "ab is too short to be a secret", "ab is too short to be a secret"),
]


@pytest.mark.parametrize(("rule", "text", "expected"), CASES)
def test_text_rules(rule: str | None, text: str, expected: str) -> None:
    r = redactor()
    assert r.text(text) == expected
    if rule is None:
        assert r.counts == {}
    else:
        assert set(r.counts) == {rule}


@pytest.mark.parametrize(("rule", "text", "expected"), CASES)
def test_redacting_twice_changes_nothing_more(rule: str | None, text: str, expected: str) -> None:
    r = redactor()
    once = r.text(text)
    counts = r.counts
    assert r.text(once) == once
    assert r.counts == counts


def test_secret_never_appears_in_any_form() -> None:
    r = redactor()
    text = " | ".join(secret_forms(SECRET))
    out = r.text(text)
    for form in secret_forms(SECRET):
        assert form not in out
    assert r.counts["secret"] == len(secret_forms(SECRET))


def test_short_and_empty_secrets_are_ignored() -> None:
    r = Redactor(["", "a", "ab"])
    r.add_secret("")
    r.add_secret("x")
    assert r.text("a ab abc") == "a ab abc"
    assert r.counts == {}


def test_secret_learnt_at_run_time() -> None:
    r = Redactor()
    assert r.text("pw is typed-later") == "pw is typed-later"
    r.add_secret("typed-later")
    assert r.text("pw is typed-later") == f"pw is {R}"
    assert r.bytes(b"\xff typed-later") == b"\xff " + R.encode()


def test_secret_that_is_part_of_the_marker_does_not_loop() -> None:
    r = Redactor(["ACT", "RED"])
    once = r.text("RED ACT")
    assert once == f"{R} {R}"
    assert r.text(once) == once
    assert r.counts == {"secret": 2}


def test_counts_add_up_per_rule_and_never_hold_values() -> None:
    r = redactor()
    r.text(f"{SECRET} and {SECRET} ?token=a&sid=b Authorization: x")
    assert r.counts == {"secret": 2, "query_param": 2, "header": 1}
    assert SECRET not in repr(r.counts)


def test_invalid_pattern_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"redact: invalid pattern '\(unclosed'"):
        Redactor(patterns=["(unclosed"])


def test_url() -> None:
    r = redactor()
    assert r.url(f"https://u:{SECRET}@h/p?q=1&token=t#x") == f"https://u:{R}@h/p?q=1&token={R}#x"


def test_headers() -> None:
    r = redactor()
    headers = {
        "Authorization": "Bearer t",
        "proxy-authorization": "Basic x",
        "Cookie": "a=b",
        "Set-Cookie": "s=1",
        "X-Api-Key": "k",
        "X-Auth-Token": "t",
        "X-CSRF-Token": "c",
        "X-Client-Secret": "s",
        "X-Password-Hint": "p",
        "Accept": "text/html",
        "Referer": "http://h/?access_token=abc",
        "Empty-Token": "",
    }
    assert r.headers(headers) == {
        "Authorization": R,
        "proxy-authorization": R,
        "Cookie": R,
        "Set-Cookie": R,
        "X-Api-Key": R,
        "X-Auth-Token": R,
        "X-CSRF-Token": R,
        "X-Client-Secret": R,
        "X-Password-Hint": R,
        "Accept": "text/html",
        "Referer": f"http://h/?access_token={R}",
        "Empty-Token": "",
    }
    assert r.counts == {"header": 9, "query_param": 1}


def test_data_is_deep_and_knows_har_pairs() -> None:
    r = redactor()
    har = {
        "request": {
            "url": "http://h/api?token=abc&x=1",
            "headers": [
                {"name": "Authorization", "value": "Bearer abc"},
                {"name": "Accept", "value": "*/*"},
            ],
            "cookies": [{"name": "theme", "value": "dark"}],
            "queryString": [{"name": "token", "value": "abc"}, {"name": "x", "value": "1"}],
            "postData": {"text": f'{{"password": "{SECRET}"}}'},
        },
        "nested": {
            "clientSecret": "s",
            "session": {"id": 1},
            "secret": 3,
            "password": None,
            "items": ("keep", SECRET),
        },
    }
    assert r.data(har) == {
        "request": {
            "url": f"http://h/api?token={R}&x=1",
            "headers": [{"name": "Authorization", "value": R}, {"name": "Accept", "value": "*/*"}],
            "cookies": [{"name": "theme", "value": R}],
            "queryString": [{"name": "token", "value": R}, {"name": "x", "value": "1"}],
            "postData": {"text": f'{{"password": "{R}"}}'},
        },
        "nested": {
            "clientSecret": R,
            "session": R,
            "secret": 3,
            "password": None,
            "items": ("keep", R),
        },
    }
    assert har["nested"]["clientSecret"] == "s"  # a new structure; the input is untouched


def test_report_counters_survive_data() -> None:
    report = {"redactions": {"secret": 2, "json_key": 1}, "totals": {"console": {"error": 3}}}
    assert redactor().data(report) == report


def test_bytes_text_and_binary() -> None:
    r = redactor()
    assert r.bytes(b'{"token": "abc"}') == f'{{"token": "{R}"}}'.encode()
    binary = b"\x89PNG\xff\x00" + SECRET.encode() + b"\x00" + b64(SECRET.encode()).encode()
    assert r.bytes(binary) == b"\x89PNG\xff\x00" + R.encode() + b"\x00" + R.encode()
    assert r.bytes(b"\xff\x00 nothing") == b"\xff\x00 nothing"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("token", True),
        ("accessToken", True),
        ("csrf-token", True),
        ("X-Api-Key", True),
        ("newPassword", True),
        ("JSESSIONID", True),
        ("sid", True),
        ("key", False),
        ("max_tokens", False),
        ("aside", False),
        ("code", False),
        ("name", False),
    ],
)
def test_is_credential_name(name: str, expected: bool) -> None:
    assert is_credential_name(name) is expected


def test_big_text_keeps_far_away_values() -> None:
    filler = "console.log line without anything special: 42\n" * 50_000
    text = filler + f"GET /x?token=abc {SECRET}\n" + filler
    out = redactor().text(text)
    assert out == filler + f"GET /x?token={R} {R}\n" + filler
