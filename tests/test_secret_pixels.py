"""Secrets never leave as pixels: every picture in a bundle paints over them.

echo-secret.html places every element at a fixed box. A secret is typed into a
plain text field (declared secret) or into a password field (a literal in the
steps), and the page echoes it into its own text, into an iframe and far below
the fold. Every screenshot of the bundle (step, first error, final, full page)
is decoded and each box that held the secret must be the mask colour, while a
box without it must not be. The trace keeps no screencast frame.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image
from shared_browser import attached

pytestmark = pytest.mark.browser

PINK = (255, 0, 255)
WIDTH = 1280
DECLARED = "tok-Secret-4711-zq"
LITERAL = "pw-Literal-0815-xy"

# (left, top, right, bottom) in CSS pixels of the page, as echo-secret.html lays them out.
TOKEN = (40, 40, 640, 72)
PASSWORD = (40, 100, 640, 132)
ECHO = (40, 160, 640, 192)
CONTROL = (40, 220, 640, 252)
IN_FRAME = (50, 290, 450, 322)
FAR = (40, 1500, 640, 1532)  # only in full-page pictures


@dataclass
class Run:
    bundle: Path
    secret: str
    secret_boxes: list[tuple[int, int, int, int]]

    def report(self) -> dict:
        return json.loads((self.bundle / "report.json").read_text(encoding="utf-8"))


def steps(typing: dict, page: str) -> list[dict]:
    return [
        {"goto": page},
        typing,
        {"click": "#show"},
        {"expect_text": {"selector": "#echo", "text": "You typed"}},
        {"expect_text": {"selector": "#inner", "text": "Frame got"}, "frame": [0]},
        {"screenshot": "shown"},
        {"screenshot": {"name": "whole", "full_page": True}},
        # Each later picture differs from the one before, so none is folded into another.
        {"evaluate": "console.error('failed'); control.textContent = 'Something failed'"},
        {"evaluate": "control.textContent = 'The end'"},
    ]


def run(folder: Path, scenario: dict, env: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "echo.yaml").write_text(yaml.safe_dump(scenario, sort_keys=False))
    proc = subprocess.run(
        [sys.executable, "-m", "collector", *attached(["repro", "echo.yaml", "--trace",
         "--linger", "0.3", "--out", "out", "--quiet"])],
        cwd=folder, env={**os.environ, **env}, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr  # the console.error fails the run
    return (folder / proc.stdout.strip()).parent  # the zip's folder


@pytest.fixture(scope="module")
def declared(pages_url: str, tmp_path_factory: pytest.TempPathFactory) -> Run:
    scenario = {
        "url": pages_url,
        "secrets": ["ECHO_TOKEN"],
        # The echoing frame is cross-site here: another renderer process.
        "steps": steps(
            {"fill": {"selector": "#token", "value": "${ECHO_TOKEN}"}}, "echo-secret.html?cross=1"
        ),
    }
    bundle = run(tmp_path_factory.mktemp("declared"), scenario, {"ECHO_TOKEN": DECLARED})
    return Run(bundle, DECLARED, [TOKEN, ECHO, IN_FRAME, FAR])


@pytest.fixture(scope="module")
def literal(pages_url: str, tmp_path_factory: pytest.TempPathFactory) -> Run:
    scenario = {
        "url": pages_url,
        "steps": steps({"type": {"selector": "#pw", "text": LITERAL}}, "echo-secret.html"),
    }
    bundle = run(tmp_path_factory.mktemp("literal"), scenario, {})
    return Run(bundle, LITERAL, [PASSWORD, ECHO, IN_FRAME, FAR])


@pytest.fixture(params=["declared", "literal"])
def secret_run(request: pytest.FixtureRequest) -> Run:
    return request.getfixturevalue(request.param)


def pictures(bundle: Path) -> dict[str, bytes]:
    """Every image of the bundle: its files and the copies inside the zip."""
    found = {
        p.relative_to(bundle).as_posix(): p.read_bytes()
        for p in bundle.rglob("*")
        if p.suffix in (".png", ".jpg", ".jpeg")
    }
    with zipfile.ZipFile(bundle / f"{bundle.name}.zip") as zf:
        for name in zf.namelist():
            if name.endswith((".png", ".jpg", ".jpeg")):
                found[f"zip!{name}"] = zf.read(name)
    return found


def box_colour(image: Image.Image, box: tuple[int, int, int, int]) -> tuple[float, ...] | None:
    """Mean colour inside ``box`` (a few pixels in from its edges), None when out of frame."""
    scale = image.width / WIDTH
    left, top, right, bottom = (round(v * scale) for v in box)
    inset = max(2, round(3 * scale))
    if bottom > image.height:
        return None
    region = image.convert("RGB").crop((left + inset, top + inset, right - inset, bottom - inset))
    pixels = list(region.get_flattened_data())
    return tuple(sum(p[i] for p in pixels) / len(pixels) for i in range(3))


def is_pink(colour: tuple[float, ...]) -> bool:
    return all(abs(c - p) <= 30 for c, p in zip(colour, PINK, strict=True))


def test_every_picture_masks_every_element_that_shows_the_secret(secret_run: Run) -> None:
    shots = pictures(secret_run.bundle)
    names = {n.rsplit("/", 1)[-1].split(".")[0] for n in shots}
    # The step pictures, the full page, the page when the error fired, and the final state.
    assert {"step-06-shown", "step-07-whole", "step-08-error", "final"} <= names, names
    for name, data in shots.items():
        with Image.open(io.BytesIO(data)) as image:
            full_page = image.height / image.width > 1
            for box in secret_run.secret_boxes:
                colour = box_colour(image, box)
                if colour is None:
                    assert box is FAR and not full_page, name
                    continue
                assert is_pink(colour), (name, box, colour)
            control = box_colour(image, CONTROL)
            assert control is not None and not is_pink(control), (name, control)


def test_the_password_field_is_masked_in_every_picture_too(secret_run: Run) -> None:
    for name, data in pictures(secret_run.bundle).items():
        with Image.open(io.BytesIO(data)) as image:
            colour = box_colour(image, PASSWORD)
            assert colour is not None and is_pink(colour), (name, colour)


def test_no_mark_of_the_masking_is_left_in_the_page(secret_run: Run) -> None:
    """The page gets element indexes back, never the secret; our attribute is cleared."""
    problems = secret_run.report()["capture_problems"]
    assert not [p for p in problems if "not taken" in p], problems


def trace_pictures(bundle: Path) -> list[str]:
    with zipfile.ZipFile(bundle / "trace.zip") as zf:
        return [n for n in zf.namelist() if n.endswith((".jpeg", ".jpg", ".png", ".webp"))]


def test_a_declared_secret_means_a_trace_without_screencast(declared: Run) -> None:
    assert trace_pictures(declared.bundle) == []
    assert (
        "trace recorded without screenshots: the steps type secrets"
        in (declared.report()["capture_problems"])
    )
    with zipfile.ZipFile(declared.bundle / "trace.zip") as zf:
        events = zf.read("trace.trace")
    assert b'"screenshot"' not in events or b"screencast-frame" not in events


def test_a_password_learned_mid_run_strips_the_trace_screencast(literal: Run) -> None:
    assert trace_pictures(literal.bundle) == []
    with zipfile.ZipFile(literal.bundle / "trace.zip") as zf:
        assert b"screencast-frame" not in zf.read("trace.trace")
    notes = [p for p in literal.report()["capture_problems"] if p.startswith("trace: ")]
    assert len(notes) == 1 and "screencast frames removed (a secret was typed)" in notes[0]


def test_the_secret_is_in_no_file_of_the_bundle(secret_run: Run) -> None:
    for path in secret_run.bundle.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert secret_run.secret.encode() not in data, path
            if path.suffix == ".zip":
                with zipfile.ZipFile(path) as zf:
                    for member in zf.namelist():
                        assert secret_run.secret.encode() not in zf.read(member), member


# password-fields.html: a password field in the page's open shadow root (the page has no
# other), in a same-origin frame and in a cross-site frame; a plain text field as the control.
PASSWORD_BOXES = {
    "shadow root": (40, 100, 640, 132),
    "same-origin frame": (40, 160, 640, 192),
    "cross-site frame": (40, 220, 640, 252),
}
PLAIN_FIELD = (40, 280, 640, 312)


def test_every_password_field_is_masked_wherever_it_sits(
    browser_loop: Any, pages_url: str, tmp_path: Path
) -> None:
    """Each frame is asked whether it has a password field before it gets the mask (a
    mask costs a fresh page more than its picture): the answer must miss none."""
    from collector.runner import RunOptions, run_scenario
    from collector.scenario import Evaluate, Goto, Scenario, Screenshot, WaitFor

    # The pane drawn for a picture is gone once it is taken, in the page and in its frame.
    left = "document.querySelector('collector-mask-pane') || frames[0].document.querySelector('collector-mask-pane')"
    scenario = Scenario(
        name="fields",
        steps=[Goto(url=pages_url + "password-fields.html"), WaitFor(selector="#ready", state="attached"),
               Screenshot(name="fields"), Evaluate(expression=f"if ({left}) throw new Error('a pane was left')")],
    )  # fmt: skip
    options = RunOptions(linger_s=0.2, work_dir=tmp_path, final_screenshot="always")
    result = browser_loop.run(lambda browser: run_scenario(scenario, browser, options))
    assert result.outcome.status == "clean", result.outcome
    pictures = [shot.path for shot in result.screenshots]
    assert len(pictures) == 2  # the step's and the final one
    for picture in pictures:
        check_password_boxes(picture)


def check_password_boxes(picture: Path) -> None:
    with Image.open(picture) as image:
        for where, box in PASSWORD_BOXES.items():
            colour = box_colour(image, box)
            assert colour is not None and is_pink(colour), (where, colour)
        plain = box_colour(image, PLAIN_FIELD)
        assert plain is not None and not is_pink(plain), plain


def test_a_frame_that_cannot_draw_the_pane_gets_playwrights_mask(
    browser_loop: Any, pages_url: str, tmp_path: Path
) -> None:
    from collector.runner import RunOptions, run_scenario
    from collector.scenario import Goto, Scenario

    scenario = Scenario(name="hostile", steps=[Goto(url=pages_url + "pane-hostile.html")])
    options = RunOptions(linger_s=0.2, work_dir=tmp_path, final_screenshot="always")
    result = browser_loop.run(lambda browser: run_scenario(scenario, browser, options))
    [final] = [shot.path for shot in result.screenshots]
    with Image.open(final) as image:
        colour = box_colour(image, PASSWORD)
        assert colour is not None and is_pink(colour), colour


def test_a_page_without_password_fields_gets_no_mask(browser_loop: Any, pages_url: str) -> None:
    from collector.masking import masks_for

    async def masks(browser: Any) -> list[Any]:
        context = await browser.new_context()
        try:
            page = await context.new_page()
            await page.goto(pages_url + "password-fields.html")
            await page.wait_for_selector("#ready", state="attached")
            having = await masks_for(page, [])
            await page.goto(pages_url + "check/clean-plain.html")
            covered = await masks_for(page, [], cover=True)  # nothing drawn, nothing to clear
            assert (covered.locators, covered.marked) == ([], False)
            return [len(having.locators), len((await masks_for(page, [])).locators)]
        finally:
            await context.close()

    assert browser_loop.run(masks) == [3, 0]  # the page (its shadow root) and its frames; none
