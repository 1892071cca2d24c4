"""Chrome DevTools Recorder exports: conversion without a browser, conformance with one.

The conformance recording (tests/recordings/conformance.json) uses every Recorder
step type against tests/pages/conformance.html, whose scripts log every event they
receive as ``EVENT <entry>`` console messages; the test compares that log with
what a user replaying the recording in Chrome would cause.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from shared_browser import attached

from collector.bundle import BundleOptions
from collector.cli import cli
from collector.loader import load_steps
from collector.recorder import convert_recording, convert_selectors, is_recording
from collector.repro import reproduce
from collector.runner import RunOptions
from collector.scenario import (
    Change,
    Click,
    Close,
    Dblclick,
    EmulateNetwork,
    Goto,
    Hover,
    KeyDown,
    KeyUp,
    Offset,
    Press,
    Scroll,
    SetViewport,
    Viewport,
    WaitFor,
    WaitForExpression,
    WaitForUrl,
)
from collector.yamlsource import SourceDocument

RECORDINGS = Path(__file__).parent / "recordings"
BASE = "http://127.0.0.1:8000/"
NAVIGATE = {"type": "navigate", "url": BASE + "shop.html"}
POPUP = BASE + "popup.html"


def convert(*steps: dict[str, Any], **top: Any) -> Any:
    """Convert a recording made of a navigate step followed by ``steps``."""
    data = {"title": "Recording", **top, "steps": [NAVIGATE, *steps]}
    return convert_recording(SourceDocument("rec.json", data))


def converted_steps(*steps: dict[str, Any]) -> list[Any]:
    return convert(*steps).scenario.steps[1:]


def conformance_recording(base: str) -> str:
    return (RECORDINGS / "conformance.json").read_text(encoding="utf-8").replace("{{BASE}}", base)


# --- conversion table: one Recorder step -> the collector steps it becomes -----------

def aria_name(name: str) -> list[str]:
    """What `aria/NAME` (no role) becomes: aria-label, label (exact, then loose), text."""
    quoted = json.dumps(name, ensure_ascii=False)
    return [
        f"[aria-label={quoted}]",
        f"internal:label={quoted}s",  # its <label> or aria-labelledby, exactly
        f"internal:label={quoted}i",  # a <label> around it (that also holds its options' text)
        f"text={quoted}",
    ]


PAY = [["aria/Pay now"], ["#pay"], ['xpath///*[@id="pay"]'], ["pierce/#pay"], ["text/Pay now"]]
PAY_CONVERTED = [
    *aria_name("Pay now"),
    "css=#pay",
    'xpath=//*[@id="pay"]',
    "text=Pay now",
]

CONVERSIONS = [
    pytest.param(
        [
            {
                "type": "setViewport",
                "width": 800,
                "height": 600,
                "deviceScaleFactor": 1,
                "isMobile": False,
                "hasTouch": False,
                "isLandscape": False,
            }
        ],
        [SetViewport(width=800, height=600)],
        id="setViewport-after-the-first-step",
    ),
    pytest.param(
        [
            {
                "type": "navigate",
                "url": BASE + "next.html",
                "assertedEvents": [
                    {"type": "navigation", "url": BASE + "next.html", "title": "Next"}
                ],
            }
        ],
        [Goto(url=BASE + "next.html")],
        id="navigate",
    ),
    pytest.param(
        [{"type": "click", "target": "main", "selectors": PAY, "offsetX": 10, "offsetY": 5}],
        [Click(selector=PAY_CONVERTED, offset=Offset(x=10, y=5))],
        id="click",
    ),
    pytest.param(
        [
            {
                "type": "click",
                "selectors": [["#menu"]],
                "button": "secondary",
                "offsetX": 1,
                "offsetY": 1,
            }
        ],
        [Click(selector="css=#menu", button="right", offset=Offset(x=1, y=1))],
        id="click-secondary-button",
    ),
    pytest.param(
        [
            {"type": "click", "selectors": [["#b"]], "button": "back", "duration": 150},
            {"type": "doubleClick", "selectors": [["#f"]], "button": "forward"},
        ],
        [
            Click(selector="css=#b", button="back", delay=150),
            Dblclick(selector="css=#f", button="forward"),
        ],
        id="click-back-forward-duration",
    ),
    pytest.param(
        [
            {
                "type": "click",
                "target": POPUP,
                "frame": [1],
                "selectors": [["#go"]],
                "assertedEvents": [{"type": "navigation", "url": BASE + "f2.html"}],
            }
        ],
        [
            Click(selector="css=#go", target=POPUP, frame=[1]),
            WaitForUrl(url=BASE + "f2.html", target=POPUP, frame=[1]),
        ],
        id="asserted-navigation-in-a-frame",
    ),
    pytest.param(
        [
            {
                "type": "waitForElement",
                "selectors": [["#f"]],
                "attributes": {"data-state": "ready"},
                "properties": {"value": "x", "dataset": {"k": "v"}},
            }
        ],
        [
            WaitFor(
                selector="css=#f",
                state="attached",
                attributes={"data-state": "ready"},
                properties={"value": "x", "dataset": {"k": "v"}},
            )
        ],
        id="waitForElement-attributes-properties",
    ),
    pytest.param(
        [{"type": "click", "selectors": [["#tab"]], "button": "auxiliary"}],
        [Click(selector="css=#tab", button="middle")],
        id="click-auxiliary-button",
    ),
    pytest.param(
        [
            {
                "type": "click",
                "selectors": [["#next"]],
                "timeout": 2500,
                "assertedEvents": [{"type": "navigation", "url": BASE + "done.html", "title": ""}],
            }
        ],
        [Click(selector="css=#next", timeout=2500), WaitForUrl(url=BASE + "done.html")],
        id="click-with-asserted-navigation",
    ),
    pytest.param(
        [
            {
                "type": "doubleClick",
                "target": "main",
                "selectors": [["#dbl"]],
                "offsetX": 3,
                "offsetY": 3,
            }
        ],
        [Dblclick(selector="css=#dbl", offset=Offset(x=3, y=3))],
        id="doubleClick",
    ),
    pytest.param(
        [
            {
                "type": "change",
                "value": "ana@example.com",
                "selectors": [["aria/E-mail"], ["#email"]],
            }
        ],
        [
            Change(
                selector=[*aria_name("E-mail"), "css=#email"],
                value="ana@example.com",
            )
        ],
        id="change-input",
    ),
    pytest.param(
        # A <select> is recorded as a change too; the change step selects the option.
        [
            {
                "type": "change",
                "value": "pro",
                "selectors": [['aria/Plan[role="combobox"]'], ["#plan"]],
            }
        ],
        [Change(selector=['role=combobox[name="Plan"]', "css=#plan"], value="pro")],
        id="change-select",
    ),
    pytest.param(
        [
            {"type": "keyDown", "target": "main", "key": "Enter"},
            {"type": "keyUp", "target": "main", "key": "Enter"},
        ],
        [Press(key="Enter")],
        id="keyDown-keyUp-pair",
    ),
    pytest.param(
        [{"type": "hover", "selectors": [["#menu"], ["text/Menu"]]}],
        [Hover(selector=["css=#menu", "text=Menu"])],
        id="hover",
    ),
    pytest.param(
        [{"type": "scroll", "target": "main", "x": 0, "y": 1200}],
        [Scroll(x=0, y=1200, absolute=True)],
        id="scroll-window",
    ),
    pytest.param(
        [{"type": "scroll", "selectors": [["#list"]], "x": 0, "y": 300}],
        [Scroll(selector="css=#list", x=0, y=300, absolute=True)],
        id="scroll-element",
    ),
    pytest.param(
        [{"type": "waitForElement", "selectors": [["#done"]]}],
        # The replay library counts matching elements, visible or not.
        [WaitFor(selector="css=#done", state="attached")],
        id="waitForElement",
    ),
    pytest.param(
        [{"type": "waitForElement", "selectors": [["li.item"]], "operator": "==", "count": 3}],
        [WaitFor(selector="css=li.item", state="attached", count=3, operator="==")],
        id="waitForElement-count",
    ),
    pytest.param(
        [
            {
                "type": "waitForElement",
                "selectors": [["li"]],
                "operator": "<=",
                "count": 2,
                "visible": False,
            }
        ],
        # visible: false waits for the check to fail: here, for 3 or more.
        [WaitFor(selector="css=li", state="attached", count=3, operator=">=")],
        id="waitForElement-hidden-at-most",
    ),
    pytest.param(
        [{"type": "waitForExpression", "expression": "window.ready === true"}],
        [WaitForExpression(expression="window.ready === true")],
        id="waitForExpression",
    ),
    pytest.param(
        [{"type": "close", "target": POPUP}],
        [Close(target=POPUP)],
        id="close-popup",
    ),
    pytest.param(
        [{"type": "emulateNetworkConditions", "download": 50000, "upload": 20000, "latency": 400}],
        [EmulateNetwork(download=50000, upload=20000, latency=400)],
        id="emulateNetworkConditions",
    ),
    pytest.param(
        [{"type": "emulateNetworkConditions", "download": 0, "upload": 0, "latency": 0}],
        [EmulateNetwork(offline=True, download=0, upload=0, latency=0)],
        id="emulateNetworkConditions-offline",
    ),
    pytest.param(
        [{"type": "customStep", "name": "login", "parameters": {"user": "ana"}}],
        [],
        id="customStep-is-skipped",
    ),
    pytest.param(
        [{"type": "click", "target": "main", "frame": [0, 1], "selectors": [["#inner"]]}],
        [Click(selector="css=#inner", frame=[0, 1])],
        id="click-in-a-frame",
    ),
    pytest.param(
        [
            {"type": "click", "target": POPUP, "selectors": [["#ok"]]},
            {"type": "click", "target": "main", "selectors": [["#pay"]]},
            {"type": "setViewport", "width": 900, "height": 700},
        ],
        # Back from a popup, "main" must be said explicitly or the popup stays current.
        [
            Click(selector="css=#ok", target=POPUP),
            Click(selector="css=#pay", target="main"),
            SetViewport(width=900, height=700, target="main"),
        ],
        id="main-after-a-popup",
    ),
]


@pytest.mark.parametrize(("recorded", "expected"), CONVERSIONS)
def test_each_recorder_step_converts(recorded: list[dict[str, Any]], expected: list[Any]) -> None:
    assert converted_steps(*recorded) == expected


def test_first_set_viewport_becomes_the_scenario_viewport() -> None:
    data = {
        "title": "  Checkout  ",
        "timeout": 7000,
        "steps": [
            {"type": "setViewport", "width": 1024, "height": 700, "deviceScaleFactor": 1,
             "isMobile": False, "hasTouch": False, "isLandscape": False},
            NAVIGATE,
        ],
    }  # fmt: skip
    scenario = convert_recording(SourceDocument("rec.json", data)).scenario
    assert scenario.viewport == Viewport(width=1024, height=700)
    assert scenario.name == "Checkout"
    assert scenario.timeout == 7000
    assert scenario.steps == [Goto(url=BASE + "shop.html")]


def test_custom_step_is_a_warning() -> None:
    conversion = convert({"type": "customStep", "name": "login", "parameters": {}})
    assert conversion.warnings == ["steps.1: customStep 'login' is not supported; skipped"]


# --- selectors ----------------------------------------------------------------------

SELECTORS = [
    pytest.param([["aria/Pay now"]], [*aria_name("Pay now")], id="aria"),
    pytest.param([['aria/Pay now[role="button"]']], 'role=button[name="Pay now"]', id="aria-role"),
    pytest.param(
        # Selector engines do not read JSON's \u escapes: non-ASCII names stay as they are.
        [["aria/Pagar já"]],
        [*aria_name("Pagar já")],
        id="aria-non-ascii",
    ),
    pytest.param([['aria/Olá[role="link"]']], 'role=link[name="Olá"]', id="aria-role-non-ascii"),
    pytest.param(
        [['aria/Say "hi"']],
        [*aria_name('Say "hi"')],
        id="aria-quotes",
    ),
    pytest.param([["text/Pay now"]], "text=Pay now", id="text"),
    pytest.param([['xpath///*[@id="pay"]']], 'xpath=//*[@id="pay"]', id="xpath"),
    pytest.param([["pierce/#pay"]], "css=#pay", id="pierce"),
    pytest.param([["#pay"]], "css=#pay", id="css"),
    pytest.param("#pay", "css=#pay", id="css-plain-string"),
    pytest.param(
        [["shadow-host", "#shadow-btn"]], "css=shadow-host >> css=#shadow-btn", id="chain"
    ),
    pytest.param(
        [["aria/Shop", 'aria/Pay[role="button"]']],
        '[aria-label="Shop"] >> role=button[name="Pay"]',
        id="chain-of-aria",
    ),
    pytest.param([["#pay"], ["pierce/#pay"]], "css=#pay", id="duplicates-fold"),
    pytest.param(PAY, PAY_CONVERTED, id="recorder-alternatives-in-order"),
]


@pytest.mark.parametrize(("recorded", "expected"), SELECTORS)
def test_selector_conversion(recorded: Any, expected: str | list[str]) -> None:
    assert convert_selectors(recorded) == expected


# --- keyDown / keyUp ----------------------------------------------------------------

KEYS = [
    pytest.param([("keyDown", "Enter"), ("keyUp", "Enter")], [Press(key="Enter")], id="pair"),
    pytest.param([("keyDown", "Shift")], [KeyDown(key="Shift")], id="lone-keyDown"),
    pytest.param([("keyUp", "Shift")], [KeyUp(key="Shift")], id="lone-keyUp"),
    pytest.param(
        [("keyDown", "Shift"), ("keyDown", "A"), ("keyUp", "A"), ("keyUp", "Shift")],
        [KeyDown(key="Shift"), Press(key="A"), KeyUp(key="Shift")],
        id="chord",
    ),
    pytest.param(
        [("keyDown", "a"), ("keyUp", "b")], [KeyDown(key="a"), KeyUp(key="b")], id="other-key"
    ),
    pytest.param(
        [("keyUp", "Enter"), ("keyDown", "Enter")],
        [KeyUp(key="Enter"), KeyDown(key="Enter")],
        id="up-before-down",
    ),
]


@pytest.mark.parametrize(("keys", "expected"), KEYS)
def test_key_down_and_up_pairing(keys: list[tuple[str, str]], expected: list[Any]) -> None:
    steps = [{"type": kind, "target": "main", "key": key} for kind, key in keys]
    assert converted_steps(*steps) == expected


def test_key_down_and_up_on_different_pages_are_not_paired() -> None:
    steps = converted_steps(
        {"type": "keyDown", "target": "main", "key": "Enter"},
        {"type": "keyUp", "target": POPUP, "key": "Enter"},
    )
    assert steps == [KeyDown(key="Enter"), KeyUp(key="Enter", target=POPUP)]


# --- shape detection ----------------------------------------------------------------

SHAPES = [
    pytest.param({"title": "t", "steps": [NAVIGATE]}, True, id="recording"),
    pytest.param(
        {"steps": [NAVIGATE, {"type": "click", "selectors": [["#a"]]}]},
        True,
        id="recording-without-title",
    ),
    pytest.param(
        {"name": "n", "url": BASE, "steps": [{"goto": "/"}, {"click": "#pay"}]},
        False,
        id="native-scenario",
    ),
    pytest.param(
        {"url": BASE, "steps": [{"type": {"selector": "#q", "text": "shoes"}}]},
        False,
        id="native-type-step",
    ),
    pytest.param({"title": "t", "steps": []}, True, id="empty-flow"),
    pytest.param({"steps": []}, False, id="no-title-no-steps"),
    pytest.param({"title": "t", "steps": [{"type": "teleport"}]}, False, id="no-known-type"),
    pytest.param({"title": "t", "steps": [NAVIGATE, "click"]}, False, id="a-step-not-an-object"),
    pytest.param([NAVIGATE], False, id="a-list"),
    pytest.param("navigate", False, id="a-string"),
]


@pytest.mark.parametrize(("data", "expected"), SHAPES)
def test_is_recording(data: Any, expected: bool) -> None:
    assert is_recording(data) is expected


# --- invalid recordings through the CLI ---------------------------------------------

NAV_LINE = '{"type": "navigate", "url": "http://127.0.0.1:8000/"}'
BAD_RECORDINGS = [
    pytest.param(
        f'{{"steps": [{NAV_LINE}, {{"type": "click", "selectors": [["#a"]]}}]}}',
        "Error: rec.json:1: title: Field required (a Recorder export has a title)",
        id="no-title",
    ),
    pytest.param(
        f"""\
        {{
          "title": "Pay",
          "steps": [
            {NAV_LINE},
            {{"type": "click", "target": "main", "offsetX": 1, "offsetY": 1}}
          ]
        }}
        """,
        "Error: rec.json:5: steps.1: click step without selectors",
        id="click-without-selectors",
    ),
    pytest.param(
        f"""\
        {{
          "title": "Pay",
          "steps": [
            {NAV_LINE},
            {{"type": "hover", "selectors": []}}
          ]
        }}
        """,
        "Error: rec.json:5: steps.1: hover step without selectors",
        id="hover-with-empty-selectors",
    ),
    pytest.param(
        f"""\
        {{
          "title": "Pay",
          "timeout": 0,
          "steps": [{NAV_LINE}]
        }}
        """,
        "Error: rec.json:3: timeout: timeout 0 ms is out of range (1-600000)",
        id="flow-timeout-0",
    ),
    pytest.param(
        f"""\
        {{
          "title": "Pay",
          "steps": [{NAV_LINE}],
          "timeout": 600001
        }}
        """,
        "Error: rec.json:4: timeout: timeout 600001 ms is out of range (1-600000)",
        id="flow-timeout-600001",
    ),
    pytest.param(
        f"""\
        {{
          "title": "Pay",
          "steps": [
            {NAV_LINE},
            {{"type": "click", "selectors": [["#pay"]],
              "timeout": 0}}
          ]
        }}
        """,
        "Error: rec.json:6: steps.1.timeout: timeout 0 ms is out of range (1-600000)",
        id="step-timeout-0",
    ),
    pytest.param(
        f"""\
        {{
          "title": "Pay",
          "steps": [
            {NAV_LINE},
            {NAV_LINE},
            {{"type": "click", "selectors": [["#pay"]],
              "timeout": 600001}}
          ]
        }}
        """,
        "Error: rec.json:7: steps.2.timeout: timeout 600001 ms is out of range (1-600000)",
        id="step-timeout-600001",
    ),
    pytest.param(
        f"""\
        {{
          "title": "Pay",
          "steps": [
            {NAV_LINE},
            {{"type": "teleport", "to": "moon"}}
          ]
        }}
        """,
        "Error: rec.json:5: steps.1.type: unknown Recorder step type 'teleport'",
        id="unknown-step-type",
    ),
]


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("command", ["convert", "validate"])
@pytest.mark.parametrize(("text", "expected"), BAD_RECORDINGS)
def test_invalid_recording_exits_2_naming_the_step(
    in_tmp: Path, command: str, text: str, expected: str
) -> None:
    (in_tmp / "rec.json").write_text(textwrap.dedent(text), encoding="utf-8")
    result = CliRunner().invoke(cli, [command, "rec.json"])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)
    assert result.stderr.splitlines() == [expected]
    assert result.stdout == ""
    assert sorted(p.name for p in in_tmp.iterdir()) == ["rec.json"]


def test_convert_refuses_a_native_scenario(in_tmp: Path) -> None:
    (in_tmp / "s.json").write_text(json.dumps({"url": BASE, "steps": [{"goto": "/"}]}))
    result = CliRunner().invoke(cli, ["convert", "s.json"])
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        'Error: s.json: not a Chrome Recorder export (expected {"title", "steps": [{"type": …}]})'
    ]


def test_convert_writes_yaml_that_validates_and_loads_to_the_same_scenario(in_tmp: Path) -> None:
    (in_tmp / "rec.json").write_text(conformance_recording(BASE), encoding="utf-8")
    runner = CliRunner()
    converted = runner.invoke(cli, ["convert", "rec.json"])
    assert converted.exit_code == 0, converted.output
    warning = "rec.json: warning: steps.22: customStep 'loginWithSSO' is not supported; skipped"
    assert converted.stderr.splitlines() == [warning]
    assert converted.stdout.startswith("# Converted from rec.json (Chrome DevTools Recorder)\n")
    (in_tmp / "rec.yaml").write_text(converted.stdout, encoding="utf-8")

    written = runner.invoke(cli, ["convert", "rec.json", "-o", "out.yaml"])
    assert written.exit_code == 0
    assert written.stdout == "out.yaml\n"
    assert (in_tmp / "out.yaml").read_text(encoding="utf-8") == converted.stdout

    validated = runner.invoke(cli, ["validate", "rec.yaml", "rec.json"])
    assert validated.exit_code == 0, validated.output
    assert validated.stdout.splitlines() == [
        "rec.yaml: ok (20 steps)", "rec.json: ok (20 steps)", "2 files valid"
    ]

    from_json = load_steps(in_tmp / "rec.json").scenario
    from_yaml = load_steps(in_tmp / "rec.yaml")
    assert from_yaml.warnings == []
    assert from_yaml.scenario == from_json
    assert from_json.viewport == Viewport(width=1024, height=700)


def test_conformance_recording_uses_every_step_type() -> None:
    data = json.loads(conformance_recording(BASE))
    types = {step["type"] for step in data["steps"]}
    assert types == {
        "setViewport", "navigate", "click", "doubleClick", "change", "keyDown", "keyUp", "hover",
        "scroll", "waitForElement", "waitForExpression", "close", "emulateNetworkConditions",
        "customStep",
    }  # fmt: skip
    selectors = [alt for step in data["steps"] for alt in step.get("selectors", [])]
    assert ["shadow-host", "#shadow-btn"] in selectors
    assert ["pierce/#shadow-btn"] in selectors
    assert any(step.get("frame") == [0] for step in data["steps"])
    assert any(step.get("target", "main") != "main" for step in data["steps"])
    assert is_recording(data)


# --- the conformance recording in the real browser ------------------------------------

# What the page logs, per document; the order across documents is not guaranteed.
EXPECTED_MAIN_LOG = [
    "click #btn",
    "dblclick #dbl",
    # A Recorder change on a text field is typed key by key, as its replay library does.
    "keydown A",
    "keyup A",
    "keydown n",
    "keyup n",
    "keydown a",
    "keyup a",
    "keydown Enter",
    "change #name=Ana",  # Enter in a text field commits the value: Chrome fires change
    "keyup Enter",
    "change #plan=pro",
    "mouseenter #hover",
    "click #shadow-btn (shadow)",  # the chained selector
    "click #shadow-btn (shadow)",  # pierce/
    "click #open-popup",
    "click #btn",  # back on the main page while the popup is still open
    "scroll 0,1200",
]
EXPECTED_FRAME_LOG = ["click #inner (frame)"]
EXPECTED_POPUP_LOG = ["click #popup-btn (popup)"]

# Step index (report.json, 1-based) -> the alternative that matched. Steps 2, 3, 6, 9,
# 11, 12 and 13 fall back: their first alternative does not match anything.
EXPECTED_MATCHES = {
    2: "css=#btn",
    3: 'text="Double me"',
    4: '[aria-label="Your name"]',
    6: 'role=combobox[name="Plan"]',
    7: "css=#hover",
    8: "css=li.item",
    9: "css=#inner",
    11: "css=#shadow-btn",
    12: 'text="Open popup"',
    13: 'text="Popup button"',
    14: "css=#btn",
    19: "css=#bottom",
}


def logged_events(report: dict[str, Any]) -> list[tuple[str, str]]:
    """(entry, source) of every EVENT console message, in capture order."""
    found = []
    for event in report["events"]:
        if event["kind"] == "console" and event["text"].startswith("EVENT "):
            found += [(event["text"][len("EVENT ") :], event["source"])] * event["count"]
    return found


@pytest.mark.browser
def test_conformance_recording_replays_every_step(pages_url: str, tmp_path: Path) -> None:
    recording = tmp_path / "conformance.json"
    recording.write_text(conformance_recording(pages_url), encoding="utf-8")
    out = tmp_path / "out"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "collector",
            *attached(["repro", str(recording), "--out", str(out), "--linger", "0.5"]),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )
    assert proc.returncode == 0, proc.stderr
    assert (
        f"{recording}: warning: steps.22: customStep 'loginWithSSO' is not supported; skipped"
        in proc.stderr.splitlines()
    )
    bundle = Path(proc.stdout.strip().splitlines()[-1]).parent  # the zip's folder
    report = json.loads((bundle / "report.json").read_text(encoding="utf-8"))
    assert report["outcome"]["status"] == "clean"
    steps = report["steps"]
    assert [s["action"] for s in steps] == [
        "goto", "click", "dblclick", "change", "press", "change", "hover", "wait_for", "click",
        "click", "click", "click", "click", "click", "close", "set_viewport", "scroll",
        "wait_for_expression", "wait_for", "emulate_network",
    ]  # fmt: skip
    assert [s["index"] for s in steps if s["status"] != "ok"] == []
    matches = {s["index"]: s["matched_selector"] for s in steps if s["matched_selector"]}
    assert matches == EXPECTED_MATCHES

    logged = logged_events(report)
    frame = [(entry, source) for entry, source in logged if entry.endswith("(frame)")]
    popup = [(entry, source) for entry, source in logged if entry.endswith("(popup)")]
    main = [entry for entry, source in logged if (entry, source) not in frame + popup]
    assert main == EXPECTED_MAIN_LOG
    assert [entry for entry, _ in frame] == EXPECTED_FRAME_LOG
    assert [entry for entry, _ in popup] == EXPECTED_POPUP_LOG
    assert all(" frame " in source for _, source in frame)
    assert all("popup" in source for _, source in popup)
    assert {source for entry, source in logged if entry in EXPECTED_MAIN_LOG} == {"page 1"}


# --- a Recorder export and the equivalent YAML find the same errors -------------------

CHECKOUT_RECORDING = """\
{
  "title": "Pay now fails",
  "steps": [
    {"type": "setViewport", "width": 1280, "height": 800, "deviceScaleFactor": 1,
     "isMobile": false, "hasTouch": false, "isLandscape": false},
    {"type": "navigate", "url": "{{BASE}}checkout-buggy.html",
     "assertedEvents": [{"type": "navigation", "url": "{{BASE}}checkout-buggy.html",
                         "title": "Checkout (buggy)"}]},
    {"type": "click", "target": "main",
     "selectors": [["aria/Pay now"], ["#pay"], ["xpath///*[@id=\\"pay\\"]"], ["pierce/#pay"],
                   ["text/Pay now"]],
     "offsetX": 31, "offsetY": 12}
  ]
}
"""

CHECKOUT_YAML = """\
name: Pay now fails
url: {{BASE}}
viewport: {width: 1280, height: 800}
steps:
  - goto: checkout-buggy.html
  - click: "#pay"
"""


@pytest.mark.browser
def test_recorder_export_finds_the_same_errors_as_the_yaml_scenario(
    browser_loop: Any, pages_url: str, tmp_path: Path
) -> None:
    files = {"checkout.json": CHECKOUT_RECORDING, "checkout.yaml": CHECKOUT_YAML}
    fingerprints = {}
    for name, text in files.items():
        path = tmp_path / name
        path.write_text(text.replace("{{BASE}}", pages_url), encoding="utf-8")
        scenario = load_steps(path).scenario
        options = RunOptions(linger_s=0.5, env={})
        bundle_options = BundleOptions(out_dir=tmp_path / name.replace(".", "-"))
        done = browser_loop.run(
            lambda browser, s=scenario, r=options, b=bundle_options: reproduce(
                s, browser_options=None, run_options=r, bundle_options=b, browser=browser
            )
        )
        report = json.loads((done.bundle / "report.json").read_text(encoding="utf-8"))
        assert report["outcome"]["status"] == "errors", name
        fingerprints[name] = {e["fingerprint"] for e in report["errors"] if e["fails"]}
        messages = {e["message"] for e in report["errors"] if e["fails"]}
        assert "payment failed" in messages
        assert any("reading 'card'" in m for m in messages)
    assert fingerprints["checkout.json"] == fingerprints["checkout.yaml"]
    assert len(fingerprints["checkout.json"]) == 2
