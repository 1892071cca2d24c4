"""A throwaway PostgreSQL cluster for the inbox's tests (Debian's `postgresql` package).

Started once per test module on a free port with fsync off, its data in a private temp
folder, stopped and removed at the end. Run as root, the server runs as `postgres`
(PostgreSQL refuses root). Without PostgreSQL the tests that want it skip, except in CI
(`CI` set), where `make setup` installs it, so they fail instead.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from shared_browser import free_port


def binaries() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(versions[-1]).parent if versions else None


@contextmanager
def cluster() -> Iterator[str | None]:
    """The URL of a fresh cluster's ``postgres`` database; None when PostgreSQL is missing."""
    bin_dir = binaries()
    if bin_dir is None:
        yield None
        return
    root = Path(tempfile.mkdtemp(prefix="collector-pg-"))
    data = root / "data"
    as_user: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    run = {"check": True, "capture_output": True, "cwd": root}
    subprocess.run([*as_user, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
                    "--auth=trust", "-E", "UTF8", "--no-sync"], **run)  # type: ignore[call-overload]  # fmt: skip
    options = f"-h 127.0.0.1 -p {port} -k {root} -F -c fsync=off -c full_page_writes=off"
    subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"),
                    "-o", options, "-w", "start"], **run)  # type: ignore[call-overload]  # fmt: skip
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "-w", "stop"], capture_output=True, cwd=root)  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


def new_database(url: str, name: str) -> str:
    """A new empty database on the cluster at ``url``; its URL."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + "/" + name
