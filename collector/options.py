"""One meaning per option: flags + config -> the options of a run and of its bundle.

Every front door (repro, demo, check, replay, the pytest plugin) turns what it
was told into ``Flags`` and gets its ``Options`` from ``resolve_options``, so
the linger default, the attachment budget, the language, the reason and the
templates mean the same wherever a bundle is written. A flag left unset
(None) leaves the decision to the config, then to the default.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from collector.errors import BadInput
from collector.rules import FailOn, PatternError, compile_pattern

if TYPE_CHECKING:
    from collector.bundle import BundleOptions
    from collector.config import Config
    from collector.config_file import DeskSettings
    from collector.runner import RunOptions


@dataclass(frozen=True)
class Flags:
    """What one front door was told; None: not said, the config or the default decides."""

    out_dir: str | None = None
    base_url: str | None = None
    timeout_ms: int | None = None
    linger_s: float | None = None
    trace: bool = False
    har: bool = False
    # One name with config's max_attachment_bytes; takes a size like 2MB as the config does.
    max_attachment_bytes: str | None = None
    lang: str | None = None
    reason: str | None = None
    template_dir: str | None = None
    fail_on: FailOn | None = None
    ignore: tuple[str, ...] = ()
    max_run_time_s: float | None = None
    # The name users typed the ignore patterns under, for the error that names a bad one.
    ignore_option: str = "--ignore"
    source_maps_dir: str | None = None

    def __post_init__(self) -> None:
        for pattern in self.ignore:
            try:
                compile_pattern(pattern)
            except PatternError as exc:
                raise BadInput(f"{self.ignore_option}: {exc}") from None


@dataclass(frozen=True)
class Options:
    """How to run and how to write the bundle, decided once."""

    run: RunOptions
    bundle: BundleOptions


def resolve_options(flags: Flags, config: Config) -> Options:
    """The options ``flags`` ask for under ``config``.

    Where the run writes (``work_dir``), its environment and which pictures it
    takes are the front door's own business: it sets them on ``Options.run``.
    """
    from collector.bundle import BundleOptions
    from collector.capture.maps import MapLimits
    from collector.runner import DEFAULT_LINGER_S, RunOptions
    from collector.sizes import parse_size

    run = RunOptions(
        base_url=flags.base_url,
        timeout_ms=flags.timeout_ms,
        linger_s=DEFAULT_LINGER_S if flags.linger_s is None else flags.linger_s,
        trace=flags.trace,
        har=flags.har,
        rules=config.rules().with_overrides(fail_on=flags.fail_on, ignore=flags.ignore),
        source_maps_dir=source_maps_dir(flags, config),
        map_limits=MapLimits(
            timeout_s=config.source_map_timeout, finish_s=config.source_map_timeout
        ),
    )
    check_reason(flags.reason, config)
    budget = (
        parse_size(flags.max_attachment_bytes)
        if flags.max_attachment_bytes
        else config.attachment_budget()
    )
    bundle = BundleOptions(
        out_dir=Path(flags.out_dir or config.reports_dir),
        max_attachment_bytes=budget,
        lang=flags.lang or config.lang,
        reason=flags.reason,
        template_dir=flags.template_dir,
        redact_patterns=tuple(config.redact),
        support_address=config.support_address,
        support_url=config.support_url,
    )
    return Options(run, bundle)


def source_maps_dir(flags: Flags, config: Config) -> Path | None:
    """``--source-maps DIR``, else config ``source_maps`` (relative to the config file)."""
    if flags.source_maps_dir:
        where, folder = "--source-maps", Path(flags.source_maps_dir)
    elif config.source_maps:
        where, folder = "source_maps", Path(config.source_maps)
        if config.source and not folder.is_absolute():
            folder = Path(config.source).parent / folder
    else:
        return None
    if not folder.is_dir():
        raise BadInput(f"{where} {folder}: not a folder")
    return folder


def check_reason(reason: str | None, config: Config | DeskSettings) -> None:
    """A ``--reason`` must be one of the support desk's reasons (config ``reasons``)."""
    if reason is not None and config.reasons and reason not in config.reasons:
        where = f" in {config.source}" if config.source else " (the default list)"
        raise BadInput(
            f"--reason {reason!r}: not one of the reasons configured{where}: "
            + ", ".join(config.reasons)
        )
