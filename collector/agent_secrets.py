"""The secrets an agent chooses to give a received bundle: ``--secret NAME``, ``--secrets-file``.

A bundle only asks for secrets by name; the values come from here, never from
whatever the agent's environment happens to hold.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from collector.errors import BadInput
from collector.text import one_line

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LINE = re.compile(r"(?:export\s+)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?P<value>.*)")
MAX_FILE_BYTES = 1_000_000


def named_secrets(
    names: Iterable[str], files: Iterable[str], environ: Mapping[str, str]
) -> dict[str, str]:
    """Values of the secrets named on the command line; files first, then the environment."""
    chosen: dict[str, str] = {}
    for file in files:
        chosen.update(read_secrets_file(Path(file)))
    for name in names:
        if not NAME.fullmatch(name):
            raise BadInput(f"--secret {one_line(name)}: not a variable name")
        if name not in environ:
            raise BadInput(f"--secret {name}: environment variable {name} is not set")
        chosen[name] = environ[name]
    return chosen


def read_secrets_file(path: Path) -> dict[str, str]:
    """``NAME=value`` lines (dotenv): ``#`` comments, ``export``, single or double quotes."""
    label = f"--secrets-file {one_line(path)}"
    try:
        data = path.read_bytes()[: MAX_FILE_BYTES + 1]
    except OSError as exc:
        raise BadInput(f"{label}: {exc.strerror}") from None
    if len(data) > MAX_FILE_BYTES:
        raise BadInput(f"{label}: larger than a secrets file ({MAX_FILE_BYTES:,} bytes)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadInput(f"{label}: not UTF-8 text") from None
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.fullmatch(line)
        if match is None:
            # Never echo the line: it may hold a value.
            raise BadInput(f"{label}:{number}: expected NAME=value")
        values[match.group("name")] = _unquote(match.group("value"), f"{label}:{number}")
    return values


def _unquote(value: str, where: str) -> str:
    if value[:1] in ("'", '"'):
        quote = value[0]
        end = value.find(quote, 1)
        if end < 0:
            raise BadInput(f"{where}: unclosed {quote}")
        rest = value[end + 1 :].strip()
        if rest and not rest.startswith("#"):
            raise BadInput(f"{where}: text after the closing {quote}")
        inner = value[1:end]
        return inner.replace("\\n", "\n") if quote == '"' else inner
    # Unquoted: a `#` after a space starts a comment, as in shells and dotenv.
    return re.split(r"\s+#", value, maxsplit=1)[0].strip()
