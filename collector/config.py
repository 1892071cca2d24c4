"""Configuration: ``collector.toml``, or ``[tool.collector]`` in ``pyproject.toml``, found upwards.

Every problem of a config file is a ``ConfigError`` naming ``PATH:LINE: key``;
a config that loads builds valid rules (its patterns are checked here).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator

from collector.config_file import DEFAULT_REASONS as DEFAULT_REASONS
from collector.config_file import find_config, line_of_key
from collector.errors import BadInput, ConfigError
from collector.rules import FailOn, IgnoreRule, PatternError, Rules, Source, compile_pattern

EMAIL_ADDRESS = re.compile(r"[^\s@<>,;:\"()\[\]\\\x00-\x1f\x7f]+@[A-Za-z0-9.-]+")
SUPPORT_URL = re.compile(r"https?://[A-Za-z0-9.-]+(:\d+)?(/[^\s\x00-\x1f\x7f]*)?")


class IgnoreEntry(BaseModel):
    """An ignore rule as written in config: a pattern, optionally per source and URL."""

    model_config = ConfigDict(extra="forbid", strict=True)
    pattern: str = Field(min_length=1)
    source: Source = "any"
    url: str | None = None


class SubmitConfig(BaseModel):
    """``[submit]``: where ``collector submit`` sends a bundle when no option says, and how.

    Passwords and tokens may sit here (a file kept out of version control) or, preferably,
    in the environment (COLLECTOR_SMTP_PASSWORD, COLLECTOR_INBOX_TOKEN,
    COLLECTOR_WEBHOOK_TOKEN), which wins; never on the command line.
    """

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)
    smtp: str | None = None
    sender: str | None = Field(None, validation_alias=AliasChoices("from", "sender"))
    reply_to: str | None = None
    webhook: str | None = None
    inbox: str | None = None
    cafile: str | None = None
    smtp_password: str | None = Field(None, repr=False)
    inbox_token: str | None = Field(None, repr=False)
    webhook_token: str | None = Field(None, repr=False)
    # Seconds to wait before each new attempt after a temporary failure; its length is the
    # number of retries (bounded: at most 10, each at most 600 s).
    retry_delays: list[float] = Field(default_factory=lambda: [2.0, 10.0, 30.0], max_length=10)
    timeout: float = Field(30.0, gt=0, le=600)

    @field_validator("sender", "reply_to")
    @classmethod
    def _address(cls, value: str | None) -> str | None:
        # Each becomes a header of the e-mail: a CR/LF would add headers (Bcc:).
        if value is not None and not EMAIL_ADDRESS.fullmatch(value):
            raise ValueError("one e-mail address (name@host), without spaces or CR/LF")
        return value

    @field_validator("retry_delays")
    @classmethod
    def _delays(cls, value: list[float]) -> list[float]:
        if any(not 0 <= delay <= 600 for delay in value):
            raise ValueError("each delay is between 0 and 600 seconds")
        return value


class Config(BaseModel):
    """``collector.toml`` or ``[tool.collector]`` in ``pyproject.toml``."""

    model_config = ConfigDict(extra="forbid", strict=True)
    fail_on: FailOn = "error"
    ignore: list[str | IgnoreEntry] = Field(default_factory=list)
    expect: list[str] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=lambda: list(DEFAULT_REASONS))
    max_attachment_bytes: int | str = 2_000_000
    redact: list[str] = Field(default_factory=list)
    lang: Literal["en", "pt"] = "en"
    reports_dir: str = "reports"
    # Where tickets go: the desk's e-mail address (To: of the .eml) and/or its web form.
    # support_email is the key's first name, still read.
    support_address: str | None = Field(
        None, validation_alias=AliasChoices("support_address", "support_email")
    )
    support_url: str | None = None
    submit: SubmitConfig = Field(default_factory=SubmitConfig)
    # Source maps (issue 16): a folder of maps the site does not serve (relative to the
    # config file), and how long one script or map may take to fetch.
    source_maps: str | None = None
    source_map_timeout: float = Field(5.0, gt=0, le=120)
    source: str | None = Field(None, exclude=True)

    @field_validator("support_address")
    @classmethod
    def _one_address(cls, value: str | None) -> str | None:
        # It becomes the To: header of .eml tickets: a CR/LF would add headers (Bcc:).
        if value is not None and not EMAIL_ADDRESS.fullmatch(value):
            raise ValueError("one e-mail address (name@host), without spaces or CR/LF")
        return value

    @field_validator("support_url")
    @classmethod
    def _web_page(cls, value: str | None) -> str | None:
        # Printed as the place to open the ticket: a plain http(s) address, one line.
        if value is not None and not SUPPORT_URL.fullmatch(value):
            raise ValueError("an http:// or https:// address, without spaces or CR/LF")
        return value

    def rules(self) -> Rules:
        return Rules(
            fail_on=self.fail_on,
            ignore=tuple(
                IgnoreRule(e) if isinstance(e, str) else IgnoreRule(e.pattern, e.source, e.url)
                for e in self.ignore
            ),
            expect=tuple(self.expect),
        )

    def attachment_budget(self) -> int:
        from collector.sizes import parse_size

        return parse_size(str(self.max_attachment_bytes))


def load_config(start: Path | None = None) -> Config:
    """The configuration in force here; defaults when there is none."""
    found = find_config(start)
    if found is None:
        return Config()
    path, data = found
    section = "tool.collector" if path.name == "pyproject.toml" else None
    try:
        config = Config.model_validate(data)
        for pattern in config.redact:
            re.compile(pattern)
        config.attachment_budget()
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        # An ignore entry written as a table: its own field errors say more than "not a string".
        err = next(
            (e for e in errors if "IgnoreEntry" in e["loc"] and e["loc"][-1] != "IgnoreEntry"),
            errors[0],
        )
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p in _UNION_TAGS)]
        key = ".".join(str(p) for p in loc) or "config"
        line = line_of_key(path, str(loc[0]) if loc else "", section=section)
        raise ConfigError(f"{path}:{line}: {key}: {err['msg']}") from None
    except re.error as exc:
        line = line_of_key(path, "redact", section=section)
        raise ConfigError(f"{path}:{line}: redact: not a valid regex: {exc}") from None
    except BadInput as exc:
        line = line_of_key(path, "max_attachment_bytes", section=section)
        raise ConfigError(f"{path}:{line}: max_attachment_bytes: {exc}") from None
    for key, pattern in _patterns(config):
        try:
            compile_pattern(pattern)
        except PatternError as exc:
            line = line_of_key(path, key.split(".")[0], section=section)
            raise ConfigError(f"{path}:{line}: {key}: {exc}") from None
    return config.model_copy(update={"source": str(path)})


_UNION_TAGS = ("str", "int", "IgnoreEntry")


def _patterns(config: Config) -> list[tuple[str, str]]:
    """Every regex of the rules, with the dotted key that sets it."""
    found: list[tuple[str, str]] = []
    for i, entry in enumerate(config.ignore):
        if isinstance(entry, str):
            found.append((f"ignore.{i}", entry))
            continue
        found.append((f"ignore.{i}.pattern", entry.pattern))
        if entry.url is not None:
            found.append((f"ignore.{i}.url", entry.url))
    found += [(f"expect.{i}", pattern) for i, pattern in enumerate(config.expect)]
    return found
