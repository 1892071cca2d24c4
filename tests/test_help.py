"""Every command's --help ends with real examples, and the command list is never cut.

Each example is parsed by click against its own command (options, their values and
arguments), so an example cannot keep naming an option that was renamed or removed.
"""

from __future__ import annotations

import shlex

import click
import pytest
from click.testing import CliRunner

from collector.cli import cli


def all_commands(
    group: click.Group = cli, prefix: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], click.Command]]:
    found: list[tuple[tuple[str, ...], click.Command]] = []
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        if isinstance(command, click.Group):
            found += all_commands(command, path)
        else:
            found.append((path, command))
    return found


def example_lines(command: click.Command) -> list[str]:
    epilog = command.epilog or ""
    assert "Examples:" in epilog, "no Examples: section in the epilog"
    return [line.strip() for line in epilog.split("Examples:", 1)[1].splitlines() if line.strip()]


def example_args(line: str, path: tuple[str, ...]) -> list[str]:
    """The arguments after `collector CMD`, without comments and shell redirections."""
    words = shlex.split(line, comments=True)
    assert words[: 1 + len(path)] == ["collector", *path], line
    args = words[1 + len(path) :]
    if ">" in args:
        args = args[: args.index(">")]
    return args


@pytest.mark.parametrize(("path", "command"), all_commands(), ids=lambda v: str(v))
def test_every_command_help_ends_with_two_or_three_examples_that_parse(
    path: tuple[str, ...], command: click.Command
) -> None:
    lines = example_lines(command)
    assert 2 <= len(lines) <= 3, lines
    for line in lines:
        args = example_args(line, path)
        # Click's own parser: an unknown option, a bad value or a missing argument raises.
        with click.Context(cli, info_name="collector") as parent:
            ctx = command.make_context(path[-1], list(args), parent=parent)
        hidden = {
            opt
            for param in command.params
            if isinstance(param, click.Option) and param.hidden
            for opt in param.opts
        }
        assert not hidden & set(args), f"{line}: uses an old spelling"
        assert ctx.params is not None

    shown = CliRunner().invoke(cli, [*path, "--help"], terminal_width=80)
    assert shown.exit_code == 0
    tail = [line.strip() for line in shown.stdout.rstrip().splitlines()[-len(lines) - 1 :]]
    assert tail == ["Examples:", *lines], "the examples end the help, one a line, unwrapped"


def test_the_command_list_is_never_cut() -> None:
    shown = CliRunner().invoke(cli, ["--help"], terminal_width=80)
    assert shown.exit_code == 0
    listing = " ".join(shown.stdout.split("Commands:", 1)[1].split())
    assert "..." not in listing
    for name, command in cli.commands.items():
        first = " ".join((command.help or "").split("\n\n")[0].split())
        assert f"{name} {first}" in listing.replace("- ", "-"), name
