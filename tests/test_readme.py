"""The README's Use section runs as written.

Every fenced block of the section (from `## Use` to the next `## ` heading) is one of:

- ```sh: commands, one a line, run in order by bash (globs expand) in a fresh folder
  holding a copy of `examples/`, with the package's `collector` first on PATH. Each
  must exit with the code its `# exit N` comment names, else 0. `export NAME=value`
  sets NAME for the commands after it; a line ending in `&` starts a background
  server (`collector demo --serve`) that the test waits for, and stops at the end.
- ```yaml / ```json whose first line is `# FILE`: written to FILE before the commands.

The one substitution: each port of the section (`127.0.0.1:PORT`, `--port PORT`) and
of the copied examples becomes a free port, the same one everywhere, so that parallel
runs never collide. Nothing else is rewritten: a placeholder that fails, fails here.

A command whose `collector CMD --help` fails (a command that does not exist yet) is
skipped, with a warning naming it; nothing else is.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest
from run_collector import invoke, process_env

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
PORT = re.compile(r"(?<=127\.0\.0\.1:)(\d+)|(?<=--port )(\d+)")
EXIT = re.compile(r"#\s*exit (\d+)")
COMMAND_TIMEOUT_S = 300


@dataclass
class Command:
    line: str
    exit_code: int
    background: bool = False


def use_section(text: str) -> str:
    start = text.index("\n## Use\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def blocks(section: str) -> tuple[dict[str, str], list[Command]]:
    """The files to write and the commands to run, in order."""
    files: dict[str, str] = {}
    commands: list[Command] = []
    for match in FENCE.finditer(section):
        kind, body = match.group(1), match.group(2)
        if kind == "sh":
            for raw in body.splitlines():
                line = raw.strip()
                if not line or line.startswith("#"):
                    continue
                code = EXIT.search(line)
                command = line.split(" #", 1)[0].strip()
                background = command.endswith("&")
                commands.append(
                    Command(command.rstrip("& "), int(code.group(1)) if code else 0, background)
                )
        elif kind in ("yaml", "json"):
            first, _, rest = body.partition("\n")
            assert first.startswith("# "), f"a {kind} block without a `# FILE` first line"
            files[first[2:].strip()] = body if kind == "yaml" else rest
        else:
            raise AssertionError(f"a ```{kind} block in the Use section: make it sh, or move it")
    return files, commands


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_for_port(port: int, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the background server ended: {proc.communicate()}"
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def test_the_use_section_has_what_a_newcomer_needs() -> None:
    section = use_section(README.read_text(encoding="utf-8"))
    files, commands = blocks(section)
    lines = [c.line for c in commands]
    assert ". .venv/bin/activate" in section and "pipx install ." in section
    assert "checkout.yaml" in files
    assert any(line.startswith("export SHOP_PASSWORD=") for line in lines)
    assert any(c.background and c.line.startswith("collector demo --serve") for c in commands)
    assert any("examples/demo-recording.json" in line for line in lines)
    assert any("--github" in line for line in lines) and any("--junit" in line for line in lines)
    assert any(line.startswith("collector merge shard-*.json") for line in lines)
    for line in lines:
        assert line.startswith(("collector ", "export ")), line


@pytest.mark.browser
@pytest.mark.timeout(900)  # some twenty commands, each its own process
def test_every_command_of_the_use_section_runs_as_written(tmp_path: Path, browser_loop) -> None:
    section = use_section(README.read_text(encoding="utf-8"))
    ports: dict[str, str] = {}

    def swap_ports(text: str) -> str:
        return PORT.sub(lambda m: ports.setdefault(m.group(0), str(free_port())), text)

    section = swap_ports(section)
    files, commands = blocks(section)
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    for example in (tmp_path / "examples").iterdir():
        example.write_text(swap_ports(example.read_text(encoding="utf-8")), encoding="utf-8")
    for name, content in files.items():
        (tmp_path / name).write_text(content, encoding="utf-8")

    # Every command uses the worker's browser, as a CI job with a browser service would:
    # the commands stay as written, and some twenty Chromium starts are saved.
    env = process_env({"COLLECTOR_CDP": browser_loop.cdp_url})
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    assert shutil.which("collector", path=env["PATH"]), "collector is not on PATH"
    servers: list[subprocess.Popen[str]] = []
    skipped: list[str] = []
    try:
        for command in commands:
            words = shlex.split(command.line)
            if words[0] == "export":
                name, _, value = words[1].partition("=")
                env[name] = value
                continue
            # In this process: a `--help` process per command cost an interpreter start
            # and collector's imports each, and says no more than click does here.
            if invoke(words[1], "--help", cwd=tmp_path).returncode != 0:
                skipped.append(command.line)
                continue
            if command.background:
                server = subprocess.Popen(
                    ["bash", "-c", f"exec {command.line}"], cwd=tmp_path, env=env,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                )  # fmt: skip
                servers.append(server)
                wait_for_port(int(words[words.index("--port") + 1]), server)
                continue
            ran = subprocess.run(
                ["bash", "-c", command.line], cwd=tmp_path, env=env,
                capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S,
            )  # fmt: skip
            assert ran.returncode == command.exit_code, (
                f"{command.line}\nexit {ran.returncode}, documented {command.exit_code}\n"
                f"stdout: {ran.stdout[-2000:]}\nstderr: {ran.stderr[-2000:]}"
            )
            assert "Traceback" not in ran.stderr, ran.stderr
    finally:
        for server in servers:
            server.send_signal(signal.SIGTERM)
            server.communicate(timeout=30)
    for line in skipped:
        warnings.warn(f"README command skipped (its command does not exist yet): {line}",
                      stacklevel=1)
    # What the commands said they wrote is there.
    assert (tmp_path / "ticket.eml").is_file() and (tmp_path / "recorded.yaml").is_file()
    assert (tmp_path / "junit.xml").is_file() and list((tmp_path / "failures").iterdir())
