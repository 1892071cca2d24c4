"""A minified site with every kind of source map, built once with esbuild, and its server.

``build_site()`` builds tests/sourcemap-app/src (a small multi-file TypeScript cart)
into tests/sourcemap-app/build/<hash of the inputs>/ (git-ignored): built once, then
reused until the sources change; parallel workers build into a temporary folder and
rename it into place. ``serve(site)`` serves it on 127.0.0.1 with the endpoints that
misbehave on purpose (a 50 MB map, a map that never answers, a SourceMap header).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

APP = Path(__file__).parent / "sourcemap-app"
ESBUILD = APP / "node_modules" / ".bin" / "esbuild"
BIG_MAP_BYTES = 50_000_000

# Each bundle is the same cart, with buttons #pay-NAME (throws deep inside) and #log-NAME.
BUNDLES = ("ext", "inline", "local", "header", "v2")
# Scripts whose map is broken on purpose: name -> its sourceMappingURL.
BAD_MAPS = {
    "bad-404": "bad-404.js.map",
    "bad-big": "/big.map",
    "bad-json": "bad-json.js.map",
    "bad-version": "bad-version.js.map",
    "bad-scheme": "file:///etc/passwd",
    "bad-outside": "../secret.map",
    "bad-timeout": "/hang.map",
}

INDEX = """<!doctype html>
<html><head><meta charset="utf-8"><title>Minified cart</title></head>
<body>
<h1>Minified cart</h1>
<script>document.cookie = "shop=minified; path=/";</script>
<p>Total: <span id="total">-</span></p>
{buttons}
{scripts}
</body></html>
"""


def esbuild_missing() -> str | None:
    """Why the site cannot be built here (None: it can)."""
    if not ESBUILD.exists():
        return "esbuild not installed (make setup installs it)"
    return None


def _inputs_hash() -> str:
    digest = hashlib.sha256()
    for path in [*sorted((APP / "src").rglob("*.ts")), APP / "package-lock.json", Path(__file__)]:
        digest.update(path.relative_to(APP.parent).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def build_site() -> Path:
    """The built site folder (``site/`` served, ``maps/`` the local maps), built once."""
    done = APP / "build" / _inputs_hash()
    if (done / "site" / "index.html").exists():
        return done
    done.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="building-", dir=done.parent))
    _build_into(work)
    try:
        os.rename(work, done)
    except OSError:
        shutil.rmtree(work, ignore_errors=True)  # another worker was first: its build stands
    return done


def _esbuild(*args: str, cwd: Path) -> None:
    subprocess.run(
        [str(ESBUILD), *args, "--log-level=warning"], cwd=cwd, check=True, timeout=60
    )


def _build_into(root: Path) -> None:
    # Like a real project: src/ next to the output folder, so the maps name ../src/...
    shutil.copytree(APP / "src", root / "src")
    assets, maps = root / "site" / "assets", root / "maps"
    assets.mkdir(parents=True)
    maps.mkdir()
    for name in BUNDLES:
        args = ["src/main.ts", "--bundle", "--minify", f"--define:BUILD={json.dumps(name)}"]
        if name == "inline":
            args.append("--sourcemap=inline")
        elif name == "header":
            args.append("--sourcemap=external")  # no comment: the server sends a header
        else:
            args.append("--sourcemap")
        if name == "v2":
            args.append("--inject:src/extra.ts")  # another build: other minified names
        _esbuild(*args, f"--outfile=site/assets/{name}.js", cwd=root)
    # The map that is not deployed: only in the local folder (--source-maps).
    (assets / "local.js.map").rename(maps / "local.js.map")
    shutil.copy(assets / "local.js", maps / "local.js")  # a dist folder: the script beside
    # v2's map as an index map (sections).
    plain = json.loads((assets / "v2.js.map").read_text())
    index = {"version": 3, "sections": [{"offset": {"line": 0, "column": 0}, "map": plain}]}
    (assets / "v2.js.map").write_text(json.dumps(index))
    _esbuild("src/bad.ts", "--minify", "--outfile=bad.js", cwd=root)
    bad = (root / "bad.js").read_text()
    for name, reference in BAD_MAPS.items():
        (assets / f"{name}.js").write_text(f"{bad}//# sourceMappingURL={reference}\n")
    (assets / "bad-json.js.map").write_text("{not json")
    (assets / "bad-version.js.map").write_text(
        json.dumps({"version": 2, "sources": ["a.ts"], "mappings": "AAAA"})
    )
    (root / "secret.map").write_text((maps / "local.js.map").read_text())
    buttons = "\n".join(
        f'<button id="pay-{n}">Pay {n}</button> <button id="log-{n}">Log {n}</button>'
        for n in BUNDLES
    )
    scripts = "\n".join(
        f'<script src="/assets/{n}.js"></script>' for n in (*BUNDLES, *BAD_MAPS)
    )
    (root / "site" / "index.html").write_text(INDEX.format(buttons=buttons, scripts=scripts))
    # Logs a console error from ext.js as it loads: `check` of two such pages fetches the
    # map once.
    logs = (
        '<button id="log-ext">Log</button>\n<script src="/assets/ext.js"></script>\n'
        '<script>document.getElementById("log-ext").click();</script>'
    )
    (root / "site" / "logs.html").write_text(INDEX.format(buttons="", scripts=logs))
    # Only the bundle whose map is not deployed (a run without --source-maps).
    local = '<button id="pay-local">Pay</button>\n<script src="/assets/local.js"></script>'
    (root / "site" / "local.html").write_text(INDEX.format(buttons="", scripts=local))


class SiteHandler(SimpleHTTPRequestHandler):
    site: Path
    seen: list[str]
    headers_of: dict[str, dict[str, str]]
    # Set when the server stops: /hang.map answers nothing before (a timeout, whatever the load).
    stopping: threading.Event

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, directory=str(self.site), **kwargs)

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self.seen.append(self.path)
        self.headers_of[self.path] = dict(self.headers.items())
        if self.path == "/big.map":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(BIG_MAP_BYTES))
            self.end_headers()
            chunk = b" " * 1_000_000
            try:
                for _ in range(BIG_MAP_BYTES // len(chunk)):
                    self.wfile.write(chunk)
            except OSError:
                pass  # the reader stopped: what a size limit does
            return
        if self.path == "/hang.map":
            self.stopping.wait(120)
            return
        super().do_GET()

    def end_headers(self) -> None:
        if self.path == "/assets/header.js":
            self.send_header("SourceMap", "/assets/header.js.map")
        super().end_headers()


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # a client that stopped reading (the 50 MB map) is what the test wants


@contextmanager
def serve(site: Path) -> Iterator[tuple[str, list[str], dict[str, dict[str, str]]]]:
    """Serve ``site`` on a free port: (base URL, the paths requested in order, the request
    headers of each path's last request)."""
    seen: list[str] = []
    headers_of: dict[str, dict[str, str]] = {}
    stopping = threading.Event()
    handler = type(
        "Handler",
        (SiteHandler,),
        {"site": site, "seen": seen, "headers_of": headers_of, "stopping": stopping},
    )
    server = _QuietServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen, headers_of
    finally:
        stopping.set()
        server.shutdown()
        server.server_close()
