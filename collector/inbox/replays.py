"""The replay action: a background worker with a bounded queue, one replay at a time.

Each job runs ``collector replay`` through the library (``replay.replay``, the same
verdict and expectation as the command) in the worker's own thread and event loop, so
at most one browser is open for replays however many are asked for; a full queue is
refused at once (the page says so) rather than piling up. The verdict is stored with
the job: ``replay --expect fixed`` that held is what "mark fixed" may require.
A bundle's ``secrets:`` is a request: only the secrets the agent named when starting
the inbox (``--secret``, ``--secrets-file``) are given, and ``replay.secrets_for``
refuses a bundle that asks for others, as the command does.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from collector.browser import BrowserOptions
from collector.bundle_reader import open_bundle
from collector.errors import CollectorError
from collector.inbox.intake import zip_path
from collector.inbox.store import Store
from collector.text import one_line, utc_stamp


@dataclass(frozen=True)
class Job:
    replay_id: int
    reference: str
    expect: str
    base_url: str | None


class QueueFull(CollectorError):
    """More replays asked for than the queue holds."""


class ReplayWorker:
    def __init__(
        self,
        store: Store,
        bundles: Path,
        browser: BrowserOptions,
        out_dir: Path,
        max_queued: int = 8,
        secrets: Mapping[str, str] | None = None,
    ) -> None:
        self.store = store
        self.bundles = bundles
        self.browser = browser
        self.out_dir = out_dir
        self.secrets = dict(secrets or {})
        self.jobs: queue.Queue[Job | None] = queue.Queue(maxsize=max_queued)
        self.thread = threading.Thread(target=self._work, name="inbox-replay", daemon=True)
        self.thread.start()

    def ask(self, reference: str, expect: str, base_url: str | None) -> int:
        """Queue a replay of ``reference``; QueueFull when the queue is full."""
        if self.jobs.full():
            raise QueueFull("the replay queue is full; try again when a replay has finished")
        replay_id = self.store.add_replay(reference, expect, utc_stamp())
        try:
            self.jobs.put_nowait(Job(replay_id, reference, expect, base_url or None))
        except queue.Full:
            self.store.finish_replay(
                replay_id, state="refused", verdict="", as_expected=None,
                why="the replay queue is full", finished=utc_stamp(),
            )  # fmt: skip
            raise QueueFull("the replay queue is full; try again later") from None
        return replay_id

    def stop(self) -> None:
        self.jobs.put(None)
        self.thread.join(timeout=60)

    def _work(self) -> None:
        while (job := self.jobs.get()) is not None:
            self.store.set_replay_state(job.replay_id, "running")
            try:
                verdict, ok, why = asyncio.run(self._replay(job))
                state = "done"
            except CollectorError as exc:
                # The bundle's path on this server is none of the page's business.
                said = one_line(exc).replace(str(zip_path(self.bundles, job.reference)), job.reference)
                verdict, ok, why, state = "", None, said[:500], "failed"
            except Exception as exc:  # a worker thread must outlive one bad job
                verdict, ok, why = "", None, f"{type(exc).__name__}: {one_line(exc)[:400]}"
                state = "failed"
            self.store.finish_replay(
                job.replay_id, state=state, verdict=verdict, as_expected=ok, why=why,
                finished=utc_stamp(),
            )  # fmt: skip

    async def _replay(self, job: Job) -> tuple[str, bool, str]:
        from collector import replay as replaying
        from collector.config import load_config
        from collector.options import Flags, resolve_options

        received = open_bundle(zip_path(self.bundles, job.reference), need_scenario=True)
        scenario = replaying.bundle_scenario(received, base_url=job.base_url, allow_local=False)
        secrets = replaying.secrets_for(scenario, self.secrets, received.label)
        options = resolve_options(
            Flags(out_dir=str(self.out_dir), base_url=job.base_url), load_config()
        )
        result = await replaying.replay(
            received,
            scenario,
            times=1,
            browser_options=self.browser,
            run_options=replace(options.run, env=secrets),
            bundle_options=options.bundle,
            max_run_time_s=300,
        )
        ok, why = result.expectation(job.expect)  # type: ignore[arg-type]
        return result.verdict, ok, why
