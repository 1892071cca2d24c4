"""The inbox's web application (Starlette): the upload API and the support team's pages.

Every page is rendered by the one Jinja2 environment (``ticket.environment``: HTML
autoescaped, so page text from a bundle is data). Forms carry a CSRF token (double
submit: a random cookie, ``SameSite=Strict``, repeated in a hidden field and compared in
constant time). Files of a bundle are read out of its stored zip by their name in the
zip's own listing: no path the request names ever reaches the file system. A bundle's
``report.html`` is served with the same no-script CSP it carries, plus ``sandbox``.
"""

from __future__ import annotations

import hmac
import json
import mimetypes
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from collector.bundle_reader import REFERENCE_FORMAT, parse_report
from collector.errors import BundleError
from collector.inbox.intake import MAX_UPLOAD_BYTES, Refused, read_member, receive
from collector.inbox.intake import members as bundle_members
from collector.inbox.replays import QueueFull, ReplayWorker
from collector.inbox.store import STATUSES, Store, StoreUnavailable
from collector.labels import INBOX_LABELS
from collector.report import Report
from collector.text import one_line

# The CSP report.html carries in its own <meta>, as a header, and no script, no frames.
REPORT_CSP = (
    "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; "
    "frame-ancestors 'self'; sandbox"
)
PAGE_CSP = (
    "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; "
    "frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
CSRF_COOKIE = "collector_csrf"
TEXT_TYPES = {".log": "text/plain", ".yaml": "text/plain", ".md": "text/plain",
              ".json": "application/json", ".txt": "text/plain"}  # fmt: skip


@dataclass
class Inbox:
    """What the application serves from."""

    store: Store
    bundles: Path
    token: str | None
    lang: str = "en"
    worker: ReplayWorker | None = None
    require_fixed_replay: bool = False


def create_app(inbox: Inbox) -> Starlette:
    pages = _Pages(inbox)
    routes = [
        Route("/", pages.issues),
        Route("/issues/{issue_id:int}", pages.issue, methods=["GET", "POST"]),
        Route("/reports/{reference}", pages.report),
        Route("/reports/{reference}/files/{name:path}", pages.file),
        Route("/reports/{reference}/ticket.{fmt}", pages.ticket),
        Route("/reports/{reference}/replay", pages.replay, methods=["POST"]),
        Route("/upload", pages.upload, methods=["GET", "POST"]),
        Route("/api/bundles", pages.api_upload, methods=["POST"]),
        Route("/api/issues", pages.api_issues),
    ]
    app = Starlette(routes=routes)
    app.state.inbox = inbox
    return app


def _security_headers(response: Response, csp: str = PAGE_CSP) -> Response:
    response.headers["Content-Security-Policy"] = csp
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


class _Pages:
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self.store = inbox.store

    # -- helpers -------------------------------------------------------------------------

    def _lang(self, request: Request) -> str:
        lang = request.query_params.get("lang", self.inbox.lang)
        return lang if lang in INBOX_LABELS else self.inbox.lang

    def _page(
        self, request: Request, template: str, status: int = 200, **variables: Any
    ) -> Response:
        from collector.ticket import environment

        token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
        lang = self._lang(request)
        variables = {"message": None, "query": "", **variables}
        html = environment().get_template(f"inbox/{template}").render(
            t=INBOX_LABELS[lang], lang=lang, csrf=token, statuses=STATUSES, **variables
        )
        response = _security_headers(HTMLResponse(html, status_code=status))
        response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict")
        return response

    async def _form(self, request: Request) -> dict[str, Any] | None:
        """The form's fields when its CSRF token matches the cookie; else None."""
        form = await request.form(max_files=2, max_fields=20, max_part_size=MAX_UPLOAD_BYTES)
        fields = {key: form.get(key) for key in form}
        cookie = request.cookies.get(CSRF_COOKIE, "")
        sent = fields.get("csrf")
        if not cookie or not isinstance(sent, str) or not hmac.compare_digest(cookie, sent):
            return None
        return fields

    def _refuse_csrf(self, request: Request) -> Response:
        t = INBOX_LABELS[self._lang(request)]
        return self._page(request, "message.html.j2", 403, message=t["bad_csrf"])

    def _known(self, reference: str) -> dict[str, Any] | None:
        if not REFERENCE_FORMAT.fullmatch(reference):
            return None
        return self.store.report(reference)

    def _not_found(self, request: Request) -> Response:
        t = INBOX_LABELS[self._lang(request)]
        return self._page(request, "message.html.j2", 404, message=t["not_found"])

    def _report_model(self, reference: str) -> Report:
        data = read_member(self.inbox.bundles, reference, "report.json") or b""
        return parse_report(data.decode("utf-8", "replace"), reference)

    # -- pages ---------------------------------------------------------------------------

    async def issues(self, request: Request) -> Response:
        query = request.query_params.get("q", "")[:500]
        rows = self.store.search(query) if query else self.store.issues()
        return self._page(request, "issues.html.j2", issues=rows, query=query)

    async def issue(self, request: Request) -> Response:
        issue_id = int(request.path_params["issue_id"])
        found = self.store.issue(issue_id)
        if found is None:
            return self._not_found(request)
        message = None
        status_code = 200
        if request.method == "POST":
            fields = await self._form(request)
            if fields is None:
                return self._refuse_csrf(request)
            status = str(fields.get("status") or "") or None
            assignee = fields.get("assignee")
            t = INBOX_LABELS[self._lang(request)]
            if status is not None and status not in STATUSES:
                status = None
            if (
                status == "fixed"
                and found["status"] != "fixed"
                and self.inbox.require_fixed_replay
                and not self.store.passed_fixed_replay(issue_id)
            ):
                message, status_code, status = t["needs_fixed_replay"], 409, None
            self.store.update_issue(
                issue_id,
                status=status,
                assignee=None if assignee is None else one_line(assignee)[:100],
            )
            if message is None:
                return RedirectResponse(request.url.path, status_code=303)
            found = self.store.issue(issue_id) or found
        return self._page(
            request, "issue.html.j2", status_code, issue=found,
            reports=self.store.reports_of(issue_id), message=message,
        )  # fmt: skip

    async def report(self, request: Request) -> Response:
        reference = request.path_params["reference"]
        row = self._known(reference)
        if row is None:
            return self._not_found(request)
        report = self._report_model(reference)
        names = bundle_members(self.inbox.bundles, reference)
        console = read_member(self.inbox.bundles, reference, "console.log")
        return self._page(
            request,
            "report.html.j2",
            row=row,
            report=report,
            issue=self.store.issue(row["issue_id"]),
            fingerprints=self.store.fingerprints_of(reference),
            screenshots=sorted(n for n in names if n.startswith("screenshots/")),
            has_html="report.html" in names,
            console=(console or b"").decode("utf-8", "replace")[:200_000],
            replays=self.store.replays_of(reference),
            message=INBOX_LABELS[self._lang(request)].get(
                "replay_asked" if request.query_params.get("said") == "replay_asked" else ""
            ),
        )

    async def file(self, request: Request) -> Response:
        reference = request.path_params["reference"]
        if self._known(reference) is None:
            return self._not_found(request)
        name = request.path_params["name"]
        # Only a name the zip itself lists: nothing the request says reaches a path.
        data = read_member(self.inbox.bundles, reference, name)
        if data is None:
            return self._not_found(request)
        suffix = Path(name).suffix.lower()
        kind = TEXT_TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind == "application/json":
            kind += "; charset=utf-8"
        response = Response(data, media_type=kind)
        if suffix not in (".html", ".png", ".jpg", ".jpeg", ".webp") and not kind.startswith(
            ("text/", "application/json")
        ):
            response.headers["Content-Disposition"] = "attachment"
        return _security_headers(response, REPORT_CSP)

    async def ticket(self, request: Request) -> Response:
        from collector.bundle_reader import open_bundle
        from collector.inbox.intake import zip_path
        from collector.ticket import build_context, render_eml, render_ticket

        reference, fmt = request.path_params["reference"], request.path_params["fmt"]
        if self._known(reference) is None or fmt not in ("md", "eml", "txt", "json"):
            return self._not_found(request)
        lang = self._lang(request)
        received = open_bundle(zip_path(self.inbox.bundles, reference))
        context = build_context(received.report, lang=lang)
        if fmt == "eml":
            data = render_eml(context, received.attachment())
            kind = "message/rfc822"
        else:
            data = render_ticket(context, fmt).encode("utf-8")
            kind = "application/json" if fmt == "json" else "text/plain; charset=utf-8"
        filename = f"{reference}-{lang}.{fmt}"
        response = Response(data, media_type=kind)
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
        return _security_headers(response, REPORT_CSP)

    async def replay(self, request: Request) -> Response:
        reference = request.path_params["reference"]
        if self._known(reference) is None or self.inbox.worker is None:
            return self._not_found(request)
        fields = await self._form(request)
        if fields is None:
            return self._refuse_csrf(request)
        t = INBOX_LABELS[self._lang(request)]
        expect = "fixed" if fields.get("expect") == "fixed" else "reproduced"
        base_url = str(fields.get("url") or "").strip() or None
        if base_url is not None and not base_url.startswith(("http://", "https://")):
            base_url = None
        try:
            self.inbox.worker.ask(reference, expect, base_url)
        except QueueFull:
            return self._page(request, "message.html.j2", 429, message=t["queue_full"])
        return RedirectResponse(f"/reports/{reference}?said=replay_asked", status_code=303)

    async def upload(self, request: Request) -> Response:
        t = INBOX_LABELS[self._lang(request)]
        if request.method == "GET":
            return self._page(request, "upload.html.j2")
        too_big = self._too_big(request)
        if too_big is not None:
            return self._page(request, "upload.html.j2", 413, message=too_big)
        fields = await self._form(request)
        if fields is None:
            return self._refuse_csrf(request)
        upload = fields.get("bundle")
        if upload is None or isinstance(upload, str):
            return self._page(request, "upload.html.j2", 400, message=t["refused"].format(
                why="no file"))  # fmt: skip
        data = await upload.read()
        try:
            received = await run_in_threadpool(
                receive, data, self.inbox.bundles, self.store, label="upload"
            )
        except Refused as exc:
            return self._page(request, "upload.html.j2", exc.status, message=t["refused"].format(
                why=one_line(exc)[:400]))  # fmt: skip
        return RedirectResponse(f"/issues/{received.stored.issue_id}", status_code=303)

    @staticmethod
    def _too_big(request: Request) -> str | None:
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_UPLOAD_BYTES + 100_000:
            return f"larger than any bundle ({MAX_UPLOAD_BYTES:,} bytes)"
        return None

    # -- the API ---------------------------------------------------------------------------

    async def api_upload(self, request: Request) -> Response:
        """``collector submit --inbox``'s contract (see collector/submit.py)."""
        token = self.inbox.token
        sent = request.headers.get("authorization", "")
        if token is None or not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            return JSONResponse({"error": "missing or wrong upload token"}, 401)
        too_big = self._too_big(request)
        if too_big is not None:
            return JSONResponse({"error": too_big}, 413)
        try:
            form = await request.form(max_files=2, max_fields=4, max_part_size=MAX_UPLOAD_BYTES)
        except Exception as exc:  # a malformed multipart body
            return JSONResponse({"error": f"unreadable form: {one_line(exc)[:200]}"}, 400)
        upload = form.get("bundle")
        if upload is None or isinstance(upload, str):
            return JSONResponse({"error": "no bundle part (the zip)"}, 400)
        data = await upload.read()
        reference = request.headers.get("x-collector-reference") or None
        try:
            received = await run_in_threadpool(
                receive, data, self.inbox.bundles, self.store, label="bundle", reference=reference
            )
        except Refused as exc:
            return JSONResponse({"error": one_line(exc)[:500]}, exc.status)
        except StoreUnavailable as exc:  # submit tries again after Retry-After
            return JSONResponse({"error": one_line(exc)[:500]}, 503, {"Retry-After": "5"})
        except BundleError as exc:
            return JSONResponse({"error": one_line(exc)[:500]}, 422)
        stored = received.stored
        answer = {
            "reference": stored.reference,
            "issue_url": str(request.url_for("issue", issue_id=stored.issue_id)),
        }
        return JSONResponse(answer, 409 if stored.already else 201)

    async def api_issues(self, request: Request) -> Response:
        query = request.query_params.get("q", "")[:500]
        rows = self.store.search(query) if query else self.store.issues()
        return Response(json.dumps(rows), media_type="application/json")

