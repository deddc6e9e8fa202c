"""Counting which branch each property-test example took, so a property cannot pass by accident.

A property like "any text is a read or a refusal, and a read looks like X" passes
vacuously when the strategy never produces a read. A test records the branch of
every example with ``Branches.took`` (also a hypothesis ``event``, so
``--hypothesis-show-statistics`` shows the split) and, after the examples have
run, ``Branches.require`` fails it when a branch it is meant to exercise got fewer
than its share of the examples.

Usage::

    branches = Branches()

    @settings(max_examples=300, deadline=None)
    @given(scans)
    def example(text):
        ...
        branches.took("read")

    example()
    branches.require(read=0.2, refused=0.2)

The shares asked for are set well below what the strategy gives (a third of the
examples where a quarter is required) so the check never fails by chance; it
fails when a change to the strategy or the code moves a branch out of reach.
"""
from __future__ import annotations

from collections import Counter

from hypothesis import currently_in_test_context, event


class BranchShareTooLow(AssertionError):
    """A property test's examples reached a branch it must exercise too rarely."""


class Branches:
    """The branches one property test's examples took, one record per example."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()

    def took(self, branch: str) -> None:
        """Record that the current example ended in ``branch``."""
        self._counts[branch] += 1
        if currently_in_test_context():  # hypothesis records events only while an example runs
            event(branch)

    @property
    def total(self) -> int:
        return sum(self._counts.values())

    def share(self, branch: str) -> float:
        return self._counts[branch] / self.total if self.total else 0.0

    def require(self, **min_shares: float) -> None:
        """Fail unless each named branch took at least its share (0..1] of the examples."""
        if not min_shares:
            raise ValueError("name at least one branch and the share of examples it must reach")
        for branch, minimum in min_shares.items():
            if not 0 < minimum <= 1:
                raise ValueError(f"the share for {branch!r} is a fraction in (0, 1], got {minimum!r}")
        if self.total == 0:
            raise BranchShareTooLow("no example was recorded: call took() in every example")
        short = {
            branch: self.share(branch) for branch, minimum in min_shares.items() if self.share(branch) < minimum
        }
        if short:
            wanted = ", ".join(f"{b} >= {min_shares[b]:.0%} (got {s:.1%})" for b, s in short.items())
            raise BranchShareTooLow(f"of {self.total} examples: {wanted}; seen {dict(self._counts)}")

    def __repr__(self) -> str:
        return f"Branches({dict(self._counts)})"
