"""Reference numbers: format, order by time, and no reuse of an existing one."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from collector.reference import new_reference

FORMAT = re.compile(r"^CR-\d{8}-[0-9A-HJKMNP-TV-Z]{6}$")


def test_format_and_date() -> None:
    ref = new_reference(datetime(2026, 11, 25, 13, 45, tzinfo=UTC))
    assert FORMAT.match(ref)
    assert ref.startswith("CR-20261125-")


def test_later_references_sort_after_earlier_ones() -> None:
    start = datetime(2026, 11, 25, 0, 0, 1, tzinfo=UTC)
    refs = [
        # The random part runs backwards: order must come from the time part alone.
        new_reference(start + timedelta(seconds=s), random_bits=lambda _n, s=s: 32767 - s % 5)
        for s in range(0, 86_000, 997)
    ]
    assert refs == sorted(refs)


def test_existing_references_are_not_reused() -> None:
    now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    draws = iter([5, 5, 6])
    taken = {new_reference(now, random_bits=lambda _n: 5)}
    ref = new_reference(now, random_bits=lambda _n: next(draws), exists=taken.__contains__)
    assert ref not in taken and FORMAT.match(ref)


def test_random_part_differs_between_calls() -> None:
    now = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
    assert len({new_reference(now) for _ in range(50)}) > 45
