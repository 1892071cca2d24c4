"""One redactor for every text that leaves the process.

A bundle is sent to a support desk, so nothing in it may carry a password, a
token or a session: not the console log, not report.json, not the HAR, not the
members of trace.zip. The bundle writer passes everything through one
:class:`Redactor`, which knows

* the literal secret values (declared ``secrets`` env vars, values typed into
  password fields) and finds them also URL-encoded, base64-encoded,
  JSON-escaped and HTML-escaped, because that is how they show up in request
  URLs, ``Authorization: Basic`` headers and serialised payloads;
* credential-shaped places whatever their value: query parameters, JSON keys
  and form fields named like ``token``/``password``/``session``,
  ``Authorization``/``Cookie`` header lines, ``Bearer`` tokens, passwords in
  ``scheme://user:password@host`` URLs;
* extra regexes from the config's ``redact`` list.

Every replacement is the literal ``[REDACTED]``; ``counts`` says how many values
each rule replaced (never the values), for ``report.json``'s ``redactions``.
Redacting redacted text changes nothing, so applying the redactor twice (e.g.
to a file built from already redacted parts) is harmless.
"""

from __future__ import annotations

import base64
import builtins
import html
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus

from collector.errors import ConfigError

REDACTED = "[REDACTED]"
MIN_SECRET_LENGTH = 3
"""Secrets shorter than this are ignored: replacing every "a" or "42" would destroy the text."""

MIN_BASE64_FRAGMENT = 8
"""Shortest base64 core (secret at an offset inside a longer base64 blob) worth matching."""

# Credential names, as spelt in the wild. A name holds a credential when it is one of
# the exact names, or ends with one of the suffixes (accessToken, csrf_token, clientSecret,
# newPassword, x-api-key, JSESSIONID); case does not matter.
_SUFFIX_SPELLINGS = (
    "token", "secret", "password", "passwd", "apikey", "api_key", "api-key",
    "sessionid", "session_id", "session-id",
)  # fmt: skip
_EXACT_SPELLINGS = (
    "pwd", "sid", "session", "auth", "signature", "sig", "passphrase", "privatekey",
    "private_key", "private-key", "authorization", "proxy-authorization", "cookie",
    "set-cookie", "x-amz-signature", "x-amz-credential", "phpsessid",
)  # fmt: skip


def _normalise_name(name: str) -> str:
    return re.sub(r"[-_.\[\]\s]", "", name.lower())


CREDENTIAL_NAMES = frozenset(_normalise_name(n) for n in _EXACT_SPELLINGS + _SUFFIX_SPELLINGS)
CREDENTIAL_SUFFIXES = tuple(sorted({_normalise_name(n) for n in _SUFFIX_SPELLINGS}))

SENSITIVE_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-auth-token"}
)
_SENSITIVE_HEADER_WORDS = ("token", "secret", "password")

# The rule names that `counts` (report.json `redactions`) may report.
RULES = (
    "secret",
    "query_param",
    "json_key",
    "header",
    "bearer",
    "pattern",
    "form_field",
    "userinfo",
)


def _names_before(end: str, exact_before: str, names: Iterable[str] | None = None) -> str:
    """Lookbehinds: a credential name ends right before the current position.

    Speed matters (5 MB of text in well under a second): each rule's regex starts
    with a literal (``=``, ``:``, ``"``) that the regex engine finds fast, and
    only then looks back: first at one character (most candidates stop there),
    then for a whole name. Python lookbehinds need a fixed width, so names are
    grouped by length. Suffix names may have any prefix; exact names
    must be preceded by ``exact_before`` (a one-character condition). Names may
    sit in brackets (``user[password]=``).
    """
    groups: dict[tuple[bool, int], list[str]] = {}
    exact = _EXACT_SPELLINGS if names is None else tuple(names)
    suffixes = _SUFFIX_SPELLINGS if names is None else ()
    for is_exact, spellings in ((False, suffixes), (True, exact)):
        for name in spellings:
            for bracket in ("", r"\]"):
                pattern = re.escape(name) + bracket
                groups.setdefault((is_exact, len(name) + len(bracket) // 2), []).append(pattern)
    alternatives = []
    for (is_exact, _), patterns in sorted(groups.items()):
        before = exact_before if is_exact else ""
        alternatives.append(f"(?<={before}(?i:{'|'.join(patterns)}){end})")
    # One cheap check first: the character before `end` must end some name.
    last = {c for name in (*suffixes, *exact) for c in (name[-1].lower(), name[-1].upper())}
    guard = "[" + re.escape("".join(sorted(last)) + "]") + "]"
    return f"(?<={guard}{end})(?:" + "|".join(alternatives) + ")"


# Header lines: "Authorization: Basic …", "Cookie: …" up to the end of the line, a literal
# \r or \n escape, or the closing quote of the JSON string the line sits in.
_HEADER_LINE = re.compile(
    ":"
    + _names_before(":", r"(?<![\w.\-])", SENSITIVE_HEADERS)
    + r"(?P<sep>[ \t]*)(?P<value>[^\r\n]+?)(?=\\[rn]|(?<!\\)\"\s*[,}\]]|[ \t]*\r?$)",
    re.MULTILINE,
)
# A token has a digit or symbol, or is long: "bearer of bad news" is not a token.
_BEARER = re.compile(
    r"[Bb](?<![\w-][Bb])(?i:earer)(?P<sep>\s+)"
    r"(?P<value>(?=[A-Za-z]*[0-9\-._~+/]|[A-Za-z]{20})[A-Za-z0-9\-._~+/]{6,}=*)"
)
_USERINFO = re.compile(r"://[^/\s:@\"'<>]*:(?P<value>[^/\s@\"'<>]+)(?=@)")
# name=value in query strings (after ?, & or #) and form bodies / cookies (anywhere else).
_EQUALS_PAIR = re.compile(
    "=" + _names_before("=", r"(?<![\w.\-$])") + r"(?P<value>[^&#\s\"'<>\\;]*)"
)
# "key": "value" in JSON, and inside JSON-escaped JSON (\"key\": \"value\"). Only string
# values: replacing a number by [REDACTED] would make the JSON invalid (and report.json's
# own {"redactions": {"secret": 3}} must survive).
_JSON_PAIR = re.compile('"' + _names_before('"', '"') + r"\s*:\s*\"(?P<value>(?:[^\"\\]|\\.)*)\"")
_ESCAPED_JSON_PAIR = re.compile(
    r"\\\"" + _names_before(r'\\"', r'\\"') + r"\s*:\s*\\\"(?P<value>(?:[^\"\\]|\\.)*?)\\\""
)
# JS object literals, Python reprs and log lines: {password: 'x'}, {'token': 'x'},
# "token: abc123".
_JS_PAIR = re.compile(
    ":(?:"
    + _names_before(":", r"(?<![\w$\"'\\])")
    + "|"
    + _names_before("':", "'")
    + ")"
    + r"[ \t]*(?:(?P<quote>['\"])(?P<value>(?:(?!(?P=quote))[^\\\n]|\\.)*)(?P=quote)"
    # Unquoted, only what looks like a credential (a digit or symbol, or long), so that
    # "Unexpected token: identifier" and "token: null" stay readable.
    + r"|(?P<bare>(?=[^\s,;'\"}\]\)]*[0-9+/=_.\-]|[^\s,;'\"}\]\)]{20})[^\s,;'\"}\]\)]+))"
)
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-[]$")


def is_credential_name(name: str) -> bool:
    """Whether a query parameter, JSON key, form field or cookie name holds a credential."""
    key = _normalise_name(name)
    return key in CREDENTIAL_NAMES or key.endswith(CREDENTIAL_SUFFIXES)


def is_sensitive_header(name: str) -> bool:
    """Whether a header's whole value must go: auth and cookie headers, anything token-like."""
    lowered = name.strip().lower()
    return lowered in SENSITIVE_HEADERS or any(w in lowered for w in _SENSITIVE_HEADER_WORDS)


def secret_forms(value: str) -> set[str]:
    """The ways a secret shows up in captured text: raw, URL-encoded, base64, escaped.

    Base64 is also matched at the three possible alignments inside a longer
    blob (so ``Authorization: Basic base64(user:secret)`` loses the secret even
    without the header rule), keeping only the characters that depend on the
    secret alone.
    """
    raw = value.encode("utf-8", "surrogatepass")
    forms = {
        value,
        quote(value, safe=""),
        quote(value),
        quote_plus(value),
        quote(value, safe="!'()*~"),  # encodeURIComponent
        quote(value, safe=";,/?:@&=+$!'()*#~"),  # encodeURI
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        html.escape(value),
        html.escape(value, quote=False),
        # Jinja2's autoescape (markupsafe) writes quotes as &#34; and &#39;.
        html.escape(value).replace("&quot;", "&#34;").replace("&#x27;", "&#39;"),
    }
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        full = encode(raw).decode("ascii")
        forms.update({full, full.rstrip("=")})
        for offset in (0, 1, 2):
            shifted = encode(b"\0" * offset + raw).decode("ascii").rstrip("=")
            start = -(-offset * 8 // 6)  # first character made of secret bits only
            end = (offset + len(raw)) * 8 // 6  # last character made of secret bits only
            core = shifted[start:end]
            if len(core) >= MIN_BASE64_FRAGMENT:
                forms.add(core)
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


class Redactor:
    """Replaces secrets and credential-shaped values with ``[REDACTED]``.

    ``secrets`` are literal values (from env vars, password fields); values
    shorter than 3 characters are ignored on purpose, since replacing every
    "a" would make the bundle unreadable and such a value protects nothing.
    ``patterns`` are extra regexes (config ``redact``): the whole match is
    replaced. An invalid pattern raises :class:`~collector.errors.ConfigError`.
    """

    def __init__(self, secrets: Iterable[str] = (), patterns: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self._text_regex: re.Pattern[str] | None = None
        self._bytes_regex: re.Pattern[builtins.bytes] | None = None
        self._counts: Counter[str] = Counter()
        self._patterns: list[re.Pattern[str]] = []
        for pattern in patterns:
            try:
                self._patterns.append(re.compile(pattern))
            except re.error as exc:
                raise ConfigError(f"redact: invalid pattern {pattern!r}: {exc}") from None
        for value in secrets:
            self.add_secret(value)

    @property
    def counts(self) -> dict[str, int]:
        """Replacements made so far, per rule name (never the values)."""
        return {rule: n for rule, n in self._counts.items() if n}

    def add_secret(self, value: str) -> None:
        """Learn a secret at run time (e.g. typed into a password field)."""
        if not isinstance(value, str) or len(value) < MIN_SECRET_LENGTH or value in self._secrets:
            return
        self._secrets.add(value)
        self._text_regex = None
        self._bytes_regex = None

    # -- building blocks -------------------------------------------------------------------

    def _secret_regex(self) -> re.Pattern[str] | None:
        if self._text_regex is None and self._secrets:
            forms: set[str] = set()
            for secret in self._secrets:
                forms |= secret_forms(secret)
            # Longest first so that "secret%21" wins over "secret"; marker first of all.
            alternatives = [re.escape(REDACTED)]
            alternatives += [re.escape(f) for f in sorted(forms, key=lambda f: (-len(f), f))]
            self._text_regex = re.compile("|".join(alternatives))
        return self._text_regex

    def _secret_bytes_regex(self) -> re.Pattern[builtins.bytes] | None:
        if self._bytes_regex is None and self._secrets:
            forms: set[builtins.bytes] = set()
            for secret in self._secrets:
                forms |= {f.encode("utf-8", "surrogatepass") for f in secret_forms(secret)}
            alternatives = [re.escape(REDACTED.encode())]
            alternatives += [re.escape(f) for f in sorted(forms, key=lambda f: (-len(f), f))]
            self._bytes_regex = re.compile(b"|".join(alternatives))
        return self._bytes_regex

    def _replace_secrets(self, s: str) -> str:
        regex = self._secret_regex()
        if regex is None:
            return s

        def replace(match: re.Match[str]) -> str:
            if match.group() != REDACTED:
                self._counts["secret"] += 1
            return REDACTED

        return regex.sub(replace, s)

    def _value_rule(
        self, s: str, regex: re.Pattern[str], rule: str | Callable[[re.Match[str]], str]
    ) -> str:
        """Replace the ``value`` (or ``bare``) group of each match, keep the rest."""

        def replace(match: re.Match[str]) -> str:
            for group in ("value", "bare"):
                value = match.groupdict().get(group)
                if value is not None:
                    break
            start, end = match.span(group)
            if not value or match.string.startswith(REDACTED, start):
                return match.group()  # nothing to hide, or redacted already
            self._counts[rule if isinstance(rule, str) else rule(match)] += 1
            whole, offset = match.group(), match.start()
            return whole[: start - offset] + REDACTED + whole[end - offset :]

        return regex.sub(replace, s)

    def _replace_patterns(self, s: str) -> str:
        def replace(match: re.Match[str]) -> str:
            start, end = match.span()
            # A match may swallow earlier markers whole, but never cut one in two.
            text = match.string
            if start == end or _cuts_marker(text, start) or _cuts_marker(text, end):
                return match.group()
            if match.group() == REDACTED:
                return REDACTED
            self._counts["pattern"] += 1
            return REDACTED

        for pattern in self._patterns:
            s = pattern.sub(replace, s)
        return s

    # -- public API --------------------------------------------------------------------------

    def text(self, s: str) -> str:
        """Redact free text: secrets in all their forms, then credential-shaped values."""
        if not s:
            return s
        s = self._replace_secrets(s)
        if ":" in s:
            s = self._value_rule(s, _HEADER_LINE, "header")
        s = self._value_rule(s, _BEARER, "bearer")
        if "://" in s:
            s = self._value_rule(s, _USERINFO, "userinfo")
        if '"' in s:
            s = self._value_rule(s, _JSON_PAIR, "json_key")
            s = self._value_rule(s, _ESCAPED_JSON_PAIR, "json_key")
        if ":" in s:
            s = self._value_rule(s, _JS_PAIR, "json_key")
        if "=" in s:
            s = self._value_rule(s, _EQUALS_PAIR, _equals_rule)
        return self._replace_patterns(s)

    def url(self, u: str) -> str:
        """Redact a URL: credential query parameters, ``user:password@``, secrets."""
        return self.text(u)

    def headers(self, h: Mapping[str, str]) -> dict[str, str]:
        """Redact a header mapping: auth/cookie/token headers lose their whole value."""
        result: dict[str, str] = {}
        for name, value in h.items():
            if is_sensitive_header(name) and value and value != REDACTED:
                self._counts["header"] += 1
                result[name] = REDACTED
            else:
                result[name] = self.text(value) if isinstance(value, str) else value
        return result

    def data(self, obj: Any) -> Any:
        """Redact a JSON-like structure deeply (report.json, HAR, scenario).

        String and container values under credential-named keys become
        ``[REDACTED]`` (numbers, booleans and null stay); HAR-style
        ``{"name": ..., "value": ...}`` pairs are judged by their name (and every
        cookie in a ``cookies`` list is a credential); every string, keys
        included, goes through :meth:`text`. Returns a new structure.
        """
        return self._data(obj, parent_key=None)

    def _data(self, obj: Any, parent_key: str | None) -> Any:
        if isinstance(obj, str):
            return self.text(obj)
        if isinstance(obj, Mapping):
            name = obj.get("name")
            pair_is_secret = (
                isinstance(name, str)
                and "value" in obj
                and (
                    parent_key == "cookies" or is_credential_name(name) or is_sensitive_header(name)
                )
            )
            result: dict[Any, Any] = {}
            for key, value in obj.items():
                if pair_is_secret and key == "value":
                    rule = "header" if parent_key in ("headers", "cookies") else "json_key"
                    result[self._data(key, None)] = self._mask_value(value, rule)
                elif isinstance(key, str) and is_credential_name(key):
                    result[self._data(key, None)] = self._mask_value(value, "json_key")
                else:
                    result[self._data(key, None)] = self._data(value, key)
            return result
        if isinstance(obj, list | tuple):
            items = [self._data(item, parent_key) for item in obj]
            return items if isinstance(obj, list) else tuple(items)
        return obj

    def _mask_value(self, value: Any, rule: str) -> Any:
        # Numbers and booleans stay: they are counters and flags far more often than
        # secrets, and report.json's {"redactions": {"secret": 3}} must keep its type.
        if value is None or isinstance(value, bool | int | float) or value in ("", REDACTED):
            return value
        self._counts[rule] += 1
        return REDACTED

    def bytes(self, b: builtins.bytes) -> builtins.bytes:
        """Redact file contents (trace.zip members, HAR, HTML).

        UTF-8 text gets the full :meth:`text` treatment; anything else only
        loses the secret values and their encoded forms, byte for byte, so that
        binary formats keep their structure.
        """
        try:
            decoded = b.decode("utf-8")
        except UnicodeDecodeError:
            regex = self._secret_bytes_regex()
            if regex is None:
                return b

            def replace(match: re.Match[builtins.bytes]) -> builtins.bytes:
                if match.group() != REDACTED.encode():
                    self._counts["secret"] += 1
                return REDACTED.encode()

            return regex.sub(replace, b)
        redacted = self.text(decoded)
        return b if redacted == decoded else redacted.encode("utf-8")


def _equals_rule(match: re.Match[str]) -> str:
    """``name=value`` in a URL's query string or fragment is a query parameter, else a form field."""
    text, i = match.string, match.start()
    while i > 0 and text[i - 1] in _NAME_CHARS:
        i -= 1
    before = text[i - 1] if i > 0 else ""
    if before == "&":  # a query string if a "?" or "#" starts the same run of text
        run = re.search(r"[?#][^\s?#]*\Z", text[max(0, i - 8192) : i])
        before = run.group()[0] if run else ""
    return "query_param" if before in ("?", "#") else "form_field"


def _cuts_marker(text: str, pos: int) -> bool:
    """Whether position ``pos`` falls strictly inside a ``[REDACTED]`` marker."""
    found = text.find(REDACTED, max(0, pos - len(REDACTED) + 1), pos + len(REDACTED) - 1)
    return found != -1 and found < pos
