"""No secret leaves the machine: `collector repro --har --trace` on a page that leaks its password.

secrets.html logs the password, sends it as an ``access_token`` query parameter and
as a ``Bearer`` token. Every file of the bundle, every member of the zip and of
trace.zip (also the copy inside the zip) is searched for the secret in every
encoding a browser, a HAR, a trace or a template would give it.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_plus

import markupsafe
import pytest
import yaml
from PIL import Image
from shared_browser import attached

pytestmark = pytest.mark.browser

# A quote and a "!" make the URL-, JSON- and HTML-escaped forms differ from the raw one.
DECLARED_SECRET = 's3cr3t-Pa55"word!'
LITERAL_SECRET = "l1teral'Pw0rd-Zq"
PINK = (255, 0, 255)
VIEWPORT = {"width": 1280, "height": 800}
# The page logs the field's value as an error too, so it reaches the ticket's subject,
# the error list and the CLI's summary.
LOG_PASSWORD = "console.error('login failed for ' + document.querySelector('#password').value)"


def leak_forms(secret: str) -> set[str]:
    """Every spelling of ``secret`` that would give it away."""
    raw = secret.encode()
    forms = {
        secret,
        quote(secret),
        quote(secret, safe=""),
        quote(secret, safe="!'()*~"),  # encodeURIComponent
        quote_plus(secret),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        html.escape(secret),
        str(markupsafe.escape(secret)),
    }
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        encoded = encode(raw).decode()
        forms |= {encoded, encoded.rstrip("=")}
    # The distinctive middle, so that a secret cut in two (a regex stopping at the quote)
    # is still caught.
    forms.add(secret[4:12])
    return forms


def leaks(name: str, data: bytes, forms: set[str]) -> Iterator[tuple[str, str]]:
    """(where, form) for every form found in ``data``, looking into zips recursively."""
    for form in forms:
        if form.encode() in data:
            yield name, form
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for member in zf.namelist():
                yield from leaks(f"{name}!{member}", zf.read(member), forms)


def bundle_leaks(bundle: Path, secret: str) -> list[tuple[str, str]]:
    forms = leak_forms(secret)
    found = []
    for path in sorted(bundle.rglob("*")):
        if path.is_file():
            found += leaks(path.relative_to(bundle).as_posix(), path.read_bytes(), forms)
    return found


@dataclass
class CliRun:
    bundle: Path
    secret: str
    returncode: int
    stdout: str
    stderr: str

    def report(self) -> dict:
        return json.loads((self.bundle / "report.json").read_text(encoding="utf-8"))


def run_cli(folder: Path, scenario: dict, env: dict[str, str]) -> subprocess.CompletedProcess:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "login.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False), encoding="utf-8")
    clean_env = {k: v for k, v in os.environ.items() if k != "SHOP_PW"}
    return subprocess.run(
        [sys.executable, "-m", "collector", *attached(["repro", str(path), "--har", "--trace",
         "--linger", "5", "--out", str(folder / "OUT")])],  # generous: ends once quiet
        cwd=folder,
        env={**clean_env, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )  # fmt: skip


def login_steps(password_step: dict) -> list[dict]:
    return [
        {"goto": "secrets.html"},
        {"fill": {"selector": "#user", "value": "ana"}},
        password_step,
        {"click": "#login"},
        {"expect_text": {"selector": "#status", "text": "logged in"}},
        {"evaluate": LOG_PASSWORD},
    ]


def finished(proc: subprocess.CompletedProcess, folder: Path, secret: str) -> CliRun:
    assert proc.returncode == 1, proc.stderr  # the page's console.error fails the run
    bundle = Path(proc.stdout.strip().splitlines()[-1]).parent  # the zip's folder
    assert bundle.parent == folder / "OUT" and bundle.is_dir()
    return CliRun(bundle, secret, proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture(scope="module")
def declared_run(pages_url: str, tmp_path_factory: pytest.TempPathFactory) -> CliRun:
    """The password comes from a declared secret: `secrets: [SHOP_PW]`, `${SHOP_PW}`."""
    folder = tmp_path_factory.mktemp("declared")
    scenario = {
        "name": "Log in",
        "url": pages_url,
        "secrets": ["SHOP_PW"],
        "steps": login_steps({"fill": {"selector": "#password", "value": "${SHOP_PW}"}}),
    }
    proc = run_cli(folder, scenario, {"SHOP_PW": DECLARED_SECRET})
    return finished(proc, folder, DECLARED_SECRET)


@pytest.fixture(scope="module")
def literal_run(pages_url: str, tmp_path_factory: pytest.TempPathFactory) -> CliRun:
    """The password is written in the steps file and typed into a password field."""
    folder = tmp_path_factory.mktemp("literal")
    scenario = {
        "name": "Log in",
        "url": pages_url,
        "steps": login_steps({"type": {"selector": "#password", "text": LITERAL_SECRET}}),
    }
    proc = run_cli(folder, scenario, {})
    return finished(proc, folder, LITERAL_SECRET)


@pytest.fixture(params=["declared_run", "literal_run"])
def cli_run(request: pytest.FixtureRequest) -> CliRun:
    return request.getfixturevalue(request.param)


def test_the_leak_scan_finds_every_form_even_in_nested_zips(tmp_path):
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(
            "resources/abc", "Authorization: Basic " + base64.b64encode(b"s3cr3t-x").decode()
        )
    outer = tmp_path / "bundle"
    outer.mkdir()
    with zipfile.ZipFile(outer / "CR.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("trace.zip", inner.getvalue())
    # Compressed twice: only reading the members finds it.
    assert set(bundle_leaks(outer, "s3cr3t-x")) == {
        ("CR.zip!trace.zip!resources/abc", "czNjcjN0LXg="),
        ("CR.zip!trace.zip!resources/abc", "czNjcjN0LXg"),
    }
    for form in leak_forms(DECLARED_SECRET):
        (outer / "f.txt").write_text(f"x{form}y", encoding="utf-8")
        assert ("f.txt", form) in bundle_leaks(outer, DECLARED_SECRET)


def test_the_bundle_has_every_file_the_scan_must_cover(cli_run):
    names = {p.relative_to(cli_run.bundle).as_posix() for p in cli_run.bundle.rglob("*")}
    for name in ("report.json", "ticket.md", "report.html", "console.log", "scenario.yaml",
                 "network.har", "trace.zip", f"{cli_run.bundle.name}.zip"):  # fmt: skip
        assert name in names
    with zipfile.ZipFile(cli_run.bundle / f"{cli_run.bundle.name}.zip") as zf:
        members = set(zf.namelist())
    assert {"network.har", "trace.zip", "report.html", "console.log"} <= members
    # The page did get the password (the run is real): it logged it and was told so.
    report = cli_run.report()
    assert [s["status"] for s in report["steps"]] == ["ok"] * 6
    assert any(e["text"] == "login failed for [REDACTED]" for e in report["events"])


def test_the_secret_appears_nowhere_in_the_bundle(cli_run):
    assert bundle_leaks(cli_run.bundle, cli_run.secret) == []


def test_redactions_are_counted_never_listed(cli_run):
    redactions = cli_run.report()["redactions"]
    assert redactions.get("secret", 0) > 0
    assert all(isinstance(k, str) and type(v) is int and v > 0 for k, v in redactions.items())
    assert cli_run.secret not in json.dumps(redactions)


def test_har_header_and_query_parameter_are_redacted(cli_run):
    har = json.loads((cli_run.bundle / "network.har").read_text(encoding="utf-8"))
    echo = [e["request"] for e in har["log"]["entries"] if "/echo?" in e["request"]["url"]]
    assert len(echo) == 1
    request = echo[0]
    assert request["url"].endswith("/echo?access_token=[REDACTED]")
    headers = {h["name"].lower(): h["value"] for h in request["headers"]}
    assert headers["authorization"] == "[REDACTED]"
    query = {q["name"]: q["value"] for q in request["queryString"]}
    assert query == {"access_token": "[REDACTED]"}


def test_scenario_yaml_keeps_the_reference_not_the_value(declared_run, literal_run):
    declared = yaml.safe_load((declared_run.bundle / "scenario.yaml").read_text(encoding="utf-8"))
    assert declared["secrets"] == ["SHOP_PW"]
    assert {"fill": {"selector": "#password", "value": "${SHOP_PW}"}} in declared["steps"]
    literal = (literal_run.bundle / "scenario.yaml").read_text(encoding="utf-8")
    assert "[REDACTED]" in literal
    ticket = (literal_run.bundle / "ticket.md").read_text(encoding="utf-8")
    assert "Type “\\[REDACTED\\]” into #password" in ticket


def password_box(browser_loop, pages_url: str) -> dict[str, float]:
    async def measure(browser):
        context = await browser.new_context(viewport=VIEWPORT)
        try:
            page = await context.new_page()
            await page.goto(pages_url + "secrets.html")
            return await page.locator("#password").bounding_box()
        finally:
            await context.close()

    return browser_loop.run(measure)


def test_password_field_is_masked_in_every_screenshot(cli_run, browser_loop, pages_url):
    box = password_box(browser_loop, pages_url)
    shots = sorted((cli_run.bundle / "screenshots").iterdir())
    assert shots
    for shot in shots:
        with Image.open(shot) as image:
            assert image.size == (VIEWPORT["width"], VIEWPORT["height"])
            # A pixel in from each edge: the mask's edges may be blended with the page.
            region = image.convert("RGB").crop(
                (
                    round(box["x"]) + 1,
                    round(box["y"]) + 1,
                    round(box["x"] + box["width"]) - 1,
                    round(box["y"] + box["height"]) - 1,
                )
            )
            low, high = zip(*region.getextrema(), strict=True)
        assert all(h - lo <= 6 for lo, h in zip(low, high, strict=True)), (shot.name, low, high)
        assert all(abs(c - p) <= 6 for c, p in zip(low, PINK, strict=True)), (shot.name, low)


def test_the_cli_output_does_not_print_the_secret(cli_run):
    """`repro` prints the outcome and the first error: the terminal is not a safe place either."""
    forms = leak_forms(cli_run.secret)
    output = cli_run.stdout + cli_run.stderr
    assert "login failed for" in output
    assert [f for f in forms if f in output] == []
