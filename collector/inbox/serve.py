"""Put the inbox together and run it: the store, the replay worker, the folder watch,
uvicorn on a socket bound before anything else starts (127.0.0.1 unless told)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from collector.browser import BrowserOptions
from collector.errors import BadInput, OutputError
from collector.inbox.replays import ReplayWorker
from collector.inbox.store import Store
from collector.inbox.watch import FolderWatch
from collector.inbox.web import Inbox, create_app

TOKEN_ENV = "COLLECTOR_INBOX_TOKEN"


@dataclass(frozen=True)
class ServeOptions:
    bundles: Path
    db: str | None = None
    host: str = "127.0.0.1"
    port: int = 8080
    token: str | None = None
    watch: Path | None = None
    watch_interval_s: float = 1.0
    lang: str = "en"
    require_fixed_replay: bool = False
    replay_queue: int = 8
    browser: BrowserOptions | None = None
    secrets: Mapping[str, str] = field(default_factory=dict)  # what replays may type


def token_from(env: Mapping[str, str], config_token: str | None) -> str | None:
    """The upload token: the environment first (as ``collector submit`` reads it), then config."""
    return env.get(TOKEN_ENV) or config_token or None


def db_path(db: str | None, bundles: Path) -> Path | str:
    """The database: a SQLite file (a path or ``sqlite:///path``; default in the bundles
    folder), or a ``postgresql://`` URL as it is."""
    if db is None:
        return bundles / "inbox.sqlite3"
    if db.startswith(("postgresql://", "postgres://")):
        return db
    if db.startswith("sqlite:///"):
        return Path(db.removeprefix("sqlite:///"))
    if "://" in db:
        raise BadInput(
            f"--db: expected a SQLite file, sqlite:///path or postgresql://…, not {db.split(':')[0]}:"
        )
    return Path(db)


@dataclass
class Running:
    url: str
    inbox: Inbox
    watch: FolderWatch | None


@contextmanager
def running(options: ServeOptions) -> Iterator[Running]:
    """The inbox serving in a background thread until the block ends (tests, bench)."""
    import uvicorn

    with _parts(options) as (inbox, watch, sock):
        config = uvicorn.Config(
            create_app(inbox), log_level="warning", access_log=False, lifespan="off"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        started = threading.Event()
        while not server.started and thread.is_alive():
            started.wait(0.01)
        host, port = sock.getsockname()[:2]
        try:
            yield Running(f"http://{host}:{port}", inbox, watch)
        finally:
            server.should_exit = True
            thread.join(timeout=10)


def serve(options: ServeOptions, say: Callable[[str], None]) -> None:
    """Serve until interrupted (Ctrl-C, SIGTERM)."""
    import uvicorn

    with _parts(options) as (inbox, _watch, sock):
        host, port = sock.getsockname()[:2]
        say(f"Inbox: http://{host}:{port}/ (bundles in {options.bundles})")
        if inbox.token is None:
            say(f"The upload API is off: set {TOKEN_ENV} (or [submit] inbox_token) to turn it on")
        config = uvicorn.Config(create_app(inbox), log_level="warning", lifespan="off")
        uvicorn.Server(config).run(sockets=[sock])


@contextmanager
def _parts(options: ServeOptions) -> Iterator[tuple[Inbox, FolderWatch | None, socket.socket]]:
    path = db_path(options.db, options.bundles)
    # A server database is reached first: if it cannot be, nothing is created here.
    store = Store(path) if isinstance(path, str) else None
    sock = socket.socket(socket.AF_INET6 if ":" in options.host else socket.AF_INET)
    try:
        options.bundles.mkdir(parents=True, exist_ok=True)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((options.host, options.port))
        store = store or Store(path)
    except OSError as exc:
        sock.close()
        if store is not None:
            store.close()
        if exc.filename is not None:
            raise OutputError(f"--bundles {options.bundles}: {exc.strerror}") from None
        raise OutputError(
            f"cannot listen on {options.host}:{options.port}: {exc.strerror}"
        ) from None
    worker = ReplayWorker(
        store, options.bundles, options.browser or BrowserOptions(),
        options.bundles / ".replays", max_queued=options.replay_queue,
        secrets=options.secrets,
    )  # fmt: skip
    inbox = Inbox(
        store, options.bundles, options.token, lang=options.lang, worker=worker,
        require_fixed_replay=options.require_fixed_replay,
    )  # fmt: skip
    stop = threading.Event()
    watch = None
    if options.watch is not None:
        watch = FolderWatch(options.watch, options.bundles, store)
        threading.Thread(
            target=watch.run, args=(stop, options.watch_interval_s), daemon=True
        ).start()
    try:
        yield inbox, watch, sock
    finally:
        stop.set()
        worker.stop()
        store.close()
        sock.close()
