"""The attachment budget: sizes as users write them, and bundles that respect the limit.

The support desk takes attachments of at most 2 MB each: every file in the zip and the
zip itself must fit, screenshots are fitted with Pillow, and what still does not fit is
listed in the ticket as left out, with its size.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from collector.bundle import DEFAULT_MAX_ATTACHMENT_BYTES, BundleOptions
from collector.errors import BadInput
from collector.repro import Reproduction, reproduce
from collector.runner import RunOptions
from collector.scenario import scenario_from_document
from collector.sizes import parse_size
from collector.ticket import human_size
from collector.yamlsource import SourceDocument

# -- parse_size ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2MB", 2_000_000),
        ("2mb", 2_000_000),
        ("2 MB", 2_000_000),
        ("1.5MiB", 1_572_864),
        ("500kB", 500_000),
        ("500KiB", 512_000),
        ("300k", 300_000),
        ("2000000", 2_000_000),
        ("10000", 10_000),
        ("1GB", 1_000_000_000),
    ],
)
def test_parse_size(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("abc", "not a size: 'abc' (examples: 2MB, 500kB, 1.5MiB, 2000000)"),
        ("", "not a size: '' (examples: 2MB, 500kB, 1.5MiB, 2000000)"),
        ("2 parsecs", "not a size: '2 parsecs' (examples: 2MB, 500kB, 1.5MiB, 2000000)"),
        ("-5MB", "not a size: '-5MB' (examples: 2MB, 500kB, 1.5MiB, 2000000)"),
        ("5kB", "size '5kB' is too small for an attachment (minimum 10kB)"),
        ("9999", "size '9999' is too small for an attachment (minimum 10kB)"),
    ],
)
def test_parse_size_rejects(text, message):
    with pytest.raises(BadInput) as caught:
        parse_size(text)
    assert str(caught.value) == message


# -- bundles under budget ------------------------------------------------------------

TALL_STEPS = [
    {"goto": "tall.html"},
    {"screenshot": {"name": "full", "full_page": True}},
    {"click": {"selector": "#does-not-exist", "timeout": 300}},
]


def reproduce_tall(browser_loop: Any, pages_url: str, out: Path, **bundle: Any) -> Reproduction:
    data = {"name": "Tall page", "url": pages_url, "steps": TALL_STEPS}
    scenario = scenario_from_document(SourceDocument("tall.yaml", data), env={})
    return browser_loop.run(
        lambda browser: reproduce(
            scenario,
            browser_options=None,  # type: ignore[arg-type]
            run_options=RunOptions(linger_s=0, env={}),
            bundle_options=BundleOptions(out_dir=out, **bundle),
            browser=browser,
        )
    )


def report_of(bundle: Path) -> dict[str, Any]:
    return json.loads((bundle / "report.json").read_text(encoding="utf-8"))


def zip_entries(bundle: Path) -> dict[str, zipfile.ZipInfo]:
    with zipfile.ZipFile(bundle / f"{bundle.name}.zip") as zf:
        assert zf.testzip() is None
        return {info.filename: info for info in zf.infolist()}


def assert_within(bundle: Path, budget: int) -> dict[str, Any]:
    report = report_of(bundle)
    assert (bundle / f"{bundle.name}.zip").stat().st_size <= budget
    for entry in zip_entries(bundle).values():
        assert entry.file_size <= budget, entry.filename
    for attachment in report["attachments"]:
        data = (bundle / attachment["path"]).read_bytes()
        assert len(data) == attachment["bytes"], attachment["path"]
        assert hashlib.sha256(data).hexdigest() == attachment["sha256"], attachment["path"]
        if attachment["in_zip"]:
            assert attachment["bytes"] <= budget, attachment["path"]
    return report


@pytest.fixture(scope="module")
def default_budget(browser_loop, pages_url, tmp_path_factory) -> Path:
    return reproduce_tall(browser_loop, pages_url, tmp_path_factory.mktemp("budget")).bundle


@pytest.fixture(scope="module")
def small_budget(browser_loop, pages_url, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("small")
    return reproduce_tall(browser_loop, pages_url, out, max_attachment_bytes=300_000).bundle


@pytest.mark.browser
def test_default_budget_keeps_everything_under_2mb(default_budget):
    assert DEFAULT_MAX_ATTACHMENT_BYTES == 2_000_000
    report = assert_within(default_budget, 2_000_000)
    assert report["outcome"]["status"] == "step_failed"
    steps = report["steps"]
    full, failing = steps[1]["screenshot"], steps[2]["screenshot"]
    assert full and full.startswith("screenshots/step-02-full")
    assert failing and failing.startswith("screenshots/step-03-failed")
    entries = zip_entries(default_budget)
    assert full in entries and failing in entries
    # Everything of the bundle fits, so everything is in the zip.
    assert all(a["in_zip"] for a in report["attachments"])


@pytest.mark.browser
def test_full_page_screenshot_is_fitted_but_legible(default_budget):
    report = report_of(default_budget)
    full = report["steps"][1]["screenshot"]
    with zipfile.ZipFile(default_budget / f"{default_budget.name}.zip") as zf:
        data = zf.read(full)
    assert len(data) <= 2_000_000
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
    assert width >= 1000
    # The whole page is there (scaled, never cropped): 1280 x 12000 CSS pixels.
    assert abs(height / width - 12000 / 1280) < 0.02


@pytest.mark.browser
def test_small_budget_leaves_out_what_does_not_fit(small_budget):
    budget = 300_000
    report = assert_within(small_budget, budget)
    entries = zip_entries(small_budget)
    assert {"ticket.md", "report.json", "console.log"} <= set(entries)
    left_out = [a for a in report["attachments"] if not a["in_zip"]]
    assert left_out, report["attachments"]
    for attachment in left_out:
        assert attachment["path"] not in entries
        assert attachment["note"]
    ticket = (small_budget / "ticket.md").read_text(encoding="utf-8")
    assert "**Left out of the zip:**" in ticket
    listed = ticket.split("**Left out of the zip:**", 1)[1]
    for attachment in left_out:
        assert f"- `{attachment['path']}` ({human_size(attachment['bytes'])})" in listed
    # The failing step's screenshot goes first: it is what the agent asks for.
    failing = report["steps"][2]["screenshot"]
    assert failing in entries
