"""Human sizes for options like ``--max-attachment-bytes 2MB``."""

from __future__ import annotations

import re

from collector.errors import BadInput

UNITS = {
    "": 1, "b": 1,
    "kb": 1000, "mb": 1000**2, "gb": 1000**3,
    "kib": 1024, "mib": 1024**2, "gib": 1024**3,
    "k": 1000, "m": 1000**2,
}  # fmt: skip
SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_size(text: str) -> int:
    """``2MB`` -> 2_000_000, ``1.5MiB`` -> 1_572_864, ``500000`` -> 500_000."""
    match = SIZE.match(text)
    unit = match.group(2).lower() if match else None
    if match is None or unit not in UNITS:
        raise BadInput(f"not a size: {text!r} (examples: 2MB, 500kB, 1.5MiB, 2000000)")
    value = int(float(match.group(1)) * UNITS[unit])
    if value < 10_000:
        raise BadInput(f"size {text!r} is too small for an attachment (minimum 10kB)")
    return value
