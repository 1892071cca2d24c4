"""The DevTools front end: one page's CDP console traffic (and its child targets') as events.

Playwright's own console event hands Python a handle per argument that lives
until the page navigates: a page logging 100,000 errors costs hundreds of MB.
The CDP events carry plain values. ``Runtime.enable`` replays what was logged
before it, so a popup's first message is kept; workers and out-of-process
iframes are auto-attached child targets.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from collector.capture.store import CaptureStore
from collector.errors import first_line

PLAYWRIGHT_MARKER = "--playwright"
CDP_CONSOLE_LEVELS = {
    "warning": "warning", "assert": "error", "trace": "log", "dir": "log", "dirxml": "log",
    "table": "log", "count": "log", "timeEnd": "log", "startGroup": "log",
    "startGroupCollapsed": "log", "endGroup": "log", "clear": "log",
}  # fmt: skip
CDP_LOG_LEVELS = {"verbose": "debug", "info": "info", "warning": "warning", "error": "error"}
FORMAT_SPEC = re.compile(r"%[sdifoOc%]")
CHILD_DOMAINS = ("Runtime.enable", "Log.enable")

# Frames kept per exception or console error (what source maps resolve; the ticket shows 12).
MAX_FRAMES = 12
# Adds a listener to an emitter (a CDP session): (emitter, event, handler).
Subscribe = Callable[[Any, str, Callable[[Any], Any]], None]


@dataclass(frozen=True)
class PageConsole:
    """A page's DevTools session whose console is already on (``enable_console``)."""

    session: Any
    main_frame: str


async def enable_console(session: Any) -> str:
    """Turn on ``session``'s console, log and child targets; the id of the page's main frame.

    One round trip: frames are labelled when their messages arrive, by then the
    frame tree has (almost always) answered.
    """
    tree: dict[str, Any]
    tree, *_ = await asyncio.gather(
        session.send("Page.getFrameTree"),
        session.send("Runtime.enable"),
        session.send("Log.enable"),
        session.send(
            "Target.setAutoAttach",
            {"autoAttach": True, "waitForDebuggerOnStart": False, "flatten": False},
        ),
    )
    return str(tree["frameTree"]["frame"]["id"])


class ConsoleTarget:
    """Turns one page's CDP console traffic (and its child targets') into events."""

    def __init__(self, store: CaptureStore, label: str) -> None:
        self.store = store
        self.label = label
        self.main_frame: str | None = None
        # execution context -> (frame id, origin); None for isolated worlds (ignored)
        self.sources: dict[int, tuple[str | None, str] | None] = {}
        self.children: dict[str, str] = {}  # child session id -> source label
        self._session: Any = None
        self._next_id = 0
        # message id -> (child session id, the answer "quiet" waits for)
        self._answers: dict[int, tuple[str, asyncio.Future[None]]] = {}

    def listen(self, session: Any, subscribe: Subscribe) -> None:
        """Take ``session``'s events, each handler added through ``subscribe`` (the capture's:
        it keeps a failing handler from losing the run, and removes them all when it detaches)."""
        self._session = session
        subscribe(session, "Runtime.executionContextCreated", self.context_created)
        subscribe(session, "Runtime.consoleAPICalled", self.api_called)
        subscribe(session, "Runtime.exceptionThrown", self.exception_thrown)
        subscribe(session, "Log.entryAdded", self.log_entry)
        subscribe(session, "Target.attachedToTarget", self.child_attached)
        subscribe(session, "Target.receivedMessageFromTarget", self.child_message)
        subscribe(session, "Target.detachedFromTarget", self.child_detached)

    def unanswered(self) -> list[asyncio.Future[None]]:
        """The child targets' answers still to come (their replayed messages come before)."""
        return [answered for _child, answered in self._answers.values() if not answered.done()]

    def context_created(self, event: dict[str, Any]) -> None:
        context = event["context"]
        aux = context.get("auxData") or {}
        if not aux.get("isDefault", True):
            # Isolated worlds (Playwright's own utility scripts, extensions) are not the page.
            self.sources[context["id"]] = None
        else:
            self.sources[context["id"]] = (aux.get("frameId"), context.get("origin", ""))

    def source_of(self, context_id: int) -> str | None:
        """The page, or the frame of the page, a JavaScript context belongs to (None: ignore)."""
        if context_id not in self.sources:
            return self.label
        known = self.sources[context_id]
        if known is None:
            return None
        frame, origin = known
        if frame and self.main_frame and frame != self.main_frame:
            return f"{self.label} frame {origin}"
        return self.label

    def api_called(self, event: dict[str, Any], source: str | None = None) -> None:
        if source is None:
            source = self.source_of(event.get("executionContextId", -1))
            if source is None:
                return
        text = format_console_args(event.get("args") or [])
        if text.startswith(PLAYWRIGHT_MARKER):
            return
        url, line, column = _top_frame(event, None)
        kind = event.get("type", "log")
        level = CDP_CONSOLE_LEVELS.get(kind, kind)
        extra: dict[str, Any] = {}
        if level == "error":
            extra["frames"] = _call_frames(event)
        self.store.record(
            "console", level, text, url=url, line=line,
            column=column, source=source, at=event.get("timestamp"), **extra,
        )  # fmt: skip

    def exception_thrown(self, event: dict[str, Any], source: str | None = None) -> None:
        """An uncaught exception or unhandled rejection, as DevTools reports it."""
        details = event.get("exceptionDetails") or {}
        if source is None:
            source = self.source_of(details.get("executionContextId", -1))
            if source is None:
                return
        exception = details.get("exception") or {}
        description = exception.get("description") or ""
        if description:
            stack = description if "\n    at " in description else None
            text = description.split("\n    at ", 1)[0].strip()
        else:
            # `throw "text"` or a rejection with a plain value: no Error object.
            text = remote_text(exception) if exception else details.get("text", "")
            stack = None
        url, line, column = _top_frame(details, details.get("url") or None)
        if not (details.get("stackTrace") or {}).get("callFrames"):
            line = one_based(details.get("lineNumber"))
            column = one_based(details.get("columnNumber"))
        self.store.page_error(
            text,
            name=exception.get("className") or text.split(":", 1)[0] or "Error",
            rejection=str(details.get("text", "")).startswith("Uncaught (in promise)"),
            url=url, line=line, column=column, stack=stack, source=source,
            at=event.get("timestamp"), frames=_call_frames(details),
        )  # fmt: skip

    def log_entry(self, event: dict[str, Any], source: str | None = None) -> None:
        """Messages of the browser itself: failed resources, interventions, violations."""
        entry = event["entry"]
        if entry.get("workerId"):
            self._worker_entry(entry)
            return
        level = CDP_LOG_LEVELS.get(entry.get("level", "info"), "info")
        self.store.record(
            "console", level, entry.get("text", ""), url=entry.get("url") or None,
            line=one_based(entry.get("lineNumber")), source=source or self.label,
            at=entry.get("timestamp"), native=True,
        )  # fmt: skip

    def _worker_entry(self, entry: dict[str, Any]) -> None:
        """A dedicated worker's message, as its page relays it.

        The page's copy always arrives; a worker that finishes at once can be gone
        before its own target could be asked to replay. It has no stack or column.
        """
        text = entry.get("text", "")
        url = entry.get("url") or None
        source = f"worker {url}" if url else "worker"
        line = one_based(entry.get("lineNumber"))
        at = entry.get("timestamp")
        if text.startswith("Uncaught "):
            message = text[len("Uncaught ") :]
            rejection = message.startswith("(in promise) ")
            if rejection:
                message = message[len("(in promise) ") :]
            name = message.split(":", 1)[0] if ":" in message else "Error"
            self.store.page_error(
                message, name=name, rejection=rejection, url=url, line=line, source=source, at=at
            )
            return
        level = CDP_LOG_LEVELS.get(entry.get("level", "info"), "info")
        self.store.record("console", level, text, url=url, line=line, source=source, at=at)

    def child_attached(self, event: dict[str, Any]) -> None:
        """A child target (out-of-process frame, service or shared worker): enable its console."""
        info = event.get("targetInfo") or {}
        kind = info.get("type", "")
        # Dedicated workers: their page relays every message (see _worker_entry).
        if kind not in ("iframe", "service_worker", "shared_worker"):
            return
        child = event["sessionId"]
        what = "frame" if kind == "iframe" else kind.replace("_", " ")
        url = info.get("url", "")
        label = f"{self.label} {what} {url}" if kind == "iframe" else f"{what} {url}"
        self.children[child] = label.rstrip()
        for method in CHILD_DOMAINS:
            self._enable(child, method)

    def _enable(self, child: str, method: str) -> None:
        self._next_id += 1
        message = json.dumps({"id": self._next_id, "method": method, "params": {}})
        # "Quiet" waits for the child's answer: its replayed messages come before it.
        answered: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._answers[self._next_id] = (child, answered)
        sending = asyncio.ensure_future(
            self._session.send(
                "Target.sendMessageToTarget", {"sessionId": child, "message": message}
            )
        )

        def sent(task: asyncio.Future[Any]) -> None:
            failure = None if task.cancelled() else task.exception()
            if failure is not None:
                # No answer will come: say so, and let "quiet" stop waiting for one.
                self.store.note(
                    f"console of {self.children.get(child, child)}: {method} failed: "
                    f"{first_line(failure)}"
                )
            if (failure is not None or task.cancelled()) and not answered.done():
                answered.set_result(None)

        sending.add_done_callback(sent)

    def child_message(self, event: dict[str, Any]) -> None:
        source = self.children.get(event.get("sessionId", ""))
        if source is None:
            return
        message = json.loads(event["message"])
        waiting = self._answers.pop(message.get("id", -1), None)
        if waiting is not None:
            if "error" in message:
                error = (message["error"] or {}).get("message", "error")
                self.store.note(f"console of {source}: enabling failed: {error}")
            if not waiting[1].done():
                waiting[1].set_result(None)
        method = message.get("method")
        if method == "Runtime.consoleAPICalled":
            self.api_called(message["params"], source)
        elif method == "Runtime.exceptionThrown":
            self.exception_thrown(message["params"], source)
        elif method == "Log.entryAdded":
            self.log_entry(message["params"], source)

    def child_detached(self, event: dict[str, Any]) -> None:
        """A child target went away: it will answer nothing more."""
        child = event.get("sessionId", "")
        self.children.pop(child, None)
        for key, (owner, answered) in list(self._answers.items()):
            if owner == child:
                del self._answers[key]
                if not answered.done():
                    answered.set_result(None)


def format_console_args(args: list[dict[str, Any]]) -> str:
    """Console arguments as DevTools shows them: printf-style %s/%d/%o, then joined by spaces."""
    values = [remote_text(a) for a in args]
    if not values:
        return ""
    first = args[0]
    if first.get("type") == "string" and "%" in values[0] and len(values) > 1:
        rest = values[1:]

        def substitute(match: re.Match[str]) -> str:
            spec = match.group(0)
            if spec == "%%":
                return "%"
            if not rest:
                return spec
            value = rest.pop(0)
            return "" if spec == "%c" else value

        head = FORMAT_SPEC.sub(substitute, values[0])
        values = [head, *rest]
    return " ".join(values)


def remote_text(arg: dict[str, Any]) -> str:
    """A DevTools RemoteObject as the console prints it."""
    kind = arg.get("type")
    if "value" in arg:
        value = arg["value"]
        if value is None:
            return "null"
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    if kind == "undefined":
        return "undefined"
    if "unserializableValue" in arg:
        return str(arg["unserializableValue"])
    return str(arg.get("description") or arg.get("className") or kind or "")


def frames_from_callframes(call_frames: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """DevTools ``callFrames`` (0-based) as frame dicts (1-based), for ``Event.frames``."""
    frames = []
    for frame in call_frames[:MAX_FRAMES]:
        line, column = frame.get("lineNumber"), frame.get("columnNumber")
        frames.append(
            {
                "function": frame.get("functionName") or None,
                "url": frame.get("url") or None,
                "line": line + 1 if isinstance(line, int) else None,
                "column": column + 1 if isinstance(column, int) else None,
            }
        )
    return frames


def one_based(value: Any) -> int | None:
    return value + 1 if isinstance(value, int) else None


def _top_frame(
    event: dict[str, Any], url: str | None
) -> tuple[str | None, int | None, int | None]:
    """URL, line and column of the top call frame of ``event``'s stack trace, if any."""
    frames = (event.get("stackTrace") or {}).get("callFrames") or []
    if not frames:
        return url, None, None
    top = frames[0]
    return top.get("url") or url, one_based(top.get("lineNumber")), one_based(top.get("columnNumber"))


def _call_frames(event: Mapping[str, Any]) -> list[dict[str, Any]]:
    return frames_from_callframes((event.get("stackTrace") or {}).get("callFrames") or [])
