"""collector against the Chrome Recorder's own replay library, recording by recording.

Each recording of tests/recordings/reference/ (one or more per Recorder step type) is
replayed twice against pages served on 127.0.0.1: by @puppeteer/replay with
puppeteer-core driving the same Chromium (tests/recorder-reference/replay.mjs), and
by collector. Two steps are added to every flow: a pause for late events, then a
waitForExpression that logs the main page's state (URL, title, text, form values,
viewport, scroll offsets and the log of DOM events the page keeps, frames and popups
included) as "REFSTATE {…}". Both states must be equal.

The library is installed by `make setup` (npm ci in tests/recorder-reference). Without
it the tests skip, except in CI (`CI` set), where they must run.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from collector.browser import find_chromium
from collector.bundle import BundleOptions
from collector.capture import CaptureLimits
from collector.loader import load_steps
from collector.repro import reproduce
from collector.runner import RunOptions

pytestmark = pytest.mark.browser

REFERENCE = Path(__file__).parent / "recorder-reference"
CORPUS = Path(__file__).parent / "recordings" / "reference"
RECORDINGS = sorted(p.name for p in CORPUS.glob("*.json"))
LIBRARY = REFERENCE / "node_modules" / "@puppeteer" / "replay"
PAGES = Path(__file__).parent / "pages" / "ref"
PORT_PLACEHOLDER = "{{PAGES_PORT}}"
CACHE = Path(__file__).resolve().parents[1] / ".cache" / "recorder-reference"

SETTLE = (
    "(window.__refT0 = window.__refT0 || Date.now(), Date.now() - window.__refT0 > 500)"
)
DUMP = """(() => {
  const value = (e) => e.isContentEditable ? e.innerText
    : (e.type === 'checkbox' || e.type === 'radio') ? String(e.checked)
    : e.multiple ? [...e.selectedOptions].map((o) => o.value).join('+') : e.value;
  const controls = [...document.querySelectorAll('input, select, textarea, [contenteditable]')];
  console.log('REFSTATE ' + JSON.stringify({
    url: location.href,
    title: document.title,
    text: document.body ? document.body.innerText : '',
    values: controls.map((e) => [e.id, value(e)]),
    log: window.__log || [],
    viewport: [innerWidth, innerHeight],
    scroll: [Math.round(scrollX), Math.round(scrollY)],
  }));
  return true;
})()"""


def concrete(name: str, base: str, cross_base: str) -> dict[str, Any]:
    text = (CORPUS / name).read_text(encoding="utf-8")
    flow = json.loads(text.replace("{{BASE}}", base).replace("{{XBASE}}", cross_base))
    if flow["steps"]:
        for expression in (SETTLE, DUMP):
            flow["steps"].append(
                {"type": "waitForExpression", "target": "main", "expression": expression}
            )
    return flow


@pytest.fixture(scope="module")
def flows(pages_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The corpus with real URLs and the state dump, as files both replayers read."""
    base = pages_url + "ref/"
    cross = base.replace("127.0.0.1", "localhost")  # another origin: an out-of-process iframe
    folder = tmp_path_factory.mktemp("flows")
    written = {}
    for name in RECORDINGS:
        path = folder / name
        path.write_text(json.dumps(concrete(name, base, cross)), encoding="utf-8")
        written[name] = path
    return written


def reference_inputs_digest() -> str:
    """What the reference run's result depends on: the library, the driver script, the
    corpus, the pages it plays on and the Chromium binary."""
    digest = hashlib.sha256()
    chromium = find_chromium(headless=True).resolve()
    stat = chromium.stat()
    digest.update(f"{chromium}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    inputs = [REFERENCE / "replay.mjs", REFERENCE / "package-lock.json"]
    inputs += sorted(CORPUS.glob("*.json")) + sorted(PAGES.rglob("*"))
    for path in inputs:
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def with_port(text: str, port: int | None, placeholder: str) -> str:
    """The reference's result with this run's port in its URLs (or the port taken out)."""
    if placeholder in text:
        return text.replace(placeholder, str(port))
    return re.sub(rf"(?<=(?:127\.0\.0\.1|localhost):){port}\b", placeholder, text)


@pytest.fixture(scope="module")
def reference(flows: dict[str, Path], pages_url: str) -> dict[str, Any]:
    """What @puppeteer/replay leaves after each flow (one node process for the corpus).

    The result depends only on its inputs, so it is kept under their digest (ports
    taken out) in the checkout's .cache/: a later run of an unchanged corpus skips the
    node run. A fresh clone, as in CI, has no cache and runs it.
    """
    if not LIBRARY.is_dir():
        reason = f"@puppeteer/replay is not installed in {REFERENCE} (run `make setup`)"
        if os.environ.get("CI"):
            pytest.fail(reason + "; in CI these tests must run")
        pytest.skip(reason)
    port = urlsplit(pages_url).port
    cached = CACHE / f"{reference_inputs_digest()}.json"
    if cached.is_file():
        text = cached.read_text(encoding="utf-8")
        result: dict[str, Any] = json.loads(with_port(text, port, PORT_PLACEHOLDER))
        return result
    # The browser collector's headless runs use (the shared browser): the comparison is
    # of step semantics, not of browsers.
    chromium = str(find_chromium(headless=True))
    proc = subprocess.run(
        ["node", "replay.mjs", chromium, *(str(p) for p in flows.values())],
        cwd=REFERENCE,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)
    if not any("error" in r for r in result.values()):
        CACHE.mkdir(parents=True, exist_ok=True)
        for old in CACHE.glob("*.json"):
            old.unlink()
        written = cached.with_suffix(f".{os.getpid()}.tmp")
        written.write_text(with_port(proc.stdout, port, PORT_PLACEHOLDER), encoding="utf-8")
        written.replace(cached)
    return result


def collector_state(browser_loop: Any, flow: Path, out: Path) -> tuple[dict[str, Any], Any]:
    scenario = load_steps(flow).scenario
    options = RunOptions(linger_s=0.2, env={}, limits=CaptureLimits(max_text_chars=200_000))
    done = browser_loop.run(
        lambda browser: reproduce(
            scenario,
            browser_options=None,  # type: ignore[arg-type]
            run_options=options,
            bundle_options=BundleOptions(out_dir=out),
            browser=browser,
        )
    )
    report = json.loads((done.bundle / "report.json").read_text(encoding="utf-8"))
    states = [
        json.loads(e["text"][len("REFSTATE ") :])
        for e in report["events"]
        if e["kind"] == "console" and e["text"].startswith("REFSTATE ")
    ]
    return (states[-1] if states else {}), report


# The first of these tests also waits for the reference run of the whole corpus.
@pytest.mark.timeout(600)
@pytest.mark.parametrize("name", RECORDINGS)
def test_collector_leaves_the_page_as_the_recorders_replay_does(
    name: str, reference: dict[str, Any], flows: dict[str, Path], browser_loop: Any,
    tmp_path: Path,
) -> None:  # fmt: skip
    expected = reference[name]
    assert "error" not in expected, f"@puppeteer/replay failed: {expected['error']}"
    state, report = collector_state(browser_loop, flows[name], tmp_path)
    failed = [(s["index"], s["action"], s["error"]) for s in report["steps"] if s["error"]]
    assert failed == []
    if not json.loads(flows[name].read_text())["steps"]:
        # An empty flow: nothing to compare but that both ran it.
        assert report["outcome"]["status"] == "clean"
        return
    assert by_document(state) == by_document(expected["state"])


def by_document(state: dict[str, Any]) -> dict[str, Any]:
    """The state with its event log split by the document that logged each entry.

    Frames and popups post their entries to the main page; entries of one document
    keep their order, but those of two processes (an out-of-process iframe and the
    page) may arrive interleaved either way, in either library.
    """
    logs: dict[str, list[str]] = {}
    for entry in state.get("log", []):
        first, _, rest = entry.partition(" ")
        source, text = (first, rest) if first.endswith(":") else ("main", entry)
        logs.setdefault(source, []).append(text)
    return {**state, "log": logs}


def test_the_corpus_covers_every_recorder_step_type() -> None:
    from collector.recorder import STEP_TYPES

    used = set()
    for name in RECORDINGS:
        used |= {s["type"] for s in json.loads((CORPUS / name).read_text())["steps"]}
    # customStep has no behaviour to compare: the replay library skips it as collector does.
    assert used | {"customStep"} == STEP_TYPES
