"""Read a bundle that someone else wrote: a folder or its zip, as hostile input.

Every command that opens a received bundle (ticket, replay) goes through
``open_bundle``. It reads only regular files that sit inside the bundle (no
links, no ``..``, no absolute names), in memory, within size, count and depth
limits, and it checks the report's ``reference`` against the reference format
before that name is used for any file. Nothing is ever extracted.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, cast

from collector.errors import BundleError
from collector.text import one_line

if TYPE_CHECKING:
    from collector.report import Report

MAX_ENTRIES = 500
MAX_TOTAL_BYTES = 100_000_000
MAX_MEMBER_BYTES = 20_000_000
MAX_ZIP_BYTES = 100_000_000
MAX_RATIO = 200
MAX_JSON_DEPTH = 32
SCREENSHOT_NAME = re.compile(r"screenshots/[A-Za-z0-9][A-Za-z0-9._-]{0,100}\.png")
REFERENCE_FORMAT = re.compile(r"CR-[0-9]{8}-[0-9A-Z]{6}")


@dataclass
class ReceivedBundle:
    """What the bundle holds that a command may use: its report, its steps, its zip."""

    label: str
    path: Path
    report: Report
    scenario_text: str | None
    is_zip: bool

    @property
    def zip_name(self) -> str:
        return f"{self.report.reference}.zip"

    def screenshots(self) -> dict[str, bytes]:
        """The pictures the report's steps name (``screenshots/NAME.png``), read as plainly
        as report.json: no links, no other folder, within the limits. A name of any other
        shape, or a picture that is not there, is left out."""
        names = sorted(
            {
                s.screenshot
                for s in self.report.steps
                if s.screenshot and SCREENSHOT_NAME.fullmatch(s.screenshot)
            }
        )
        if not names:
            return {}
        if self.is_zip:
            return _zip_members(self.path, self.label, names)
        try:
            folder = os.lstat(self.path / "screenshots")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise BundleError(f"{self.label}: screenshots: {exc.strerror}") from None
        if not stat.S_ISDIR(folder.st_mode):  # a link would lead elsewhere: refused
            raise BundleError(f"{self.label}: screenshots is not a plain folder")
        found: dict[str, bytes] = {}
        for name in names:
            member = self.path / name
            if not os.path.lexists(member):
                continue
            found[name] = _read_regular(member, f"{self.label}: {name}", MAX_MEMBER_BYTES)
        return found

    def attachment(self) -> bytes | None:
        """The bundle's zip, to attach to a message: the file received, or ``<REF>.zip``."""
        if self.is_zip:
            return _read_regular(self.path, self.label, MAX_ZIP_BYTES)
        zip_path = self.path / self.zip_name
        if not os.path.lexists(zip_path):  # a folder written without its zip
            return None
        return _read_regular(zip_path, f"{self.label}: {self.zip_name}", MAX_ZIP_BYTES)


def open_bundle(path: Path, *, need_scenario: bool = False, plain: bool = False) -> ReceivedBundle:
    """Read a bundle folder (or its report.json, or its zip); BundleError when unusable.
    ``plain``: see ``parse_report``."""
    label = one_line(path)
    try:
        info = os.stat(path)
    except OSError:
        raise BundleError(f"{label}: no such file or folder") from None
    if stat.S_ISDIR(info.st_mode):
        folder, is_zip = path, False
        texts = _read_folder(folder, label, need_scenario)
    elif stat.S_ISREG(info.st_mode) and path.name == "report.json":
        folder, is_zip = path.parent, False
        texts = _read_folder(folder, label, need_scenario)
    elif stat.S_ISREG(info.st_mode) and _looks_like_zip(path):
        folder, is_zip = path, True
        texts = _read_zip(path, label, need_scenario)
    else:
        raise BundleError(f"{label}: not a bundle (expected a bundle folder or its .zip)")
    report = parse_report(texts["report.json"] or "", label, plain=plain)
    return ReceivedBundle(label, folder, report, texts.get("scenario.yaml"), is_zip)


def parse_report(text: str, label: str, *, plain: bool = False) -> Report:
    """A report from JSON text, refusing deep nesting and other schemas.

    ``plain``: validated by pydantic-core with the shipped schema of the models
    (collector.coreschema), the same checks without importing pydantic, into objects
    that hold the same fields and nothing else (no model methods): for a reader of
    fields, the ticket, which then starts faster. Another pydantic-core: the models.
    """
    from pydantic_core import ValidationError

    from collector.kinds import SCHEMA_ID

    data = parse_json(text, f"{label}: report.json")
    if not isinstance(data, dict):
        raise BundleError(f"{label}: report.json is not a report (expected a JSON object)")
    if data.get("schema") != SCHEMA_ID:
        raise BundleError(
            f"{label}: report.json has schema {one_line(repr(data.get('schema')))[:80]}; "
            f"this collector reads {SCHEMA_ID}"
        )
    reference = data.get("reference")
    if not isinstance(reference, str) or not REFERENCE_FORMAT.fullmatch(reference):
        raise BundleError(
            f"{label}: report.json: reference {one_line(repr(reference))[:80]} is not a "
            "reference number (CR-YYYYMMDD-XXXXXX)"
        )
    data.pop("redactions", None)
    shipped = None
    if plain:
        from collector.coreschema import shipped as shipped_schema

        shipped = shipped_schema("report")
    try:
        if shipped is not None:
            # Typed as the model it stands for: its fields are the model's, and the
            # ticket reads fields only (test_ticket renders both and compares).
            return cast("Report", shipped.validator.validate_python(data))
        from collector.report import Report

        return Report.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in err["loc"])
        raise BundleError(f"{label}: report.json: {one_line(where)}: {err['msg']}") from None


def parse_json(text: str, label: str, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads`` that answers deep nesting with a BundleError, in bounded time."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise BundleError(f"{label} is nested deeper than {max_depth} levels") from None
    except ValueError as exc:  # also numbers of more digits than Python converts
        raise BundleError(f"{label} is not valid JSON: {one_line(exc)[:200]}") from None
    # Nesting the decoder accepted may still be too deep for what reads it later.
    level: list[Any] = [data]
    for _depth in range(max_depth + 1):
        children: list[Any] = []
        for value in level:
            if isinstance(value, dict):
                children.extend(v for v in value.values() if isinstance(v, dict | list))
            elif isinstance(value, list):
                children.extend(v for v in value if isinstance(v, dict | list))
        if not children:
            return data
        level = children
    raise BundleError(f"{label} is nested deeper than {max_depth} levels")


# -- folders -------------------------------------------------------------------


def _read_folder(folder: Path, label: str, need_scenario: bool) -> dict[str, str | None]:
    texts: dict[str, str | None] = {}
    for name in ("report.json", "scenario.yaml"):
        member = folder / name
        try:
            os.lstat(member)
        except FileNotFoundError:
            if name == "report.json":
                raise BundleError(f"{label}: not a bundle (no report.json)") from None
            if need_scenario:
                raise BundleError(f"{label}: scenario.yaml is missing") from None
            texts[name] = None
            continue
        except OSError as exc:
            raise BundleError(f"{label}: {name}: {exc.strerror}") from None
        texts[name] = _decode(
            _read_regular(member, f"{label}: {name}", MAX_MEMBER_BYTES), label, name
        )
    return texts


def _read_regular(path: Path, label: str, limit: int) -> bytes:
    """The bytes of a plain file, refusing links, devices and anything over ``limit``."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise BundleError(f"{label} is a link; bundles hold plain files") from None
        raise BundleError(f"{label}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise BundleError(f"{label} is not a plain file")
        if info.st_nlink > 1:
            # A hard link can point anywhere on this file system (/etc/shadow).
            raise BundleError(f"{label} is a hard link; bundles hold plain files")
        if info.st_size > limit:
            raise BundleError(f"{label} is too large ({info.st_size:,} bytes; at most {limit:,})")
        with os.fdopen(fd, "rb", closefd=False) as stream:
            data = stream.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise BundleError(f"{label} is too large (at most {limit:,} bytes)")
    return data


def _decode(data: bytes, label: str, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise BundleError(f"{label}: {name} is not UTF-8 text") from None


# -- zips ----------------------------------------------------------------------


def _looks_like_zip(path: Path) -> bool:
    try:
        return zipfile.is_zipfile(path)
    except OSError:
        return False


def _read_zip(path: Path, label: str, need_scenario: bool) -> dict[str, str | None]:
    try:
        if os.stat(path).st_size > MAX_ZIP_BYTES:
            raise BundleError(f"{label}: larger than any bundle ({MAX_ZIP_BYTES:,} bytes)")
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            check_members(infos, label)
            wanted: dict[str, zipfile.ZipInfo] = {}
            for info in infos:
                entry = PurePosixPath(info.filename)
                if len(entry.parts) <= 2 and entry.name in ("report.json", "scenario.yaml"):
                    wanted.setdefault(entry.name, info)
            if "report.json" not in wanted:
                raise BundleError(f"{label}: report.json is missing from the zip")
            if need_scenario and "scenario.yaml" not in wanted:
                raise BundleError(f"{label}: scenario.yaml is missing from the zip")
            texts: dict[str, str | None] = {"scenario.yaml": None}
            for name, info in wanted.items():
                with zf.open(info) as member:
                    data = member.read(MAX_MEMBER_BYTES + 1)
                if len(data) > MAX_MEMBER_BYTES:
                    raise BundleError(f"{label}: {name} is too large")
                texts[name] = _decode(data, label, name)
            return texts
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, RuntimeError, EOFError) as exc:
        raise BundleError(f"{label}: unreadable zip: {one_line(exc)}") from None
    except NotImplementedError as exc:  # unsupported compression or encryption
        raise BundleError(f"{label}: unsupported zip: {one_line(exc)}") from None


def _zip_members(path: Path, label: str, names: list[str]) -> dict[str, bytes]:
    """``names`` (paths within the bundle) read from its zip (already checked by
    ``open_bundle``), at the top or under one folder as collector writes them."""
    try:
        with zipfile.ZipFile(path) as zf:
            found: dict[str, bytes] = {}
            for info in zf.infolist():
                parts = PurePosixPath(info.filename).parts
                inside = "/".join(parts[1:] if len(parts) == 3 else parts)
                if inside not in names or inside in found or info.is_dir():
                    continue
                with zf.open(info) as member:
                    data = member.read(MAX_MEMBER_BYTES + 1)
                if len(data) > MAX_MEMBER_BYTES:
                    raise BundleError(f"{label}: {inside} is too large")
                found[inside] = data
            return found
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, RuntimeError, EOFError) as exc:
        raise BundleError(f"{label}: unreadable zip: {one_line(exc)}") from None
    except NotImplementedError as exc:
        raise BundleError(f"{label}: unsupported zip: {one_line(exc)}") from None


def check_members(infos: list[zipfile.ZipInfo], label: str) -> None:
    """Refuse path traversal, absolute paths, links, too many entries and zip bombs."""
    if len(infos) > MAX_ENTRIES:
        raise BundleError(f"{label}: {len(infos)} entries, more than a bundle has ({MAX_ENTRIES})")
    total = 0
    for info in infos:
        name = info.filename
        shown = one_line(repr(name))[:120]
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in parts:
            raise BundleError(f"{label}: unsafe entry {shown} (absolute or outside the bundle)")
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise BundleError(f"{label}: entry {shown} is a link; bundles hold plain files")
        if info.flag_bits & 0x1:
            raise BundleError(f"{label}: entry {shown} is encrypted")
        total += info.file_size
        if info.file_size > MAX_MEMBER_BYTES or total > MAX_TOTAL_BYTES:
            raise BundleError(
                f"{label}: uncompressed size beyond any bundle ({total:,} bytes): zip bomb?"
            )
        if (
            info.compress_size
            and info.file_size / info.compress_size > MAX_RATIO
            and (info.file_size > 1_000_000)
        ):
            raise BundleError(f"{label}: entry {shown} compresses {MAX_RATIO}:1+: zip bomb?")
