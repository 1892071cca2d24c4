"""Command line: parse options, call the library, print, map errors to exit codes.

Heavy modules (Playwright, Pillow, the runner) are imported inside the commands
that need them, so `--help`, `validate` and `schema` start fast.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import click

from collector import __version__
from collector.errors import EXIT_INTERRUPTED, BadInput, CollectorError
from collector.text import one_line

if TYPE_CHECKING:
    from collector.browser import BrowserOptions
    from collector.demo.server import DemoServer
    from collector.options import Flags, Options
    from collector.scenario import Scenario

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


class CollectorGroup(click.Group):
    """Turns library errors into one `Error: …` line and the exit code of SPEC.md."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CollectorError as exc:
            # The message may quote a stranger's file: one line, no control characters.
            click.echo(f"Error: {one_line(exc)}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(EXIT_INTERRUPTED)


    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list with whole descriptions: wrapped, never cut with "..."."""
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(limit=1_000)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


# Two or three real examples at the end of each command's --help (tests/test_help.py
# parses every one against its command, so an example cannot name an option that is gone).
EXAMPLES: dict[str, tuple[str, ...]] = {
    "doctor": (
        "collector doctor",
        "collector doctor --browser-path /usr/bin/chromium",
    ),
    "validate": (
        "collector validate checkout.yaml",
        "collector validate examples/*.yaml -q       # only the last line",
    ),
    "schema": (
        "collector schema scenario > scenario.schema.json",
        "collector schema report",
    ),
    "repro": (
        "collector repro checkout.yaml",
        "collector repro recording.json --lang pt --reason billing --out bugs/",
        "collector repro checkout.yaml --url https://staging.example/ --trace --har",
    ),
    "demo": (
        "collector demo",
        "collector demo --variant fixed --json",
        "collector demo --serve --port 8000          # only serve the shop, until Ctrl-C",
    ),
    "symbolicate": (
        "collector symbolicate reports/CR-20261125-7K3QF9/ --source-maps dist/assets/",
        "collector symbolicate CR-20261125-7K3QF9.zip --source-maps maps/ --out resolved/ -q",
    ),
    "ticket": (
        "collector ticket reports/CR-20261125-7K3QF9/",
        "collector ticket CR-20261125-7K3QF9.zip --format eml -o ticket.eml",
        "collector ticket reports/CR-20261125-7K3QF9/ --lang pt --reason billing",
    ),
    "check": (
        "collector check https://shop.example/ https://shop.example/checkout.html",
        "collector check urls.txt --junit junit.xml --github --out failures/",
        "collector check urls.txt --shard 1/3 --json-file shard-1.json -q",
    ),
    "merge": (
        "collector merge shard-*.json --junit junit.xml --json-file merged.json",
        "collector merge shard-1.json shard-2.json shard-3.json --github -q",
    ),
    "convert": (
        "collector convert recording.json -o checkout.yaml",
        "collector convert recording.json > checkout.yaml",
    ),
    "submit": (
        "collector submit reports/CR-20261125-7K3QF9/ --smtp smtp://desk@mail.example:587 "
        "--to support@shop.example",
        "collector submit CR-20261125-7K3QF9.zip --inbox https://inbox.example/ --json",
        "collector submit CR-20261125-7K3QF9.zip --webhook https://hooks.example/t --force",
    ),
    "inbox serve": (
        "collector inbox serve                        # http://127.0.0.1:8080/, bundles in inbox/",
        "collector inbox serve --bundles /srv/inbox --watch /srv/drop --port 9000",
        "collector inbox serve --host 0.0.0.0 --require-fixed-replay --lang pt",
    ),
    "record": (
        "collector record https://shop.example/checkout.html",
        "collector record https://shop.example/ -o checkout.yaml --verify",
        "collector record https://shop.example/ --storage-state logged-in.json --secret SHOP_PASSWORD",
    ),
    "replay": (
        "collector replay reports/CR-20261125-7K3QF9/ --times 10",
        "collector replay CR-20261125-7K3QF9.zip --url https://staging.example/ --expect fixed",
        "collector replay CR-20261125-7K3QF9.zip --secret SHOP_PASSWORD --json",
    ),
    "minimize": (
        "collector minimize reports/CR-20261125-7K3QF9/ -o minimal.yaml",
        "collector minimize CR-20261125-7K3QF9.zip --runs-per-candidate 2/5 --budget 10m",
        "collector minimize recording.json --target 3f2a9c1d0b7e --json",
    ),
}


def examples(command: str) -> str:
    """A click epilog listing ``EXAMPLES[command]``, its lines kept as written (``\\b``)."""
    lines = "\n".join(f"  {line}" for line in EXAMPLES[command])
    return f"\b\nExamples:\n{lines}"


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """asyncio.run, imported only by the commands that drive a browser (start-up time)."""
    import asyncio

    return asyncio.run(coroutine)


CONNECT_ENV = "COLLECTOR_CONNECT"
CDP_ENV = "COLLECTOR_CDP"


def browser_options(fn: F) -> F:
    """Options that say which browser to use and how."""
    for decorator in reversed(
        [
            click.option("--browser-path", metavar="PATH", help="Chromium executable to launch."),
            click.option("--headed", is_flag=True, help="Show the browser window."),
            click.option(
                "--connect",
                metavar="WS_URL",
                help=f"Use a remote Playwright server (or set {CONNECT_ENV}).",
            ),
            click.option(
                "--cdp",
                metavar="URL",
                help=f"Use an already running Chromium (CDP; or set {CDP_ENV}).",
            ),
        ]
    ):
        fn = decorator(fn)
    return fn


def renamed_option(old: str, new: str, *, takes_value: bool = True) -> Callable[[F], F]:
    """An option's old spelling: hidden, and one clear exit-2 line naming the new one."""

    def refuse(ctx: click.Context, param: click.Parameter, value: Any) -> None:
        if value not in (None, False):
            raise BadInput(f"{old} is now {new} (see collector {ctx.info_name} --help)")

    return click.option(
        old,
        hidden=True,
        expose_value=False,
        is_flag=not takes_value,
        callback=refuse,
        is_eager=True,
    )


def bundle_write_options(fn: F) -> F:
    """Options of every command that writes bundles (repro, demo, check, replay): one meaning."""
    for decorator in reversed(
        [
            click.option(
                "--out",
                "out_dir",
                metavar="DIR",
                help="Output folder of the bundles (default: config reports_dir, else reports/).",
            ),
            click.option("--trace", is_flag=True, help="Record a Playwright trace.zip per bundle."),
            click.option("--har", is_flag=True, help="Record network.har per bundle (redacted)."),
            click.option(
                "--max-attachment-bytes",
                "max_attachment_bytes",
                metavar="SIZE",
                help="Attachment budget, e.g. 2000000 or 2MB (as config max_attachment_bytes).",
            ),
            renamed_option("--max-attachment-size", "--max-attachment-bytes"),
            click.option("--lang", type=click.Choice(["en", "pt"]), help="Ticket language."),
            click.option(
                "--reason", help="Ticket reason, one of the config's reasons (default list: "
                "technical, billing, account, other)."
            ),
            click.option("--template-dir", metavar="DIR", help="Your own ticket templates."),
            click.option(
                "--source-maps", "source_maps", metavar="DIR",
                help="Source maps the site does not serve (NAME.js.map for NAME.js), "
                "to show errors at their original file and line (config source_maps).",
            ),
        ]
    ):
        fn = decorator(fn)
    return fn


def output_options(last_line: str) -> Callable[[F], F]:
    """-q/--quiet and --json: the same meaning on every command that has them."""

    def decorate(fn: F) -> F:
        fn = click.option(
            "--json", "as_json", is_flag=True, help="Print a JSON summary on stdout (nothing else)."
        )(fn)
        return click.option(
            "--quiet", "-q", is_flag=True, help=f"Print only the last line ({last_line})."
        )(fn)

    return decorate


def run_options(fn: F) -> F:
    """Options shared by the commands that run a steps file and write its bundle."""
    fn = output_options("the bundle path")(fn)
    fn = click.option(
        "--url", "base_url", metavar="BASE", help="Base URL for relative targets."
    )(fn)
    return max_run_time_option(timing_options(bundle_write_options(fn)))


def max_run_time_option(fn: F) -> F:
    """--max-run-time: a bound on the whole command, for CI jobs that must end."""
    return click.option(
        "--max-run-time",
        "max_run_time",
        type=click.FloatRange(1, 86_400),
        metavar="SECONDS",
        help="Stop after SECONDS in all; the bundle collected so far is written (exit 1).",
    )(fn)


def timing_options(fn: F) -> F:
    """--timeout and --linger: how long steps may take and how long to wait for late errors."""
    fn = click.option(
        "--linger",
        type=click.FloatRange(0, 120),
        metavar="S",
        help="Seconds to wait for late errors after the last step (default 2).",
    )(fn)
    return click.option(
        "--timeout",
        "timeout_ms",
        type=click.IntRange(1, 600_000),
        metavar="MS",
        help="Timeout of each step in ms.",
    )(fn)


def make_browser_options(
    browser_path: str | None, headed: bool, connect: str | None, cdp: str | None, slow_mo: float = 0
) -> BrowserOptions:
    """The browser the command line asks for; without any browser flag, the environment's.

    A browser service (a Playwright server, a shared Chromium) is usually set once for a
    CI job or a shell, as ``COLLECTOR_CONNECT`` or ``COLLECTOR_CDP``; a browser flag on
    the command line always wins over them.
    """
    from collector.browser import BrowserOptions

    if not (browser_path or headed or connect or cdp):
        connect = os.environ.get(CONNECT_ENV) or None
        cdp = os.environ.get(CDP_ENV) or None
        if connect and cdp:
            raise BadInput(f"{CONNECT_ENV} and {CDP_ENV} cannot be used together")
    if connect and cdp:
        raise BadInput("--connect and --cdp cannot be used together")
    return BrowserOptions(
        browser_path=browser_path, headed=headed, connect=connect, cdp=cdp, slow_mo=slow_mo
    )


@click.group(cls=CollectorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="collector")
def cli() -> None:
    """Reproduce a user's steps in Chromium and write a support-ticket bundle."""


@cli.command(epilog=examples("doctor"))
@browser_options
def doctor(browser_path: str | None, headed: bool, connect: str | None, cdp: str | None) -> None:
    """Find Chromium, launch it, and say what is missing and how to fix it."""
    from collector.doctor import diagnose

    options = make_browser_options(browser_path, headed, connect, cdp)
    found = run_async(diagnose(options))
    for line in found.lines():
        click.echo(line)
    if found.problem is not None:
        raise found.problem
    click.echo("Everything needed is here.")


@cli.command(epilog=examples("validate"))
@click.argument("scenarios", nargs=-1, required=True, metavar="SCENARIO...")
@click.option("--url", "base_url", metavar="BASE", help="Base URL for relative goto targets.")
@click.option(
    "--quiet", "-q", is_flag=True, help="Print only the last line (the verdict on all files)."
)
def validate(scenarios: tuple[str, ...], base_url: str | None, quiet: bool) -> None:
    """Check steps files without starting a browser."""
    from collector.loader import check_steps

    lines = []
    for path in scenarios:
        checked = check_steps(path, base_url=base_url)
        for warning in checked.warnings:
            click.echo(f"{path}: warning: {warning}", err=True)
        count = checked.steps
        lines.append(f"{path}: ok ({count} step{'s' if count != 1 else ''})")
        if not quiet:
            click.echo(lines[-1])
    if len(scenarios) > 1:
        lines.append(f"{len(scenarios)} files valid")
        if not quiet:
            click.echo(lines[-1])
    if quiet:
        click.echo(lines[-1])


@cli.command(epilog=examples("schema"))
@click.argument("what", type=click.Choice(["scenario", "report"]))
def schema(what: str) -> None:
    """Print the JSON Schema of the scenario or report format."""
    from collector.schemas import shipped

    click.echo(shipped(what), nl=False)


@cli.command(epilog=examples("repro"))
@click.argument("scenario_path", metavar="SCENARIO")
@run_options
@browser_options
def repro(scenario_path: str, **params: Any) -> None:
    """Run a steps file (or a Chrome Recorder export) and write an error-report bundle."""
    flags, output, browser = _flags(params), _output(params), _browser(params)

    def load() -> Scenario:
        # Called in a thread while the browser starts (pydantic is a slow import).
        from collector.loader import load_steps

        loaded = load_steps(scenario_path, base_url=flags.base_url)
        for warning in loaded.warnings:
            click.echo(f"{scenario_path}: warning: {warning}", err=True)
        return loaded.scenario

    _reproduce_and_report(load, scenario_path, flags, browser, output)


@cli.command(epilog=examples("demo"))
@run_options
@browser_options
@click.option(
    "--variant",
    type=click.Choice(["buggy", "fixed"]),
    default="buggy",
    help="Serve the shop with its bug (default) or fixed.",
)
@click.option(
    "--serve",
    is_flag=True,
    help="Only serve the shop (default port 8000, as in examples/) until Ctrl-C; no run.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65_535),
    metavar="PORT",
    help="Port of the shop (default: 8000 with --serve, else a free one; 0: a free one).",
)
def demo(variant: str, serve: bool, port: int | None, **params: Any) -> None:
    """Serve the embedded demo shop on 127.0.0.1 and reproduce its payment bug."""
    from dataclasses import replace

    from collector.demo import demo_scenario
    from collector.demo.server import DemoServer
    from collector.scenario import load_scenario

    shop_variant: Literal["buggy", "fixed"] = "fixed" if variant == "fixed" else "buggy"
    if serve:
        _serve_demo(DemoServer(shop_variant, port=8000 if port is None else port))
        return
    flags, output, browser = _flags(params), _output(params), _browser(params)
    os.environ.setdefault("DEMO_SHOP_PASSWORD", "demo-shop-secret")
    with _started(DemoServer(shop_variant, port=port or 0)) as shop:
        if not output.silent:
            click.echo(f"Demo shop ({variant}) at {shop.url}", err=True)
        flags = replace(flags, base_url=shop.url)
        with demo_scenario() as path:
            code = _reproduce_and_report(
                lambda: load_scenario(path, base_url=shop.url),
                str(path),
                flags,
                browser,
                output,
                exit_on_errors=False,
            )
    # The demo succeeds when it shows the bug (buggy) or its absence (fixed).
    expected = 1 if variant == "buggy" else 0
    sys.exit(0 if code == expected else 1)


def _started(server: DemoServer) -> DemoServer:
    """The demo shop, started; a port in use is an environment problem (exit 3)."""
    from collector.errors import EnvironmentProblem

    try:
        return server.start()
    except OSError as exc:
        raise EnvironmentProblem(
            f"cannot serve the demo shop on 127.0.0.1:{server.port}: "
            f"{exc.strerror or exc} (choose another with --port, 0 for a free one)"
        ) from None


def _serve_demo(server: DemoServer) -> None:
    """Serve until Ctrl-C or SIGTERM, then stop cleanly (exit 0: stopping is the way out)."""
    import signal
    import threading

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with _started(server) as shop:
        click.echo(f"Demo shop ({shop.variant}) at {shop.url} — Ctrl-C to stop", err=True)
        click.echo(shop.url)
        stop.wait()


@dataclass(frozen=True)
class Output:
    """How a command prints: progress and summary, only the last line, or JSON."""

    quiet: bool = False
    as_json: bool = False

    @property
    def silent(self) -> bool:
        return self.quiet or self.as_json


# Click parameter -> Flags field: the options that mean the same on every command.
FLAG_PARAMS = {
    "out_dir": "out_dir",
    "base_url": "base_url",
    "timeout_ms": "timeout_ms",
    "linger": "linger_s",
    "trace": "trace",
    "har": "har",
    "max_attachment_bytes": "max_attachment_bytes",
    "lang": "lang",
    "reason": "reason",
    "template_dir": "template_dir",
    "fail_on": "fail_on",
    "ignores": "ignore",
    "max_run_time": "max_run_time_s",
    "source_maps": "source_maps_dir",
}


def _flags(params: dict[str, Any]) -> Flags:
    """The command's click parameters as typed flags (those it has; the rest unset)."""
    from collector.options import Flags

    if params.get("reason") is not None:
        # Checked before a browser starts: a bad --reason is bad input, said at once.
        from collector.config import load_config
        from collector.options import check_reason

        check_reason(params["reason"], load_config())
    return Flags(**{field: params[name] for name, field in FLAG_PARAMS.items() if name in params})


def _output(params: dict[str, Any]) -> Output:
    return Output(quiet=params["quiet"], as_json=params.get("as_json") is True)


def _browser(params: dict[str, Any], slow_mo: float = 0) -> BrowserOptions:
    return make_browser_options(
        params["browser_path"], params["headed"], params["connect"], params["cdp"], slow_mo
    )


def _reproduce_and_report(
    load: Callable[[], Scenario],
    scenario_path: str,
    flags: Flags,
    browser: BrowserOptions,
    output: Output,
    exit_on_errors: bool = True,
) -> int:
    """Run and bundle; print the summary; exit with the run's code (or return it)."""
    from collector.errors import EXIT_FAILED, EXIT_OK
    from collector.output import StepPrinter, print_summary, summary_json
    from collector.repro import reproduce_prepared

    printer = None if output.silent else StepPrinter(err=True)

    def prepare() -> tuple[Scenario, Options]:
        # Runs in a thread while the browser starts: config, scenario and the heavy imports.
        from dataclasses import replace
        from pathlib import Path

        from collector.config import load_config
        from collector.options import resolve_options

        options = resolve_options(flags, load_config())
        scenario = load()
        if printer is not None:
            printer.lang = options.bundle.lang  # step lines in the ticket's language
        run = replace(options.run, scenario_dir=Path(scenario_path).resolve().parent)
        return scenario, replace(options, run=run)

    done = run_async(
        reproduce_prepared(
            prepare,
            browser_options=browser,
            on_step=printer,
            max_run_time_s=flags.max_run_time_s,
        )
    )
    if output.as_json:
        click.echo(json.dumps(summary_json(done), indent=2))
    else:
        if not output.silent:
            print_summary(done, err=True)
        # The last line: the file to attach, by its absolute path (the folder if no zip).
        zip_path = done.zip_path
        click.echo(str(zip_path if zip_path.exists() else done.bundle.resolve()))
    interrupt = done.result.interrupt
    status = done.result.outcome.status
    if interrupt is not None:
        code = interrupt.exit_code
    elif status == "interrupted":
        code = EXIT_INTERRUPTED
    elif status == "clean":
        code = EXIT_OK
    else:
        code = EXIT_FAILED
    if exit_on_errors or interrupt is not None:
        sys.exit(code)
    return code


@cli.command(epilog=examples("ticket"))
@click.argument("bundle", metavar="BUNDLE")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "txt", "eml", "json"]),
    default="md",
    show_default=True,
    help="Ticket format.",
)
@click.option("--lang", type=click.Choice(["en", "pt"]), help="Ticket language.")
@click.option("--template-dir", metavar="DIR", help="Your own templates, searched first.")
@click.option(
    "--reason",
    help="Ticket reason, one of the config's reasons (default: the bundle's, else the first).",
)
@click.option("-o", "--output", metavar="FILE", help="Write to FILE instead of stdout.")
def ticket(
    bundle: str,
    fmt: str,
    lang: str | None,
    template_dir: str | None,
    reason: str | None,
    output: str | None,
) -> None:
    """Re-render a bundle's ticket draft (no browser needed)."""
    from pathlib import Path

    from collector.bundle_reader import open_bundle
    from collector.config_file import desk_settings
    from collector.options import check_reason
    from collector.ticket import build_context, render_eml, render_ticket

    config = desk_settings()
    check_reason(reason, config)
    if template_dir and not Path(template_dir).is_dir():
        raise BadInput(f"--template-dir {template_dir}: no such folder")
    received = open_bundle(Path(bundle), plain=True)
    report = received.report
    context = build_context(
        report,
        lang=lang or config.lang,
        # The bundle's own reason stands unless --reason is given; the configured list
        # only fills in for a bundle that has none.
        reason=reason or report.reason or (config.reasons[0] if config.reasons else None),
        support_address=config.support_address,
        support_url=config.support_url,
    )
    if fmt == "eml":
        data = render_eml(context, received.attachment(), template_dir)
    else:
        data = render_ticket(context, fmt, template_dir).encode("utf-8")
    if output:
        Path(output).write_bytes(data)
        click.echo(output)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()


@cli.command(epilog=examples("submit"))
@click.argument("bundle", metavar="BUNDLE")
@click.option("--smtp", metavar="URL", help="Send by e-mail through smtp://[user@]host[:port] "
              "(STARTTLS; smtps:// for TLS). The password: $COLLECTOR_SMTP_PASSWORD.")
@click.option("--to", metavar="ADDRESS", help="E-mail the ticket to ADDRESS (default: config "
              "support_address; the server: --smtp or [submit] smtp).")
@click.option("--from", "sender", metavar="ADDRESS", help="The e-mail's From (default: "
              "[submit] from, else the SMTP user).")
@click.option("--reply-to", metavar="ADDRESS", help="Where the desk's answer goes.")
@click.option("--webhook", metavar="URL", help="POST the zip and the ticket JSON to URL "
              "(token, if any: $COLLECTOR_WEBHOOK_TOKEN).")
@click.option("--inbox", metavar="URL", help="Upload to a collector inbox "
              "(token: $COLLECTOR_INBOX_TOKEN).")
@click.option("--cafile", metavar="FILE", help="Also trust this CA (PEM) for TLS.")
@click.option("--force", is_flag=True, help="Send again where it was already sent.")
@click.option("--lang", type=click.Choice(["en", "pt"]), help="Language of the ticket and lines.")
@click.option(
    "--reason",
    help="Ticket reason, one of the config's reasons (default: the bundle's, else the first).",
)
@click.option("--template-dir", metavar="DIR", help="Your own templates, searched first.")
@output_options("what was sent")
def submit(bundle: str, **params: Any) -> None:
    """Send a bundle's ticket: e-mail (zip attached), a webhook, or a collector inbox.

    With no destination option, the ones under [submit] in collector.toml are used. What
    was sent is recorded in $XDG_STATE_HOME/collector/sent.jsonl; the same bundle is not
    sent to the same place twice without --force.
    """
    from pathlib import Path

    from collector import submit as submitting
    from collector.bundle_reader import open_bundle
    from collector.config import load_config
    from collector.labels import SUBMIT_LABELS
    from collector.options import check_reason

    output = _output(params)
    config = load_config()
    check_reason(params["reason"], config)
    template_dir = params["template_dir"]
    if template_dir and not Path(template_dir).is_dir():
        raise BadInput(f"--template-dir {template_dir}: no such folder")
    names = ("smtp", "to", "webhook", "inbox", "sender", "reply_to", "cafile", "lang", "force")
    flags = submitting.SubmitFlags(**{name: params[name] for name in names})
    plan = submitting.make_plan(flags, config, os.environ)
    received = open_bundle(Path(bundle))
    report = received.report
    record = submitting.SentRecord(submitting.state_dir(os.environ) / submitting.RECORD_NAME)
    t = SUBMIT_LABELS[plan.lang]

    def say(line: str) -> None:
        if not output.silent:
            click.echo(one_line(line), err=True)

    def on_retry(where: Any, error: str, wait: float, number: int, total: int) -> None:
        say(t["retry"].format(where=where.shown, error=error, seconds=f"{wait:g}",
                              attempt=number, total=total))  # fmt: skip

    def on_sent(sent: Any) -> None:
        where, channel = sent.destination.shown, t[f"channel_{sent.destination.channel}"]
        if sent.status == "already_received":
            say(t["already_received"].format(where=where, channel=channel,
                                             reference=report.reference))  # fmt: skip
        elif sent.message_id:
            say(t["sent_email"].format(where=where, message_id=sent.message_id))
        else:
            say(t["sent_http"].format(where=where, channel=channel, status=sent.http_status))
        if sent.issue_url:
            say(t["issue"].format(url=sent.issue_url))

    def on_start() -> None:
        from collector.ticket import make_subject

        subject = make_subject(report, plan.lang)
        say(t["sending"].format(reference=report.reference, subject=subject))

    done = submitting.submit(
        received,
        plan,
        record,
        budget=config.attachment_budget(),
        reason=params["reason"] or report.reason or (config.reasons[0] if config.reasons else None),
        template_dir=template_dir,
        on_retry=on_retry,
        on_start=on_start,
        on_sent=on_sent,
    )
    if output.as_json:
        summary = {
            "reference": report.reference,
            "sent": [sent.as_json() for sent in done],
            "record": str(record.path),
        }
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        key = "done_one" if len(done) == 1 else "done_other"
        click.echo(t[key].format(reference=report.reference, count=len(done)))


@cli.command(epilog=examples("symbolicate"))
@click.argument("bundle", metavar="BUNDLE")
@click.option(
    "--source-maps", "source_maps", metavar="DIR",
    help="Folder of source maps (NAME.js.map for NAME.js, the scripts beside them name "
    "functions); default: config source_maps.",
)  # fmt: skip
@click.option("--out", "out_dir", metavar="DIR", help="Where the new report folder goes.")
@click.option("--lang", type=click.Choice(["en", "pt"]), help="Ticket language.")
@click.option("--template-dir", metavar="DIR", help="Your own templates, searched first.")
@output_options("the new report folder")
def symbolicate(bundle: str, **params: Any) -> None:
    """Re-resolve a bundle's stacks through source maps into a new report (no browser).

    The bundle is not changed: BUNDLE-symbolicated/ gets report.json, ticket.md,
    report.html and console.log with the original files, lines and functions.
    """
    import json
    from pathlib import Path

    from collector.config import load_config
    from collector.labels import plural
    from collector.options import Flags, source_maps_dir
    from collector.symbolicate import symbolicate_bundle

    output = _output(params)
    config = load_config()
    maps_dir = source_maps_dir(Flags(source_maps_dir=params["source_maps"]), config)
    if maps_dir is None:
        raise BadInput("symbolicate needs --source-maps DIR (or config source_maps)")
    template_dir = params["template_dir"]
    if template_dir and not Path(template_dir).is_dir():
        raise BadInput(f"--template-dir {template_dir}: no such folder")
    lang = params["lang"] or config.lang
    done = symbolicate_bundle(
        Path(bundle),
        maps_dir,
        Path(params["out_dir"] or config.reports_dir),
        lang=lang,
        reason=None,
        support_address=config.support_address,
        support_url=config.support_url,
        template_dir=template_dir,
        redact_patterns=tuple(config.redact),
    )
    if output.as_json:
        summary = {
            "path": str(done.path.resolve()),
            "reference": done.report.reference,
            "frames": done.frames,
            "resolved": done.resolved,
            "notes": done.notes,
        }
        click.echo(json.dumps(summary, indent=2))
        return
    if not output.quiet:
        for note in done.notes:
            click.echo(f"note: {note}")
        click.echo(plural(lang, "symbolicated", done.frames, resolved=done.resolved))
    click.echo(str(done.path.resolve()))


def ci_options(fn: F) -> F:
    """The outputs CI reads, on `check` and `merge` alike."""
    for decorator in reversed(
        [
            click.option("--junit", metavar="FILE", help="Write JUnit XML (a testcase per page)."),
            click.option(
                "--json-file", metavar="FILE", help="Write the JSON results (what merge reads)."
            ),
            click.option(
                "--github",
                is_flag=True,
                help="GitHub Actions: error annotations, and the job summary "
                "when $GITHUB_STEP_SUMMARY is set.",
            ),
            click.option(
                "--source-root",
                "source_roots",
                multiple=True,
                metavar="URL_PREFIX=PATH",
                help="Annotate files: URLs under URL_PREFIX are files under PATH "
                "(repeatable).",
            ),
        ]
    ):
        fn = decorator(fn)
    return fn


def _source_roots(params: dict[str, Any]) -> list[Any]:
    """--source-root values, parsed before any work starts (a typo is exit 2 at once)."""
    if not params["source_roots"]:
        return []  # without importing collector.github: it brings pydantic, before the browser
    from collector.github import parse_source_root

    return [parse_source_root(r) for r in params["source_roots"]]


def _ci_outputs(
    results: Any,
    params: dict[str, Any],
    output: Output,
    title: str,
    roots: list[Any],
    closing: str,
    lang: str = "en",
) -> None:
    """Annotations, job summary, JUnit and JSON of check (or merged) results.

    ``closing`` (the summary, or its last line under -q) is printed after the
    annotations, so that it stays the last line; under --json it goes to stderr, as
    stdout is the JSON alone.
    """
    from pathlib import Path

    from collector import github
    from collector.junit import junit_xml
    from collector.results import write_text

    if params["github"]:
        # Asked for by name: kept under -q; on stderr under --json (GitHub reads both).
        for line in github.annotation_lines(results, roots, cwd=Path.cwd()):
            click.echo(line, err=output.as_json)
        github.append_job_summary(github.job_summary(results, title, lang))
    if params["junit"]:
        write_text(params["junit"], junit_xml(results, title))
    if params["json_file"]:
        write_text(params["json_file"], results.to_json())
    click.echo(closing, err=output.as_json)
    if output.as_json:
        click.echo(results.to_json())


@cli.command(epilog=examples("check"))
@click.argument("items", nargs=-1, metavar="URL_OR_FILE...")
@click.option("--urls-file", metavar="FILE", help="A text file of URLs, one a line.")
@click.option("--sitemap", "sitemaps", multiple=True, metavar="URL", help="Check a sitemap's URLs.")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    metavar="N",
    help="Pages at once (default: fitted to the cores).",
)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "never"]),
    help="Lowest level that fails a page (default: config, else error).",
)
@click.option(
    "--ignore",
    "ignores",
    multiple=True,
    metavar="PATTERN",
    help="Ignore errors matching PATTERN (regex or substring); repeatable.",
)
@ci_options
@renamed_option("--bundles", "--out DIR")
@bundle_write_options
@click.option("--shard", metavar="I/N", help="Check only shard I of N.")
@click.option("--url", "base_url", metavar="BASE", help="Base URL for scenario files.")
@timing_options
@output_options("the summary line")
@browser_options
def check(items: tuple[str, ...], **params: Any) -> None:
    """Load pages concurrently in one browser and fail on console/page/network errors.

    A bundle is written for every failing page, under --out (default reports/).
    """
    from dataclasses import replace

    from collector import check as checking
    from collector.output import CheckProgress

    _refuse_old_json_file(items, params)
    flags = _flags(params)
    browser = _browser(params)
    output = _output(params)
    roots = _source_roots(params)
    # Lines instead of a bar when stderr is a CI log or a file, so that the log moves.
    progress = CheckProgress(0, enabled=not output.silent, terminal=sys.stderr.isatty())
    resolved: dict[str, str] = {}  # what prepare() read from the config

    def prepare() -> checking.CheckPlan:
        # Runs in a thread while the browser starts: config, targets and heavy imports.
        from collector.config import load_config
        from collector.options import resolve_options

        options = resolve_options(flags, load_config())
        resolved["lang"] = options.bundle.lang
        targets = checking.collect_targets(
            items, urls_file=params["urls_file"], sitemap_urls=params["sitemaps"],
            base_url=flags.base_url, env=dict(os.environ),
        )  # fmt: skip
        shard = checking.parse_shard(params["shard"]) if params["shard"] else None
        all_targets = [t.name for t in targets]
        if shard:
            targets = checking.shard(targets, *shard)
        run = replace(options.run, env=dict(os.environ), final_screenshot="on_failure")
        return checking.CheckPlan(
            targets=targets,
            run_options=run,
            work_dir=options.bundle.out_dir,
            concurrency=params["concurrency"] or checking.default_concurrency(),
            shard=shard,
            bundle_options=options.bundle,
            all_targets=all_targets,
        )

    def on_start(plan: checking.CheckPlan) -> None:
        progress.total = len(plan.targets)

    report = run_async(
        checking.run_check(
            prepare, browser_options=browser, on_start=on_start, on_done=progress.page_done
        )
    )
    progress.finish()
    if not output.quiet:
        # With --json, stdout holds the JSON alone: the lines for people go to stderr.
        for page in report.pages:
            for line in checking.error_lines(page) if page.failed else []:
                click.echo(line, err=output.as_json)
    table = checking.summary_table(report)
    closing = table.splitlines()[-1] if output.quiet else table
    lang = resolved.get("lang", "en")
    from collector.results import results_of  # not before: pydantic would delay the browser

    _ci_outputs(results_of(report), params, output, "collector check", roots, closing, lang)
    sys.exit(1 if report.failed else 0)


def _refuse_old_json_file(items: tuple[str, ...], params: dict[str, Any]) -> None:
    """`check --json FILE` (the old meaning) now reads FILE as a target: say what changed."""
    from pathlib import Path

    if params["as_json"]:
        for item in items:
            if item.endswith(".json") and not Path(item).exists():
                raise BadInput(
                    f"{item}: no such file; --json now prints on stdout, "
                    f"write a file with --json-file {item}"
                )


@cli.command(epilog=examples("merge"))
@click.argument("results_files", nargs=-1, required=True, metavar="RESULTS.json...")
@ci_options
@output_options("the summary line")
@click.option("--lang", type=click.Choice(["en", "pt"]), help="Language of the job summary.")
def merge(results_files: tuple[str, ...], **params: Any) -> None:
    """Merge the results of `check --shard I/N --json-file FILE` into one report."""
    from collector.config import load_config
    from collector.junit import detail_lines
    from collector.merge import merge_files
    from collector.results import summary_line

    output = _output(params)
    roots = _source_roots(params)
    merged = merge_files(list(results_files))
    if not output.quiet:
        for page in merged.failed:
            for line in detail_lines(page):
                click.echo(f"FAIL {page.name}: {line}", err=output.as_json)
    lang = params["lang"] or load_config().lang
    closing = summary_line(merged)
    _ci_outputs(merged, params, output, "collector check", roots, closing, lang)
    sys.exit(1 if merged.failed else 0)


@cli.command(epilog=examples("convert"))
@click.argument("recording", metavar="RECORDING.json")
@click.option("-o", "--output", metavar="FILE", help="Write the YAML here instead of stdout.")
def convert(recording: str, output: str | None) -> None:
    """Write a Chrome DevTools Recorder export as collector YAML."""
    from pathlib import Path

    from collector.errors import ScenarioError
    from collector.loader import recording_to_yaml
    from collector.recorder_shape import is_recording
    from collector.yamlsource import parse_document, read_text

    doc = parse_document(read_text(Path(recording), recording), recording, is_json=True)
    if not is_recording(doc.data):
        raise ScenarioError(
            f'{recording}: not a Chrome Recorder export (expected {{"title", "steps": '
            '[{"type": …}]})'
        )
    steps_yaml, warnings = recording_to_yaml(doc)
    for warning in warnings:
        click.echo(f"{recording}: warning: {warning}", err=True)
    text = f"# Converted from {Path(recording).name} (Chrome DevTools Recorder)\n"
    text += steps_yaml
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(output)
    else:
        click.echo(text, nl=False)


@cli.group()
def inbox() -> None:
    """The support team's web inbox: receive bundles, group them into issues, replay them."""


@inbox.command("serve", epilog=examples("inbox serve"))
@click.option("--bundles", default="inbox", show_default=True, metavar="DIR",
              help="Where received bundles (and the default database) are kept.")
@click.option("--db", metavar="URL", help="The database: a SQLite file or sqlite:///path "
              "(default: DIR/inbox.sqlite3).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@click.option("--watch", metavar="DIR", help="Also take bundle zips dropped into DIR.")
@click.option("--require-fixed-replay", is_flag=True,
              help="'fixed' only after a replay with --expect fixed held.")
@click.option("--replay-queue", type=click.IntRange(1, 1000), default=8, show_default=True,
              metavar="N", help="Replays waiting at most; more are refused.")
@click.option("--lang", type=click.Choice(["en", "pt"]), help="Language of the pages.")
@click.option("--secret", "secret_names", multiple=True, metavar="NAME",
              help="Give replayed bundles the secret NAME from your environment (repeatable).")
@click.option("--secrets-file", "secrets_files", multiple=True, metavar="FILE",
              help="Give replayed bundles secrets from NAME=value lines (repeatable).")
@browser_options
def inbox_serve(**params: Any) -> None:
    """Serve the inbox: upload API (token from COLLECTOR_INBOX_TOKEN), pages, replays."""
    from pathlib import Path

    from collector.agent_secrets import named_secrets
    from collector.config import load_config
    from collector.inbox.serve import ServeOptions, serve, token_from

    config = load_config()
    watch = Path(params["watch"]) if params["watch"] else None
    if watch is not None and not watch.is_dir():
        raise BadInput(f"--watch {watch}: no such folder")
    options = ServeOptions(
        bundles=Path(params["bundles"]),
        db=params["db"],
        host=params["host"],
        port=params["port"],
        token=token_from(os.environ, config.submit.inbox_token),
        watch=watch,
        lang=params["lang"] or config.lang or "en",
        require_fixed_replay=params["require_fixed_replay"],
        replay_queue=params["replay_queue"],
        browser=_browser(params),
        secrets=named_secrets(params["secret_names"], params["secrets_files"], os.environ),
    )
    serve(options, lambda line: click.echo(one_line(line), err=True))


@cli.command(epilog=examples("replay"))
@click.argument("bundle", metavar="BUNDLE")
@click.option(
    "--times",
    type=click.IntRange(1, 1000),
    default=1,
    show_default=True,
    help="Run the steps N times and report a rate per error.",
)
@click.option("--url", "base_url", metavar="BASE", help="Replay against another deployment.")
@click.option(
    "--expect",
    type=click.Choice(["reproduced", "fixed"]),
    default="reproduced",
    show_default=True,
    help="What exit code 0 means.",
)
@click.option(
    "--slow-mo",
    type=click.FloatRange(0, 10_000),
    default=0,
    metavar="MS",
    help="Slow every browser action down by MS.",
)
@bundle_write_options
@timing_options
@max_run_time_option
@click.option("--allow-local", is_flag=True, help="Allow file:, data:, chrome: … URLs.")
@click.option(
    "--secret",
    "secret_names",
    multiple=True,
    metavar="NAME",
    help="Give the bundle the secret NAME from your environment (repeatable).",
)
@click.option(
    "--secrets-file",
    "secrets_files",
    multiple=True,
    metavar="FILE",
    help="Give the bundle secrets from NAME=value lines (repeatable).",
)
@output_options("as expected / NOT as expected")
@browser_options
def replay(bundle: str, **params: Any) -> None:
    """Re-run a bundle's steps (folder or zip) and say whether the bug reproduces."""
    from dataclasses import replace
    from pathlib import Path

    from collector import replay as replaying
    from collector.agent_secrets import named_secrets
    from collector.bundle_reader import open_bundle
    from collector.config import load_config
    from collector.options import resolve_options

    flags = _flags(params)
    browser = _browser(params, slow_mo=params["slow_mo"])
    options = resolve_options(flags, load_config())
    received = open_bundle(Path(bundle), need_scenario=True)
    scenario = replaying.bundle_scenario(
        received, base_url=flags.base_url, allow_local=params["allow_local"]
    )
    quiet = params["quiet"] or params["as_json"]
    secrets = replaying.secrets_for(
        scenario,
        named_secrets(params["secret_names"], params["secrets_files"], os.environ),
        received.label,
    )
    if scenario.secrets and not quiet:
        click.echo(f"The bundle asks for secrets: {', '.join(scenario.secrets)} (given)", err=True)
    run = replace(options.run, env=secrets)
    original = received.report
    if not quiet:
        target = (
            flags.base_url
            or scenario.url
            or original.environment.url
            or replaying.first_url(scenario)
            or ""
        )
        click.echo(
            f"Replaying {original.reference} ({one_line(original.title or 'untitled')[:120]}) "
            f"{params['times']}× against {one_line(target)}",
            err=True,
        )

    def on_run(number: int, run_verdict: Any) -> None:
        if not quiet:
            click.echo(
                f"  run {number}/{params['times']}: {run_verdict.verdict} — {run_verdict.bundle}",
                err=True,
            )

    result = run_async(
        replaying.replay(
            received,
            scenario,
            times=params["times"],
            browser_options=browser,
            run_options=run,
            bundle_options=options.bundle,
            on_run=on_run,
            max_run_time_s=flags.max_run_time_s,
        )
    )
    rates = result.rates()
    ok, why = result.expectation(params["expect"])
    if params["as_json"]:
        click.echo(
            json.dumps(
                {
                    "original": original.reference,
                    "verdict": result.verdict,
                    "reason": result.reason,
                    "frequency": result.frequency,
                    "runs": [
                        {
                            "reference": r.reference,
                            "bundle": str(r.bundle),
                            "verdict": r.verdict,
                            "every_step_ran": r.every_step_ran,
                            "reason": r.reason,
                        }
                        for r in result.runs
                    ],
                    "errors": [
                        {
                            "fingerprint": fp,
                            "message": msg,
                            "seen": rates[fp],
                            "runs": len(result.runs),
                        }
                        for fp, msg in result.original_fingerprints.items()
                    ],
                    "new_errors": [
                        {"fingerprint": fp, "message": msg} for fp, msg in result.new_errors.items()
                    ],
                    "expect": params["expect"],
                    "as_expected": ok,
                    "why": why,
                },
                indent=2,
            )
        )
    else:
        if not params["quiet"]:
            if result.verdict == replaying.INCONCLUSIVE:
                click.echo(f"Verdict: {result.verdict} — {one_line(result.reason)[:300]}")
            else:
                click.echo(f"Verdict: {result.verdict} — {result.frequency}")
            for fp, message in result.original_fingerprints.items():
                click.echo(f"  {one_line(message)[:150]}  {rates[fp]}/{len(result.runs)}")
            if result.new_errors:
                click.echo("New errors (not in the original):")
                for message in result.new_errors.values():
                    click.echo(f"  {one_line(message)[:150]}")
        # The last line answers the question CI asks: did the expectation hold?
        said = "as expected" if ok else "NOT as expected"
        click.echo(f"{said} (--expect {params['expect']}): {one_line(why)[:300]}")
    if result.interrupt is not None:
        click.echo(result.interrupt.message, err=True)
        sys.exit(result.interrupt.exit_code)
    sys.exit(0 if ok else 1)


@cli.command(epilog=examples("minimize"))
@click.argument("source", metavar="BUNDLE_OR_STEPS")
@click.option(
    "--target", metavar="FINGERPRINT", help="The error to keep (default: the first failing one)."
)
@click.option(
    "--runs-per-candidate",
    "runs_per_candidate",
    metavar="N|K/N",
    help="A candidate reproduces when K (default 1) of N runs show the target "
    "(default: from how often the whole recording reproduces here).",
)
@click.option(
    "--budget",
    metavar="RUNS|TIME",
    help="Stop after RUNS candidate runs or TIME (90s, 5m) and keep the best so far.",
)
@click.option("-o", "--output", "steps_file", metavar="FILE", help="Write the minimal steps here.")
@click.option("--url", "base_url", metavar="BASE", help="Run against another deployment.")
@bundle_write_options
@timing_options
@click.option(
    "--allow-local", is_flag=True, help="Allow file:, data:, chrome: … URLs in a bundle."
)
@click.option(
    "--secret",
    "secret_names",
    multiple=True,
    metavar="NAME",
    help="Give the steps the secret NAME from your environment (repeatable).",
)
@click.option(
    "--secrets-file",
    "secrets_files",
    multiple=True,
    metavar="FILE",
    help="Give the steps secrets from NAME=value lines (repeatable).",
)
@output_options("the minimal steps file, else the new bundle")
@browser_options
def minimize(source: str, **params: Any) -> None:
    """Find the fewest steps that still reproduce the error (ddmin, one browser).

    Writes the minimal steps (-o FILE) and a new bundle naming the original reference.
    """
    from dataclasses import replace

    from collector import minimize as minimizing
    from collector.config import load_config
    from collector.options import resolve_options

    flags = _flags(params)
    output = _output(params)
    browser = _browser(params)
    runs = params["runs_per_candidate"]
    runs = minimizing.parse_runs(runs) if runs is not None else None
    budget = minimizing.parse_budget(params["budget"]) if params["budget"] is not None else None
    options = resolve_options(flags, load_config())
    lang = options.bundle.lang
    loaded = minimizing.load_source(
        source,
        base_url=flags.base_url,
        allow_local=params["allow_local"],
        named=_named_secrets(params),
        target=params["target"],
    )
    run = replace(options.run, env=loaded.secrets, scenario_dir=loaded.scenario_dir)

    def say(line: str) -> None:
        if not output.silent:
            click.echo(line, err=True)

    say(minimizing.start_line(loaded, flags.base_url, lang))
    result = run_async(
        minimizing.minimize(
            loaded.scenario,
            browser_options=browser,
            run_options=run,
            bundle_options=options.bundle,
            original=loaded.original,
            target=params["target"],
            runs=runs,
            budget=budget,
            timeout_given=flags.timeout_ms is not None,
            on_progress=lambda p: say(minimizing.progress_line(p, lang)),
            on_baseline=lambda shown, done, chosen: say(
                "\n".join(minimizing.baseline_lines(shown, done, chosen, lang))
            ),
        )
    )
    steps_file = None
    if params["steps_file"] and result.scenario is not None:
        steps_file = minimizing.write_steps_file(result, params["steps_file"])
    if output.as_json:
        click.echo(json.dumps(minimizing.summary_json(result, source, steps_file), indent=2))
    else:
        if not output.quiet:
            for line in minimizing.result_lines(result, lang):
                click.echo(line, err=True)
            if result.bundle is not None:
                click.echo(minimizing.say(lang, "min_bundle", path=result.bundle), err=True)
        last = steps_file or (str(result.bundle.resolve()) if result.bundle else None)
        if last:
            click.echo(last)
        elif output.quiet:
            click.echo(minimizing.result_lines(result, lang)[0])
    if result.interrupt is not None:
        click.echo(result.interrupt.message, err=True)
        sys.exit(result.interrupt.exit_code)
    sys.exit(0 if minimizing.verdict_of_result(result) == "reproduced" else 1)


def _named_secrets(params: dict[str, Any]) -> dict[str, str]:
    from collector.agent_secrets import named_secrets

    return named_secrets(params["secret_names"], params["secrets_files"], os.environ)


@cli.command(epilog=examples("record"))
@click.argument("url", required=False, metavar="[URL]")
@click.option(
    "-o",
    "--output",
    "steps_file",
    metavar="FILE",
    help="Write the recorded steps here (default: steps-<REF>.yaml in this folder).",
)
@bundle_write_options
@click.option(
    "--storage-state", metavar="FILE", help="Start logged in: a Playwright storage state JSON."
)
@click.option("--expected", metavar="TEXT", help="What you expected (else asked at the end).")
@click.option("--actual", metavar="TEXT", help="What went wrong (else asked at the end).")
@click.option(
    "--secret",
    "secret_names",
    multiple=True,
    metavar="NAME",
    help="An environment variable whose value, when typed, is written as ${NAME}.",
)
@click.option(
    "--verify", is_flag=True, help="Replay the recorded steps headless once: same errors?"
)
@click.option("--debug-port", type=click.IntRange(1, 65_535), hidden=True)
@click.option("--browser-path", metavar="PATH", help="Chromium executable to launch.")
@timing_options
@output_options("the bundle path")
def record(url: str | None, **params: Any) -> None:
    """Open a browser window, record what you do on the site, write the steps and a bundle."""
    from collector.record import check_display

    check_display()  # before anything else: no desktop, no window (exit 3)
    _record(url, params)


def _record(url: str | None, params: dict[str, Any]) -> None:
    import shutil
    from pathlib import Path

    from collector.config import load_config
    from collector.errors import EXIT_FAILED, EXIT_OK
    from collector.labels import LABELS
    from collector.options import resolve_options
    from collector.output import StepPrinter, print_summary, summary_json
    from collector.record import STOP_SHORTCUT, RecordOptions, record, verify, write_recording
    from collector.text import printable

    flags, output = _flags(params), _output(params)
    secrets: dict[str, str] = {}
    for name in params["secret_names"]:
        if name not in os.environ:
            raise BadInput(f"--secret {name}: no such environment variable")
        secrets[name] = os.environ[name]
    options = resolve_options(flags, load_config())
    lang = options.bundle.lang
    t = LABELS[lang]
    step_printer = None if output.silent else StepPrinter(err=True, lang=lang)

    def printer(step: Any, total: int) -> None:
        # A field's first keystrokes are no value to show (nor part of a secret).
        if step_printer is not None:
            shown = step.model_copy(update={"value": None}) if step.action == "fill" else step
            step_printer(shown, total)

    state = params["storage_state"]
    if state and not os.path.isfile(state):
        raise BadInput(f"--storage-state {state}: no such file")
    record_options = RecordOptions(
        url=url,
        storage_state=Path(state) if state else None,
        browser_path=params["browser_path"],
        secrets=secrets,
        debug_port=params["debug_port"],
    )

    def ready() -> None:
        if not output.silent:
            click.echo(t["record_started"].format(shortcut=STOP_SHORTCUT), err=True)

    recorded = run_async(
        record(record_options, options.run, options.bundle, on_step=printer, on_ready=ready)
    )
    steps = len(recorded.recorder.steps)
    if not output.silent:
        click.echo(t["record_stopped"].format(how=recorded.how_stopped, steps=steps), err=True)
    actual, expected = params["actual"], params["expected"]
    asking = not output.silent and sys.stdin.isatty()
    if actual is None and asking:
        actual = click.prompt(t["record_ask_actual"], default="", show_default=False, err=True)
    if expected is None and asking:
        expected = click.prompt(t["record_ask_expected"], default="", show_default=False, err=True)
    done = write_recording(recorded, options.bundle, actual=actual, expected=expected)
    # The steps file is the bundle's scenario.yaml: written once, redacted once.
    steps_file = Path(params["steps_file"] or f"steps-{done.reference}.yaml")
    try:
        shutil.copyfile(done.bundle / "scenario.yaml", steps_file)
    except OSError as exc:
        raise BadInput(f"-o {steps_file}: cannot write: {exc.strerror or exc}") from None
    verified: bool | None = None
    replayed: list[str] = []
    if params["verify"] and steps:
        import tempfile

        from collector.record import fingerprints_of

        if not output.silent:
            click.echo(t["record_verifying"], err=True)
        with tempfile.TemporaryDirectory(prefix="collector-verify-") as scratch:
            bundle = replace(options.bundle, out_dir=Path(scratch))
            check = run_async(
                verify(
                    done.result.scenario,
                    recorded.executable,
                    replace(options.run, scenario_dir=steps_file.resolve().parent),
                    bundle,
                    recorded.recorder.values,
                )
            )
        wanted, replayed = fingerprints_of(done), fingerprints_of(check)
        verified = wanted == replayed
        if not output.silent:
            if verified:
                click.echo(t["record_verified"].format(count=len(wanted)), err=True)
            else:
                click.echo(
                    t["record_not_verified"].format(
                        got=", ".join(replayed) or "-", want=", ".join(wanted) or "-"
                    ),
                    err=True,
                )
    if output.as_json:
        summary = summary_json(done)
        summary["steps_file"] = str(steps_file.resolve())
        if verified is not None:
            summary["verified"] = verified
            summary["replayed_fingerprints"] = replayed
        click.echo(json.dumps(summary, indent=2))
    else:
        if not output.silent:
            click.echo(printable(t["record_steps_file"].format(path=steps_file)), err=True)
            print_summary(done, err=True)
        zip_path = done.zip_path
        click.echo(str(zip_path if zip_path.exists() else done.bundle.resolve()))
    interrupt = done.result.interrupt
    if interrupt is not None:
        sys.exit(interrupt.exit_code)
    clean = done.result.outcome.status == "clean"
    sys.exit(EXIT_OK if clean and verified is not False else EXIT_FAILED)


def main() -> None:
    # Exit quietly when stdout is closed early (`collector schema scenario | head`).
    try:
        cli.main(prog_name="collector")
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)
    finally:
        # The interpreter's last collections walk every object a run made (pydantic's
        # and Playwright's included): 60-80 ms after the work is done. Nothing that
        # is left needs a cycle collected to finish: files are closed, threads joined.
        import gc

        gc.freeze()
