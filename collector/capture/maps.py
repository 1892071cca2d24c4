"""Source maps, the fetching part: each script's map, once, while the steps run.

A script is fetched the moment a frame of it first shows up in an exception or a
console error, through the page's own browser context (``context.request``: the
same cookies and headers as the page), with a size and a time limit; its map
comes from a local folder (``--source-maps DIR``, for maps that are not
deployed), an inline ``data:`` URL, or its URL (``sourceMappingURL`` comment,
``SourceMap``/``X-SourceMap`` header). Nothing here fails a run: a map that cannot
be had leaves the frames generated and one capture note says why.
"""

from __future__ import annotations

import asyncio
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from symbolic.sourcemap import SourceView

from collector.errors import first_line
from collector.sourcemaps import LoadedMap, MapProblem, data_url_bytes, map_reference, parse_map

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext

# status, headers, body
Fetched = tuple[int, dict[str, str], bytes]
Fetch = Callable[[str, int], Awaitable[Fetched]]


@dataclass(frozen=True)
class MapLimits:
    """How much resolving may cost a run."""

    max_bytes: int = 20_000_000  # one script or one map
    timeout_s: float = 5.0  # one script or one map
    max_scripts: int = 50  # scripts per run whose maps are looked for
    finish_s: float = 5.0  # how long the end of a run waits for maps still coming


@dataclass
class MapCache:
    """Maps by script URL, kept across the runs of one command (``check``'s pages)."""

    found: dict[str, LoadedMap | None] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    # Fetches under way: a second page wanting the same script waits for the first's.
    fetching: dict[str, asyncio.Future[None]] = field(default_factory=dict)


def context_fetch(
    context: BrowserContext, timeout_s: float, user_agent: Callable[[], str] = str
) -> Fetch:
    """GET with ``context``'s cookies (and the browser's user agent), reading at most a size.

    Playwright's own ``context.request`` reads a whole body before it answers (a
    50 MB map would be read to be refused): this reads the headers, refuses a
    ``Content-Length`` over the limit at once, and stops reading past it.
    """

    async def fetch(url: str, max_bytes: int) -> Fetched:
        headers = {"Accept": "*/*"}
        cookies = await context.cookies([url])
        if cookies:
            headers["Cookie"] = "; ".join(f"{c['name']}={c['value']}" for c in cookies)
        agent = user_agent()
        if agent:
            headers["User-Agent"] = agent
        return await asyncio.to_thread(http_get, url, headers, max_bytes, timeout_s)

    return fetch


# http(s) only: no file:, ftp: or data: handler, so a redirect cannot leave the web.
_OPENER = urllib.request.OpenerDirector()
for _handler in (
    urllib.request.HTTPHandler(),
    urllib.request.HTTPSHandler(),
    urllib.request.HTTPRedirectHandler(),
    urllib.request.HTTPErrorProcessor(),
    urllib.request.HTTPDefaultErrorHandler(),
):
    _OPENER.add_handler(_handler)


def http_get(url: str, headers: Mapping[str, str], max_bytes: int, timeout_s: float) -> Fetched:
    """One GET (blocking; run in a thread): status, headers, at most ``max_bytes`` of body."""
    request = urllib.request.Request(url, headers=dict(headers))
    try:
        response = _OPENER.open(request, timeout=timeout_s)
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code, dict(exc.headers.items()), b""
    except urllib.error.URLError as exc:
        raise MapProblem(f"{url} not fetched ({exc.reason})") from None
    with response:
        answer = dict(response.headers.items())
        length = response.headers.get("Content-Length", "")
        if length.isdigit() and int(length) > max_bytes:
            raise MapProblem(f"{url} is too big ({int(length):,} bytes, limit {max_bytes:,})")
        body = response.read(max_bytes + 1)
        if len(body) > max_bytes:
            raise MapProblem(f"{url} is too big (over the limit of {max_bytes:,} bytes)")
        return response.status, answer, body


class SourceMaps:
    """One run's map look-ups: ``want`` a script (starts its fetch), ``finish``, then ``loaded``."""

    def __init__(
        self,
        fetch: Fetch | None,
        local_dir: Path | None = None,
        limits: MapLimits | None = None,
        cache: MapCache | None = None,
    ) -> None:
        self.fetch = fetch
        self.local_dir = local_dir
        self.limits = limits or MapLimits()
        self.cache = cache if cache is not None else MapCache()
        self._tasks: dict[str, asyncio.Future[None]] = {}
        self.notes: list[str] = []
        self._used: set[str] = set()

    def want(self, urls: Iterable[str]) -> None:
        """Start looking for the maps of ``urls`` (each script once per run)."""
        for url in urls:
            if url in self._used:
                continue
            if len(self._used) >= self.limits.max_scripts:
                return
            self._used.add(url)
            if url in self.cache.found:
                continue
            task = self.cache.fetching.get(url)
            if task is None:
                task = self.cache.fetching[url] = asyncio.ensure_future(self._load(url))
            self._tasks[url] = task

    async def finish(self) -> None:
        """Wait (at most ``limits.finish_s``) for the maps still being fetched."""
        pending = [t for t in self._tasks.values() if not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=self.limits.finish_s)
        for url, task in self._tasks.items():
            if not task.done():
                task.cancel()
                self.cache.fetching.pop(url, None)
                self.cache.notes[url] = (
                    f"source map for {url}: not fetched by the end of the run "
                    f"({self.limits.finish_s:g} s more); frames stay as generated"
                )

    def loaded(self) -> dict[str, LoadedMap]:
        """The maps found for the scripts this run wanted; notes for the ones not found."""
        for url in sorted(self._used):
            note = self.cache.notes.get(url)
            if note and note not in self.notes:
                self.notes.append(note)
        return {u: m for u in self._used if (m := self.cache.found.get(u)) is not None}

    async def _load(self, url: str) -> None:
        try:
            found = await asyncio.wait_for(self._find(url), self.limits.timeout_s * 2)
        except MapProblem as exc:
            self.cache.notes[url] = f"source map for {url}: {exc}; frames stay as generated"
            found = None
        except TimeoutError:
            self.cache.notes[url] = (
                f"source map for {url}: timed out after {self.limits.timeout_s * 2:g} s; "
                "frames stay as generated"
            )
            found = None
        except Exception as exc:
            self.cache.notes[url] = f"source map for {url}: {first_line(exc)}"
            found = None
        self.cache.found[url] = found

    async def _get(self, url: str, what: str) -> Fetched:
        if self.fetch is None:
            raise MapProblem(f"{what} {url} not fetched (no browser context)")
        try:
            return await asyncio.wait_for(
                self.fetch(url, self.limits.max_bytes), self.limits.timeout_s
            )
        except TimeoutError:
            raise MapProblem(
                f"{what} {url} not answered within {self.limits.timeout_s:g} s (timeout)"
            ) from None
        except MapProblem:
            raise
        except Exception as exc:
            raise MapProblem(f"{what} {url} not fetched ({first_line(exc)})") from None

    async def _find(self, url: str) -> LoadedMap | None:
        limits = self.limits
        local = self._local_by_name(url)
        script: SourceView | None = None
        status, headers, body = await self._get(url, "script") if self.fetch else (0, {}, b"")
        if status >= 400:
            if local is None:
                raise MapProblem(f"script answered HTTP {status}")
        elif body:
            script = SourceView.from_bytes(body)
        if local is not None:
            if script is None:
                # No page to ask (symbolicate): the script itself, next to its map, names functions.
                beside = local.with_suffix("")
                if beside.is_file() and beside.stat().st_size <= limits.max_bytes:
                    script = SourceView.from_bytes(beside.read_bytes())
            return LoadedMap(parse_map(local.read_bytes(), str(local)), script)
        if self.fetch is None:
            raise MapProblem(f"no map for it in {self.local_dir}")
        reference = map_reference(body, headers)
        if reference is None:
            return None  # not minified, or shipped without a map: nothing to say
        if reference.startswith("data:"):
            data = data_url_bytes(reference, limits.max_bytes)
            return LoadedMap(parse_map(data, "the inline map"), script)
        if self.local_dir is not None:
            in_dir = self._local_by_reference(reference)
            if in_dir is not None:
                return LoadedMap(parse_map(in_dir.read_bytes(), str(in_dir)), script)
        map_url = urljoin(url, reference)
        if urlsplit(map_url).scheme not in ("http", "https"):
            raise MapProblem(f"the map {reference!r} points outside the site; not read")
        status, _headers, data = await self._get(map_url, "map")
        if status >= 400:
            raise MapProblem(f"{map_url} answered HTTP {status}")
        return LoadedMap(parse_map(data, map_url), script)

    def _local_by_name(self, url: str) -> Path | None:
        """``DIR/<script name>.map``, or ``DIR/<script path>.map`` (e.g. assets/app.js.map)."""
        if self.local_dir is None:
            return None
        path = PurePosixPath(urlsplit(url).path)
        candidates = [PurePosixPath(path.name + ".map")]
        parts = [p for p in path.parts if p not in ("/", "..", ".")]
        for start in range(len(parts) - 1):
            candidates.append(PurePosixPath(*parts[start:-1], path.name + ".map"))
        for candidate in candidates:
            found = self._inside(candidate.as_posix())
            if found is not None:
                return found
        return None

    def _local_by_reference(self, reference: str) -> Path | None:
        if "://" in reference or reference.startswith("/"):
            reference = PurePosixPath(urlsplit(reference).path).name
        return self._inside(reference)

    def _inside(self, relative: str) -> Path | None:
        """``DIR/relative`` when it is a regular file inside DIR (symlinks resolved)."""
        if self.local_dir is None:
            return None
        root = self.local_dir.resolve()
        target = (root / relative).resolve()
        if not target.is_relative_to(root):
            if (root / relative).exists():
                raise MapProblem(f"the map {relative!r} points outside {self.local_dir}; not read")
            return None
        if not target.is_file():
            return None
        if target.stat().st_size > self.limits.max_bytes:
            raise MapProblem(
                f"{target} is too big ({target.stat().st_size:,} bytes, "
                f"limit {self.limits.max_bytes:,})"
            )
        return target


def merge_notes(problems: list[str], notes: Mapping[str, str] | list[str]) -> None:
    for note in notes if isinstance(notes, list) else notes.values():
        if note not in problems:
            problems.append(note)
