"""The branch-share check the property tests rely on (tests/support/branches.py)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from tests.support.branches import Branches, BranchShareTooLow


def test_a_branch_reached_by_fewer_than_its_share_of_examples_fails_naming_the_split():
    branches = Branches()

    @settings(max_examples=50, deadline=None)
    @given(st.integers(0, 1000))
    def example(number):
        branches.took("small" if number < 0 else "any")  # "small" is out of reach

    example()
    with pytest.raises(BranchShareTooLow, match=r"small >= 10% \(got 0.0%\)"):
        branches.require(small=0.1, any=0.5)
    branches.require(any=0.99)


def test_shares_are_counted_per_recorded_example():
    branches = Branches()
    for name in ["a", "a", "a", "b"]:
        branches.took(name)
    assert (branches.total, branches.share("a"), branches.share("b"), branches.share("c")) == (4, 0.75, 0.25, 0.0)
    branches.require(a=0.75, b=0.25)


@pytest.mark.parametrize("shares, message", [({}, "name at least one branch"), ({"a": 0}, "fraction"),
                                             ({"a": 1.5}, "fraction")])
def test_a_check_that_could_not_fail_is_refused(shares, message):
    with pytest.raises(ValueError, match=message):
        Branches().require(**shares)


def test_a_check_with_no_examples_recorded_fails():
    with pytest.raises(BranchShareTooLow, match="no example was recorded"):
        Branches().require(a=0.1)
