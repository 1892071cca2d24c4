"""The report model: what a run captured, as written to ``report.json``.

These models are the contract of ``collector/report@1`` (``collector schema
report``). Capture keeps light tuples while the page runs and builds these once,
at the end.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from collector.kinds import FAILED_STATUSES as FAILED_STATUSES
from collector.kinds import KIND_RANK as KIND_RANK
from collector.kinds import SCHEMA_ID as SCHEMA_ID

EventKind = Literal[
    "console", "page_error", "request_failed", "http_error", "crash", "dialog", "download",
    "disconnect",
]  # fmt: skip

OutcomeStatus = Literal["clean", "errors", "step_failed", "crashed", "unreachable", "interrupted"]
StepStatus = Literal["ok", "failed", "skipped"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ResponseBody(_Model):
    """What an HTTP error answered: the start of its body (text types only) and its timing."""

    content_type: str | None = Field(None, description="The response's Content-Type header.")
    text: str | None = Field(
        None,
        description="The first 4 kB of the body, text types only (JSON, text/*, XML, "
        "JavaScript, form data), redacted, valid UTF-8; null when not kept (see note).",
    )
    bytes: int | None = Field(None, description="Size of the whole body in bytes, when read.")
    truncated: bool = Field(False, description="Whether `text` is only the start of the body.")
    note: str | None = Field(None, description="Why the body is not shown, when it is not.")
    duration_ms: int | None = Field(
        None, description="Milliseconds from the request's start to the end of its response."
    )


class SourceLine(_Model):
    """One line of original source around an error (from the map's ``sourcesContent``)."""

    line: int = Field(ge=1, description="1-based line in the original file.")
    text: str


class OriginalLocation(_Model):
    """Where a generated frame comes from, through the script's source map."""

    file: str = Field(description="The original file as the map names it (leading ../ dropped).")
    line: int = Field(ge=1, description="1-based line in `file`.")
    column: int = Field(ge=1, description="1-based column in `file`.")
    function: str | None = Field(None, description="The original function name, when known.")
    context: list[SourceLine] = Field(
        default_factory=list,
        description="A few lines of `file` around `line` (top resolved frame, when the map "
        "has sourcesContent).",
    )


class Frame(_Model):
    """One stack frame as the browser ran it (generated), and its original when resolved."""

    function: str | None = Field(None, description="Function name as the browser saw it.")
    url: str | None = Field(None, description="Script URL.")
    line: int | None = Field(None, description="1-based line in `url`.")
    column: int | None = Field(None, description="1-based column in `url`.")
    original: OriginalLocation | None = Field(
        None, description="The original location through the source map; null when unresolved."
    )


class Event(_Model):
    """One captured event; identical events fold into one with a ``count``."""

    kind: EventKind
    level: str = Field(description="error, warning, info, log, debug (console levels).")
    text: str
    url: str | None = Field(None, description="Source script or request URL.")
    line: int | None = Field(None, description="1-based line in `url`.")
    column: int | None = Field(None, description="1-based column in `url`.")
    stack: str | None = None
    step: int | None = Field(None, description="1-based step index; null before the first step.")
    time_ms: int = Field(0, description="Milliseconds since the run started (first occurrence).")
    source: str = Field("", description="Which page / frame / worker it came from.")
    count: int = Field(1, ge=1, description="How many identical events this entry stands for.")
    fails: bool = Field(False, description="Whether the rules count it as a failure.")
    native: bool = Field(
        False, description="Emitted by the browser itself (e.g. 'Failed to load resource')."
    )
    status: int | None = Field(None, description="HTTP status (http_error).")
    method: str | None = Field(None, description="HTTP method (network events).")
    name: str | None = Field(None, description="Exception name (page_error).")
    response: ResponseBody | None = Field(
        None, description="HTTP errors: the start of the response body and the timing."
    )
    frames: list[Frame] = Field(
        default_factory=list,
        description="Exceptions and console errors: the stack's frames, generated and (through "
        "source maps) original.",
    )


class StepRecord(_Model):
    index: int = Field(ge=1)
    action: str
    target: str | None = None
    name: str | None = None
    status: StepStatus
    duration_ms: int = 0
    error: str | None = None
    screenshot: str | None = Field(None, description="Path within the bundle.")
    url: str | None = Field(None, description="Page URL when the step started.")
    value: str | None = Field(None, description="Text typed or option chosen (redacted).")
    matched_selector: str | None = None


class FingerprintBasis(_Model):
    """What went into a group's fingerprint: why two reports did or did not group.

    Two errors share a fingerprint exactly when their event kind and this basis
    are equal, so comparing two bases says what differs.
    """

    kind: Literal["stack", "message", "network"] = Field(
        description="What decided the group: `stack` (an exception's type and its top in-app "
        "frames), `message` (the normalised message and where it came from, when there is "
        "no in-app stack) or `network` (a request's URL path and its status or error code)."
    )
    exception: str | None = Field(
        None, description="stack: the exception's class name (e.g. TypeError)."
    )
    frames: list[str] = Field(
        default_factory=list,
        description="stack: the top in-app frames, top first, as function@/path (no origin, "
        "no line or column); browser extensions and injected scripts are skipped.",
    )
    message: str | None = Field(
        None,
        description="message: the message with what varies between runs replaced by "
        "placeholders (<val>, <time>, <origin>, <str> …).",
    )
    source: str | None = Field(
        None,
        description="message: the top in-app frame or script path it came from; network: "
        "the request URL's normalised path.",
    )
    status: int | None = Field(None, description="network: the HTTP status.")
    net_error: str | None = Field(None, description="network: the net::ERR_… code.")


class ErrorGroup(_Model):
    """Events that share a fingerprint."""

    fingerprint: str
    kind: EventKind
    message: str
    count: int
    first_step: int | None
    url: str | None = None
    line: int | None = None
    column: int | None = None
    stack: str | None = None
    fails: bool = True
    frames: list[Frame] = Field(default_factory=list, description="The first event's frames.")
    fingerprint_basis: FingerprintBasis | None = Field(
        None, description="What went into `fingerprint` (null in reports of older collectors)."
    )


class Outcome(_Model):
    status: OutcomeStatus
    message: str = ""
    failed_step: int | None = None


class Environment(_Model):
    browser: str = "chromium"
    browser_version: str = ""
    user_agent: str = ""
    os: str = ""
    viewport: dict[str, int] | None = None
    locale: str | None = None
    timezone: str | None = None
    url: str | None = Field(None, description="Base URL of the scenario.")
    collector_version: str = ""
    python: str = ""
    playwright_version: str = ""


class Attachment(_Model):
    path: str
    bytes: int
    sha256: str
    in_zip: bool
    note: str | None = Field(None, description="Why it was left out or changed to fit.")


class Report(_Model):
    schema_: str = Field(SCHEMA_ID, alias="schema")
    reference: str
    title: str = ""
    scenario_name: str | None = None
    created: str = Field(description="ISO 8601 UTC time the run started.")
    duration_ms: int = 0
    outcome: Outcome
    steps: list[StepRecord] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    totals: dict[str, Any] = Field(
        default_factory=dict, description="Exact counts by kind (and by level for console)."
    )
    dropped: int = 0
    errors: list[ErrorGroup] = Field(default_factory=list)
    environment: Environment = Field(default_factory=Environment)
    attachments: list[Attachment] = Field(default_factory=list)
    redactions: dict[str, int] = Field(
        default_factory=dict, description="Rule name -> how many values it replaced."
    )
    capture_problems: list[str] = Field(
        default_factory=list, description="Listeners or steps of capture that failed."
    )
    reason: str | None = None
    expected: str | None = None
    original_reference: str | None = Field(None, description="Set on replays.")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, indent=2)


def report_json_schema() -> dict[str, Any]:
    schema = Report.model_json_schema(by_alias=True)
    schema["properties"]["schema"] = {"const": SCHEMA_ID, "title": "Schema"}
    schema["$id"] = SCHEMA_ID
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
