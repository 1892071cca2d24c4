"""Delta debugging (Zeller's ddmin) over a recording's steps, with no browser in sight.

The search is a generator: it yields a candidate (the indices of the steps to run,
in their recorded order) and is sent back whether that candidate reproduced the
bug. Whoever drives it decides what "reproduced" means (one run, k of N runs) and
when to stop (a budget, Ctrl-C); ``Minimizer.best`` is always the smallest
candidate seen to reproduce, so stopping early still leaves a usable answer.

What it knows about steps (``keep``, ``light``):
- ``keep``: steps every candidate runs (the first navigation: a run starts there);
- ``light``: waits, expectations and screenshots, tried away all at once first,
  as they rarely cause a bug and removing them makes every later run shorter.

The order of the search: the kept steps alone; without the light steps; then
ddmin (subsets, then complements, doubling the granularity); then one-step
removals until no single step can go (1-minimal). A candidate is never run twice:
verdicts are remembered, so the last pass usually costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Sequence

Candidate = tuple[int, ...]
Search = Generator[Candidate, bool, Candidate]


def ddmin_bound(changeable: int) -> int:
    """Zeller's worst case for ddmin on ``changeable`` items: (n² + 7n) / 2 tests."""
    return (changeable * changeable + 7 * changeable) // 2


class Minimizer:
    """A 1-minimal subsequence of ``range(size)`` that still reproduces.

    ``tests`` counts the distinct candidates asked about; ``bound`` is what the
    search promises never to exceed.
    """

    def __init__(self, size: int, *, keep: Iterable[int] = (), light: Iterable[int] = ()) -> None:
        if size < 1:
            raise ValueError("nothing to minimize: no steps")
        self.size = size
        self.keep = frozenset(i for i in keep if 0 <= i < size)
        self.light = frozenset(i for i in light if 0 <= i < size) - self.keep
        self.best: Candidate = tuple(range(size))
        # The whole recording is what was seen to reproduce before the search starts.
        self.known: dict[Candidate, bool] = {self.best: True}
        self.tests = 0

    @property
    def changeable(self) -> int:
        return self.size - len(self.keep)

    @property
    def bound(self) -> int:
        """Tests the search may ask for at most: the kept steps alone, the light steps
        away, then ddmin's worst case (the 1-minimal pass re-asks nothing ddmin asked)."""
        return 1 + (1 if self.light else 0) + ddmin_bound(self.changeable)

    def search(self) -> Search:
        """Yield candidates, receive verdicts; return the 1-minimal result."""
        if not self.changeable:
            return self.best
        if (yield from self._test(())):
            return self.best
        rest = [i for i in range(self.size) if i not in self.keep]
        if self.light and len(self.light) < len(rest):
            heavy = [i for i in rest if i not in self.light]
            if (yield from self._test(heavy)):
                rest = heavy
        rest = yield from self._ddmin(rest)
        rest = yield from self._one_step_removals(rest)
        return self._with_kept(rest)

    def _with_kept(self, part: Iterable[int]) -> Candidate:
        return tuple(sorted(self.keep.union(part)))

    def _test(self, part: Iterable[int]) -> Generator[Candidate, bool, bool]:
        candidate = self._with_kept(part)
        if candidate in self.known:
            return self.known[candidate]
        verdict = yield candidate
        verdict = bool(verdict)
        self.known[candidate] = verdict
        self.tests += 1
        if verdict and len(candidate) < len(self.best):
            self.best = candidate
        return verdict

    def _ddmin(self, items: list[int]) -> Generator[Candidate, bool, list[int]]:
        granularity = 2
        while len(items) >= 2:
            parts = split(items, granularity)
            reduced = False
            for part in parts:
                if (yield from self._test(part)):
                    items, granularity, reduced = part, 2, True
                    break
            if not reduced and granularity > 2:
                # With two parts each complement is the other part: already asked.
                for part in parts:
                    taken = set(part)
                    complement = [i for i in items if i not in taken]
                    if (yield from self._test(complement)):
                        items, granularity = complement, max(granularity - 1, 2)
                        reduced = True
                        break
            if not reduced:
                if granularity >= len(items):
                    break
                granularity = min(granularity * 2, len(items))
        return items

    def _one_step_removals(self, items: list[int]) -> Generator[Candidate, bool, list[int]]:
        changed = True
        while changed and items:
            changed = False
            for index in list(items):
                smaller = [i for i in items if i != index]
                if (yield from self._test(smaller)):
                    items, changed = smaller, True
                    break
        return items


def split(items: Sequence[int], parts: int) -> list[list[int]]:
    """``items`` in ``parts`` consecutive pieces whose sizes differ by one at most."""
    parts = max(1, min(parts, len(items)))
    size, extra = divmod(len(items), parts)
    pieces, start = [], 0
    for number in range(parts):
        end = start + size + (1 if number < extra else 0)
        pieces.append(list(items[start:end]))
        start = end
    return pieces


def run_search(minimizer: Minimizer, reproduces: Callable[[Candidate], bool]) -> Candidate:
    """Drive ``minimizer.search()`` with a plain function (tests, sync callers)."""
    search = minimizer.search()
    try:
        candidate = next(search)
        while True:
            candidate = search.send(reproduces(candidate))
    except StopIteration as done:
        result: Candidate = done.value
        return result
