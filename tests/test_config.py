"""Configuration: `collector.toml` or `[tool.collector]`, found upwards; bad files exit 2 in one line.

No browser: `collector ticket` and `collector repro` read the config before doing anything
else, so a bad config is reported before a bundle is read or a browser started.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from run_collector import Ran, invoke

from collector.config import DEFAULT_REASONS, Config, load_config
from collector.report import Outcome, Report


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def collector(*args: str | Path, cwd: Path) -> Ran:
    return invoke(*args, cwd=cwd)


def one_error_line(result: Ran) -> str:
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert len(result.stderr.splitlines()) == 1, result.stderr
    return result.stderr.rstrip("\n")


def write_bundle(folder: Path) -> Path:
    report = Report(
        reference="CR-20261125-CONF01",
        created="2026-11-25T10:00:00Z",
        outcome=Outcome(status="clean"),
    )
    data = report.model_dump(mode="json", by_alias=True)
    write(folder / "report.json", json.dumps(data))
    return folder


# -- finding the config ----------------------------------------------------------------


def test_defaults_without_config(tmp_path):
    config = load_config(tmp_path)
    assert config == Config()
    assert config.source is None
    assert (config.fail_on, config.lang, config.reports_dir) == ("error", "en", "reports")
    assert config.reasons == list(DEFAULT_REASONS)
    assert config.attachment_budget() == 2_000_000
    assert config.rules().fail_on == "error"


def test_collector_toml_is_found_from_a_subfolder(tmp_path):
    path = write(
        tmp_path / "collector.toml",
        'fail_on = "warning"\nlang = "pt"\nmax_attachment_bytes = "500kB"\n'
        'reasons = ["bug", "other"]\nignore = ["ResizeObserver", '
        '{pattern = "/ads/", source = "network"}]\n',
    )
    deep = tmp_path / "a" / "b" / "c"
    deep.mkdir(parents=True)
    config = load_config(deep)
    assert config.source == str(path)
    assert (config.fail_on, config.lang, config.reasons) == ("warning", "pt", ["bug", "other"])
    assert config.attachment_budget() == 500_000
    rules = config.rules()
    assert [(r.pattern, r.source) for r in rules.ignore] == [
        ("ResizeObserver", "any"),
        ("/ads/", "network"),
    ]


def test_tool_collector_in_pyproject(tmp_path):
    path = write(
        tmp_path / "pyproject.toml",
        '[project]\nname = "shop"\n\n[tool.collector]\nlang = "pt"\nreports_dir = "out"\n',
    )
    (tmp_path / "src").mkdir()
    config = load_config(tmp_path / "src")
    assert config.source == str(path)
    assert (config.lang, config.reports_dir) == ("pt", "out")


def test_pyproject_without_the_section_is_passed_over(tmp_path):
    path = write(tmp_path / "collector.toml", 'lang = "pt"\n')
    write(tmp_path / "app" / "pyproject.toml", '[project]\nname = "app"\n')
    config = load_config(tmp_path / "app")
    assert config.source == str(path) and config.lang == "pt"


def test_the_nearest_config_wins(tmp_path):
    write(tmp_path / "collector.toml", 'lang = "pt"\n')
    near = write(tmp_path / "app" / "pyproject.toml", '[tool.collector]\nlang = "en"\n')
    assert load_config(tmp_path / "app").source == str(near)
    # In one folder collector.toml comes before pyproject.toml.
    own = write(tmp_path / "app" / "collector.toml", 'fail_on = "never"\n')
    config = load_config(tmp_path / "app")
    assert config.source == str(own) and config.fail_on == "never" and config.lang == "en"


def test_cli_uses_the_config_found_upwards(tmp_path):
    write(tmp_path / "collector.toml", 'lang = "pt"\nreasons = ["faturação"]\n')
    bundle = write_bundle(tmp_path / "bundles" / "CR-20261125-CONF01")
    deep = tmp_path / "work" / "here"
    deep.mkdir(parents=True)
    result = collector("ticket", bundle, "--format", "json", cwd=deep)
    assert (result.returncode, result.stderr) == (0, "")
    ticket = json.loads(result.stdout)
    assert ticket["lang"] == "pt" and ticket["reason"] == "faturação"
    assert "PASSOS PARA REPRODUZIR" in ticket["details"]


# -- bad configs: one line, PATH:LINE: key: message, exit 2 ---------------------------

BAD_CONFIGS = [
    pytest.param(
        "collector.toml",
        '# shop settings\nlang = "en"\ncolour = "red"\n',
        "3: colour: Extra inputs are not permitted",
        id="unknown-key",
    ),
    pytest.param(
        "collector.toml",
        'lang = "en"\nfail_on = 3\n',
        "2: fail_on: Input should be 'error', 'warning' or 'never'",
        id="fail_on-wrong-type",
    ),
    pytest.param(
        "collector.toml",
        'fail_on = "sometimes"\n',
        "1: fail_on: Input should be 'error', 'warning' or 'never'",
        id="fail_on-wrong-value",
    ),
    pytest.param(
        "collector.toml",
        'lang = "en"\n\nredact = ["order-[0-9]+", "("]\n',
        "3: redact: not a valid regex: missing ), unterminated subpattern at position 0",
        id="bad-regex",
    ),
    pytest.param(
        "collector.toml",
        'max_attachment_bytes = "lots"\n',
        "1: max_attachment_bytes: not a size: 'lots' (examples: 2MB, 500kB, 1.5MiB, 2000000)",
        id="max_attachment_bytes-lots",
    ),
    pytest.param(
        "collector.toml",
        'max_attachment_bytes = "5kB"\n',
        "1: max_attachment_bytes: size '5kB' is too small for an attachment (minimum 10kB)",
        id="max_attachment_bytes-too-small",
    ),
    pytest.param(
        "collector.toml",
        'lang = "fr"\n',
        "1: lang: Input should be 'en' or 'pt'",
        id="lang",
    ),
    pytest.param(
        "collector.toml",
        'reasons = "technical"\n',
        "1: reasons: Input should be a valid list",
        id="reasons-not-a-list",
    ),
    pytest.param(
        "pyproject.toml",
        '[project]\nname = "shop"\n\n[tool.collector]\nfail_on = "loud"\n',
        "5: fail_on: Input should be 'error', 'warning' or 'never'",
        id="pyproject",
    ),
]


@pytest.mark.parametrize(("name", "text", "message"), BAD_CONFIGS)
def test_bad_config_exits_2_with_one_line(tmp_path, name, text, message):
    path = write(tmp_path / name, text)
    deep = tmp_path / "sub"
    deep.mkdir()
    result = collector("ticket", tmp_path / "no-bundle-needed", cwd=deep)
    assert one_error_line(result) == f"Error: {path}:{message}"


def test_repro_reports_a_bad_config_before_starting_a_browser(tmp_path):
    path = write(tmp_path / "collector.toml", "fail_on = 3\n")
    scenario = write(tmp_path / "s.yaml", "url: http://127.0.0.1:9/\nsteps:\n  - goto: /\n")
    result = collector("repro", scenario, "--out", tmp_path / "out", cwd=tmp_path)
    assert one_error_line(result) == (
        f"Error: {path}:1: fail_on: Input should be 'error', 'warning' or 'never'"
    )
    assert not (tmp_path / "out").exists()


# Library bugs in collector/rules.py (see the reasons): these assert the right behaviour.


def test_pyproject_line_is_the_line_in_tool_collector(tmp_path):
    path = write(
        tmp_path / "pyproject.toml",
        '[tool.ruff.lint]\nignore = ["E501"]\n\n[tool.collector]\nignore = [1]\n',
    )
    result = collector("ticket", tmp_path / "nope", cwd=tmp_path)
    assert one_error_line(result) == f"Error: {path}:5: ignore.0: Input should be a valid string"


def test_bad_ignore_source_names_the_source(tmp_path):
    path = write(tmp_path / "collector.toml", 'ignore = [{pattern = "x", source = "css"}]\n')
    result = collector("ticket", tmp_path / "nope", cwd=tmp_path)
    assert one_error_line(result) == (
        f"Error: {path}:1: ignore.0.source: "
        "Input should be 'console', 'exception', 'network' or 'any'"
    )


@pytest.mark.parametrize("value", ["5", "-1", "0"])
def test_integer_max_attachment_bytes_is_range_checked(tmp_path, value):
    path = write(tmp_path / "collector.toml", f"max_attachment_bytes = {value}\n")
    result = collector("ticket", tmp_path / "nope", cwd=tmp_path)
    assert one_error_line(result).startswith(f"Error: {path}:1: max_attachment_bytes: ")


def test_toml_syntax_error_has_path_and_line(tmp_path):
    path = write(tmp_path / "collector.toml", 'lang = "en"\nfail_on = \n')
    result = collector("ticket", tmp_path / "nope", cwd=tmp_path)
    assert one_error_line(result).startswith(f"Error: {path}:2: ")


def test_toml_syntax_error_exits_2_with_one_line(tmp_path):
    path = write(tmp_path / "collector.toml", 'lang = "en"\nfail_on = \n')
    result = collector("ticket", tmp_path / "nope", cwd=tmp_path)
    line = one_error_line(result)
    assert line.startswith(f"Error: {path}:2: ")


# -- a pattern that is not a regex: exit 2 naming it, before any page is opened ---------

UNTERMINATED = "missing ), unterminated subpattern at position 0"
BAD_PATTERNS = [
    pytest.param(
        "repro",
        'ignore = ["ok", "("]\n',
        (),
        f"{{config}}:1: ignore.1: not a valid regex: '(' ({UNTERMINATED})",
        id="repro-config-ignore",
    ),
    pytest.param(
        "repro",
        '[[ignore]]\npattern = "a[b"\n',
        (),
        "{config}:1: ignore.0.pattern: not a valid regex: 'a[b' "
        "(unterminated character set at position 1)",
        id="repro-config-ignore-table",
    ),
    pytest.param(
        "repro",
        'lang = "en"\nexpect = ["x)"]\n',
        (),
        "{config}:2: expect.0: not a valid regex: 'x)' (unbalanced parenthesis at position 1)",
        id="repro-config-expect",
    ),
    pytest.param(
        "check",
        "",
        ("--ignore", "fine", "--ignore", "("),
        f"--ignore: not a valid regex: '(' ({UNTERMINATED})",
        id="check-flag",
    ),
    pytest.param(
        "check",
        'ignore = [{pattern = "x", url = "*.js"}]\n',
        (),
        "{config}:1: ignore.0.url: not a valid regex: '*.js' (nothing to repeat at position 0)",
        id="check-config-url",
    ),
]


@pytest.mark.parametrize(("command", "config", "flags", "message"), BAD_PATTERNS)
def test_bad_regex_exits_2_naming_it(tmp_path, command, config, flags, message):
    path = write(tmp_path / "collector.toml", config) if config else tmp_path / "none"
    scenario = write(tmp_path / "s.yaml", "url: http://127.0.0.1:9/\nsteps:\n  - goto: /\n")
    out = tmp_path / "out"
    target = [scenario, "--out", out] if command == "repro" else ["http://127.0.0.1:9/"]
    result = collector(command, *target, *flags, cwd=tmp_path)
    assert one_error_line(result) == "Error: " + message.format(config=path)
    assert not out.exists() or not any(out.iterdir())


def test_a_pattern_matches_as_substring_or_regex_and_a_bad_one_is_refused():
    from collector.report import Event
    from collector.rules import IgnoreRule, PatternError, Rules

    event = Event(kind="console", level="error", text="Uncaught (in promise) boom")
    assert IgnoreRule("(in promise)").matches(event)  # a valid regex that matches as text
    assert IgnoreRule(r"boo+m$").matches(event)
    with pytest.raises(PatternError) as caught:
        Rules().with_overrides(ignore=("ok", "(in promise"))
    assert caught.value.pattern == "(in promise"
    with pytest.raises(PatternError):
        Rules(expect=("[",))


# Python's `re` never finishes this search (the alternatives split 40 x's every way).
BACKTRACKS = r"(x|xx)+y"


def test_a_pattern_that_backtracks_for_ever_ends_and_hides_no_error() -> None:
    from collector.report import Event
    from collector.rules import Rules, slow_patterns

    rules = Rules().with_overrides(ignore=(BACKTRACKS,), expect=(BACKTRACKS,))
    event = Event(kind="console", level="error", text="x" * 40)
    assert rules.fails(event)  # not ignored: the pattern never finished
    assert rules.missing_expected([event]) == [BACKTRACKS]
    assert "did not finish" in slow_patterns()[BACKTRACKS]


def test_a_file_of_many_slow_patterns_costs_seconds_not_minutes() -> None:
    """Past a few slow patterns (a file made to stall the replay), the rest get a far
    shorter limit, still thousands of times what a legitimate pattern needs."""
    from collector.report import Event
    from collector.rules import SLOW_PATTERNS_TOLERATED, Rules, slow_patterns

    many = tuple(f"{BACKTRACKS}{n}" for n in range(SLOW_PATTERNS_TOLERATED + 4))
    rules = Rules().with_overrides(ignore=(*many, "x{40}"))
    event = Event(kind="console", level="error", text="x" * 40)
    assert not rules.fails(event)  # a legitimate regex after them still matches
    assert "within 0.01 s" in slow_patterns()[many[-1]]


def test_the_tickets_settings_without_a_config_file_are_configs_defaults(tmp_path: Path) -> None:
    """`collector ticket` reads no Config where there is no file: the defaults must agree."""
    from collector.config_file import desk_settings

    settings = desk_settings(tmp_path)
    default = load_config(tmp_path)
    assert settings == type(settings)(
        default.lang, default.reasons, default.support_address, default.support_url,
        default.source,
    )  # fmt: skip
    assert default == Config()
