"""Command line: parse options, call the library, print, map errors to exit codes.

Heavy modules (Playwright, Pillow, the runner) are imported inside the commands
that need them, so `--help`, `validate` and `schema` start fast.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from collector import __version__
from collector.errors import EXIT_INTERRUPTED, CollectorError

F = TypeVar("F", bound=Callable[..., Any])


class CollectorGroup(click.Group):
    """Turns library errors into one `Error: …` line and the exit code of SPEC.md."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CollectorError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(EXIT_INTERRUPTED)


def browser_options(fn: F) -> F:
    """Options that say which browser to use and how."""
    for decorator in reversed(
        [
            click.option("--browser-path", metavar="PATH", help="Chromium executable to launch."),
            click.option("--headed", is_flag=True, help="Show the browser window."),
            click.option("--connect", metavar="WS_URL", help="Use a remote Playwright server."),
            click.option("--cdp", metavar="URL", help="Use an already running Chromium (CDP)."),
        ]
    ):
        fn = decorator(fn)
    return fn


def make_browser_options(
    browser_path: str | None, headed: bool, connect: str | None, cdp: str | None, slow_mo: float = 0
) -> Any:
    from collector.browser import BrowserOptions
    from collector.errors import BadInput

    if connect and cdp:
        raise BadInput("--connect and --cdp cannot be used together")
    return BrowserOptions(
        browser_path=browser_path, headed=headed, connect=connect, cdp=cdp, slow_mo=slow_mo
    )


@click.group(cls=CollectorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="collector")
def cli() -> None:
    """Reproduce a user's steps in Chromium and write a support-ticket bundle."""


@cli.command()
@browser_options
def doctor(browser_path: str | None, headed: bool, connect: str | None, cdp: str | None) -> None:
    """Find Chromium, launch it, and say what is missing and how to fix it."""
    from collector.doctor import diagnose

    options = make_browser_options(browser_path, headed, connect, cdp)
    found = asyncio.run(diagnose(options))
    for line in found.lines():
        click.echo(line)
    if found.problem is not None:
        raise found.problem
    click.echo("Everything needed is here.")


@cli.command()
@click.argument("scenarios", nargs=-1, required=True, metavar="SCENARIO...")
@click.option("--url", "base_url", metavar="BASE", help="Base URL for relative goto targets.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing when all files are valid.")
def validate(scenarios: tuple[str, ...], base_url: str | None, quiet: bool) -> None:
    """Check steps files without starting a browser."""
    from collector.scenario import load_scenario

    for path in scenarios:
        scenario = load_scenario(path, base_url=base_url)
        if not quiet:
            click.echo(f"{path}: ok ({len(scenario.steps)} steps)")


@cli.command()
@click.argument("what", type=click.Choice(["scenario"]))
def schema(what: str) -> None:
    """Print the JSON Schema of the scenario format."""
    from collector.scenario import scenario_json_schema

    document = scenario_json_schema()
    click.echo(json.dumps(document, indent=2))


def main() -> None:
    # Exit quietly when stdout is closed early (`collector schema scenario | head`).
    try:
        cli.main(prog_name="collector")
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)
