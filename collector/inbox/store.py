"""The inbox's metadata: SQLite (stdlib ``sqlite3``, WAL) by default, PostgreSQL
(psycopg 3) for a team sharing one inbox; the schema versioned by migrations.

The repository layer is the only code that writes SQL; the pages and the intake ask it
for what they need (``issues``, ``issue``, ``reports_of``, ``report``, ``search`` …).

Grouping: a report belongs to the issue of its *first* failing fingerprint (the
order ``assemble.failing_fingerprints`` gives: the report's failing groups, then its
outcome), as Sentry gives an event one fingerprint; every failing fingerprint of a
report is kept in ``report_fingerprints`` so a search by any of them finds it. A report
with nothing failing goes to the issue ``clean``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from collector.errors import ConfigError, EnvironmentProblem
from collector.text import one_line, utc_stamp

STATUSES = ("new", "confirmed", "fixed", "wontfix")
CLEAN = "clean"

# Each entry runs once, in order; ``schema_version`` is the number of entries applied.
# ``{serial}`` is the dialect's auto-numbered primary key.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE issues (
        id {serial},
        fingerprint TEXT NOT NULL UNIQUE,
        message TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'new',
        assignee TEXT NOT NULL DEFAULT '',
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL
    );
    CREATE TABLE reports (
        reference TEXT PRIMARY KEY,
        issue_id INTEGER NOT NULL REFERENCES issues(id),
        title TEXT NOT NULL,
        created TEXT NOT NULL,
        received TEXT NOT NULL,
        url TEXT NOT NULL,
        browser TEXT NOT NULL,
        outcome TEXT NOT NULL,
        search_text TEXT NOT NULL
    );
    CREATE INDEX reports_issue ON reports(issue_id);
    CREATE TABLE report_fingerprints (
        reference TEXT NOT NULL REFERENCES reports(reference),
        fingerprint TEXT NOT NULL,
        message TEXT NOT NULL,
        position INTEGER NOT NULL,
        PRIMARY KEY (reference, fingerprint)
    );
    CREATE INDEX report_fingerprints_fp ON report_fingerprints(fingerprint);
    """,
    """
    CREATE TABLE replays (
        id {serial},
        reference TEXT NOT NULL REFERENCES reports(reference),
        expect TEXT NOT NULL,
        state TEXT NOT NULL,
        verdict TEXT NOT NULL DEFAULT '',
        as_expected INTEGER,
        why TEXT NOT NULL DEFAULT '',
        requested TEXT NOT NULL,
        finished TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX replays_reference ON replays(reference);
    """,
)


@dataclass(frozen=True)
class NewReport:
    """What the intake stores about one received bundle."""

    reference: str
    title: str
    created: str
    received: str
    url: str
    browser: str
    outcome: str
    fingerprints: dict[str, str]  # failing fingerprint -> message, first one decides the issue
    search_text: str


@dataclass(frozen=True)
class Stored:
    reference: str
    issue_id: int
    already: bool  # the reference was received before: nothing changed


@dataclass(frozen=True)
class Dialect:
    """What differs between SQLite and PostgreSQL in the few queries of this module."""

    name: str
    serial: str
    least: str
    greatest: str
    begin: str

    def concat(self, column: str) -> str:
        if self.name == "postgresql":
            return f"string_agg(DISTINCT {column}, ',')"
        return f"GROUP_CONCAT(DISTINCT {column})"

    def sql(self, text: str) -> str:
        return text.replace("?", "%s") if self.name == "postgresql" else text


SQLITE = Dialect("sqlite", "INTEGER PRIMARY KEY", "MIN", "MAX", "BEGIN IMMEDIATE")
POSTGRESQL = Dialect("postgresql", "BIGSERIAL PRIMARY KEY", "LEAST", "GREATEST", "BEGIN")


class StoreUnavailable(EnvironmentProblem):
    """The database is busy or gone for now: an upload is to be tried again later."""


class _Connection:
    """One connection, SQLite or PostgreSQL (psycopg 3), seen the same way: ``?``
    parameters, rows as dicts, autocommit with explicit transactions."""

    def __init__(self, url: str | Path, busy_timeout_ms: int = 5000) -> None:
        text = str(url)
        if text.startswith(("postgresql://", "postgres://")):
            try:
                import psycopg
                from psycopg.rows import dict_row
            except ImportError:
                raise ConfigError(
                    "--db postgresql://…: psycopg is not installed "
                    "(pip install 'collector[postgresql]')"
                ) from None
            try:
                self.pg: Any = psycopg.connect(text, autocommit=True, row_factory=dict_row)
            except psycopg.Error as exc:
                raise EnvironmentProblem(
                    f"--db: cannot connect to PostgreSQL: {one_line(exc)[:300]}"
                ) from None
            self.dialect = POSTGRESQL
            self.lite: sqlite3.Connection | None = None
        else:
            self.pg = None
            self.dialect = SQLITE
            try:
                self.lite = sqlite3.connect(text, check_same_thread=False, isolation_level=None)
                self.lite.execute("PRAGMA journal_mode=WAL")
            except sqlite3.Error as exc:
                raise EnvironmentProblem(f"--db {text}: {one_line(exc)[:300]}") from None
            self.lite.row_factory = sqlite3.Row
            # WAL + NORMAL: a commit survives a crash of the server (not of the power).
            self.lite.execute("PRAGMA synchronous=NORMAL")
            self.lite.execute("PRAGMA foreign_keys=ON")
            self.lite.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")

    def execute(self, sql: str, args: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        if self.lite is not None:
            return [dict(row) for row in self.lite.execute(sql, args).fetchall()]
        cursor = self.pg.execute(self.dialect.sql(sql), args)
        return list(cursor.fetchall()) if cursor.description else []

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        if self.lite is not None:
            self.lite.executemany(sql, rows)
        elif rows:
            with self.pg.cursor() as cursor:
                cursor.executemany(self.dialect.sql(sql), rows)

    def close(self) -> None:
        if self.lite is not None:
            self.lite.close()
        else:
            self.pg.close()


class Store:
    """One database (a SQLite file, or PostgreSQL by URL); safe to share between threads."""

    def __init__(self, path: Path | str, busy_timeout_ms: int = 5000) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._db = _Connection(path, busy_timeout_ms)
        self.dialect = self._db.dialect
        self.migrate()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[_Connection]:
        """A transaction; StoreUnavailable when the database is locked or unreachable."""
        with self._lock, _unavailable_as_such():
            self._db.execute(self.dialect.begin)
            try:
                yield self._db
            except BaseException:
                with suppress(Exception):
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _all(self, sql: str, args: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with self._lock, _unavailable_as_such():
            return self._db.execute(sql, args)

    def _one(self, sql: str, args: tuple[Any, ...] = ()) -> dict[str, Any] | None:
        rows = self._all(sql, args)
        return rows[0] if rows else None

    # -- schema --------------------------------------------------------------------------

    def migrate(self) -> None:
        with self._tx() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS migrations (version INTEGER PRIMARY KEY, applied TEXT)"
            )
            if self.dialect is POSTGRESQL:  # two servers starting at once migrate one by one
                db.execute("LOCK TABLE migrations IN EXCLUSIVE MODE")
            done = int(db.execute("SELECT COALESCE(MAX(version), 0) AS v FROM migrations")[0]["v"])
            for version, script in enumerate(MIGRATIONS[done:], start=done + 1):
                for statement in script.format(serial=self.dialect.serial).split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute("INSERT INTO migrations VALUES (?, ?)", (version, utc_stamp()))

    def schema_version(self) -> int:
        row = self._one("SELECT COALESCE(MAX(version), 0) AS v FROM migrations")
        return int(row["v"]) if row else 0

    # -- writing -------------------------------------------------------------------------

    def add_report(self, new: NewReport) -> Stored:
        """File a report under its issue (made on first sight); a known reference is left as is."""
        with self._tx() as db:
            known = db.execute(
                "SELECT issue_id FROM reports WHERE reference = ?", (new.reference,)
            )
            if known:
                return Stored(new.reference, int(known[0]["issue_id"]), already=True)
            key, message = next(iter(new.fingerprints.items()), (CLEAN, "No errors"))
            least, greatest = self.dialect.least, self.dialect.greatest
            issue_id = int(
                db.execute(
                    "INSERT INTO issues (fingerprint, message, first_seen, last_seen) "
                    "VALUES (?, ?, ?, ?) ON CONFLICT(fingerprint) DO UPDATE SET "
                    f"first_seen = {least}(issues.first_seen, excluded.first_seen), "
                    f"last_seen = {greatest}(issues.last_seen, excluded.last_seen) RETURNING id",
                    (key, message, new.created, new.created),
                )[0]["id"]
            )
            db.execute(
                "INSERT INTO reports VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (new.reference, issue_id, new.title, new.created, new.received, new.url,
                 new.browser, new.outcome, new.search_text),
            )  # fmt: skip
            db.executemany(
                "INSERT INTO report_fingerprints VALUES (?, ?, ?, ?)",
                [(new.reference, fp, msg, n) for n, (fp, msg) in enumerate(new.fingerprints.items())],
            )
            return Stored(new.reference, issue_id, already=False)

    def has_report(self, reference: str) -> int | None:
        row = self._one("SELECT issue_id FROM reports WHERE reference = ?", (reference,))
        return int(row["issue_id"]) if row else None

    def update_issue(
        self, issue_id: int, *, status: str | None = None, assignee: str | None = None
    ) -> None:
        if status is not None and status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        with self._tx() as db:
            if status is not None:
                db.execute("UPDATE issues SET status = ? WHERE id = ?", (status, issue_id))
            if assignee is not None:
                db.execute("UPDATE issues SET assignee = ? WHERE id = ?", (assignee, issue_id))

    def add_replay(self, reference: str, expect: str, requested: str) -> int:
        with self._tx() as db:
            rows = db.execute(
                "INSERT INTO replays (reference, expect, state, requested) "
                "VALUES (?, ?, 'queued', ?) RETURNING id",
                (reference, expect, requested),
            )
            return int(rows[0]["id"])

    def finish_replay(
        self, replay_id: int, *, state: str, verdict: str, as_expected: bool | None, why: str,
        finished: str,
    ) -> None:  # fmt: skip
        with self._tx() as db:
            db.execute(
                "UPDATE replays SET state = ?, verdict = ?, as_expected = ?, why = ?, "
                "finished = ? WHERE id = ?",
                (state, verdict, None if as_expected is None else int(as_expected), why,
                 finished, replay_id),
            )  # fmt: skip

    def set_replay_state(self, replay_id: int, state: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE replays SET state = ? WHERE id = ?", (state, replay_id))

    # -- reading -------------------------------------------------------------------------

    def issues(self, where: str = "", args: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        """Issues with their report count, URLs and browsers, the last seen first."""
        columns = (
            "i.id, i.fingerprint, i.message, i.status, i.assignee, i.first_seen, i.last_seen, "
            f"COUNT(r.reference) AS count, {self.dialect.concat('r.url')} AS urls, "
            f"{self.dialect.concat('r.browser')} AS browsers"
        )
        rows = self._all(
            f"SELECT {columns} FROM issues i JOIN reports r ON r.issue_id = i.id "
            f"{where} GROUP BY i.id ORDER BY i.last_seen DESC, i.id DESC",
            args,
        )
        for row in rows:
            row["count"] = int(row["count"])
            row["urls"] = sorted(set((row["urls"] or "").split(",")) - {""})
            row["browsers"] = sorted(set((row["browsers"] or "").split(",")) - {""})
        return rows

    def issue(self, issue_id: int) -> dict[str, Any] | None:
        found = self.issues("WHERE i.id = ?", (issue_id,))
        return found[0] if found else None

    def reports_of(self, issue_id: int) -> list[dict[str, Any]]:
        return self._all(
            "SELECT * FROM reports WHERE issue_id = ? ORDER BY created DESC, reference DESC",
            (issue_id,),
        )

    def report(self, reference: str) -> dict[str, Any] | None:
        return self._one("SELECT * FROM reports WHERE reference = ?", (reference,))

    def fingerprints_of(self, reference: str) -> list[dict[str, Any]]:
        return self._all(
            "SELECT fingerprint, message FROM report_fingerprints WHERE reference = ? "
            "ORDER BY position",
            (reference,),
        )

    def replays_of(self, reference: str) -> list[dict[str, Any]]:
        return self._all(
            "SELECT * FROM replays WHERE reference = ? ORDER BY id DESC", (reference,)
        )

    def replay(self, replay_id: int) -> dict[str, Any] | None:
        return self._one("SELECT * FROM replays WHERE id = ?", (replay_id,))

    def passed_fixed_replay(self, issue_id: int) -> bool:
        """Whether a ``replay --expect fixed`` of one of the issue's reports held."""
        row = self._one(
            "SELECT 1 AS ok FROM replays p JOIN reports r ON r.reference = p.reference "
            "WHERE r.issue_id = ? AND p.expect = 'fixed' AND p.as_expected = 1 LIMIT 1",
            (issue_id,),
        )
        return row is not None

    def search(self, query: str) -> list[dict[str, Any]]:
        """Issues whose reports match ``query`` by reference, fingerprint, URL or text."""
        q = query.strip()
        if not q:
            return self.issues()
        like = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return self.issues(
            "WHERE i.id IN (SELECT r2.issue_id FROM reports r2 WHERE r2.reference = ? "
            "OR LOWER(r2.url) LIKE ? ESCAPE '\\' OR LOWER(r2.search_text) LIKE ? ESCAPE '\\' "
            "OR r2.reference IN (SELECT reference FROM report_fingerprints "
            "WHERE fingerprint = ? OR fingerprint LIKE ? ESCAPE '\\'))",
            (q.upper(), like, like, q, like),
        )

    def counts(self) -> dict[str, int]:
        row = self._one(
            "SELECT (SELECT COUNT(*) FROM issues) AS issues, "
            "(SELECT COUNT(*) FROM reports) AS reports"
        )
        return {k: int(v) for k, v in (row or {}).items()}


@contextmanager
def _unavailable_as_such() -> Iterator[None]:
    try:
        yield
    except sqlite3.OperationalError as exc:
        raise StoreUnavailable(f"the inbox's database is busy: {one_line(exc)[:200]}") from None
    except Exception as exc:
        if type(exc).__module__.startswith("psycopg") and type(exc).__name__ in (
            "OperationalError", "InterfaceError",
        ):  # fmt: skip
            raise StoreUnavailable(f"the inbox's database: {one_line(exc)[:200]}") from None
        raise

