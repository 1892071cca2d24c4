"""Reference numbers: ``CR-YYYYMMDD-XXXXXX``, sortable by time and unique across machines.

The six characters are Crockford base32: three encode the time of day (a
2.6-second tick, so references sort by creation time) and three are random
(32,768 values per tick), so two machines reporting in the same tick collide
with a chance of 1 in 32,768; `new_reference` also retries against what
already exists locally.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford: no I, L, O, U
TICKS_PER_DAY = 32**3


def new_reference(
    now: datetime | None = None,
    *,
    random_bits: Callable[[int], int] = secrets.randbits,
    exists: Callable[[str], bool] = lambda _ref: False,
) -> str:
    """A fresh reference for ``now`` (UTC), avoiding any for which ``exists`` is true."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    seconds = (now - midnight).total_seconds()
    tick = min(int(seconds * TICKS_PER_DAY / 86_400), TICKS_PER_DAY - 1)
    for _ in range(100):
        ref = f"CR-{now:%Y%m%d}-{_encode(tick, 3)}{_encode(random_bits(15), 3)}"
        if not exists(ref):
            return ref
    raise RuntimeError("could not find a free reference number")


def _encode(value: int, width: int) -> str:
    chars = []
    for _ in range(width):
        value, digit = divmod(value, 32)
        chars.append(ALPHABET[digit])
    return "".join(reversed(chars))
