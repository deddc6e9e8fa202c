"""The one retry schedule: a reader's reconnects (plain doubling) and the sync worker's (full jitter)."""
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.backoff import Backoff
from tests.support.branches import Branches


def test_backoff_doubles_up_to_its_cap_and_starts_over_after_reset():
    backoff = Backoff(initial_s=0.1, factor=2, cap_s=0.5)
    assert [backoff.next_delay() for _ in range(5)] == pytest.approx([0.1, 0.2, 0.4, 0.5, 0.5])
    backoff.reset()
    assert backoff.next_delay() == pytest.approx(0.1)


def test_a_jittered_delay_is_drawn_between_zero_and_the_capped_doubling():
    branches = Branches()

    # 2 ** 8 = 256 s is the last doubling below the 300 s cap: a run of up to 12 failures reaches both sides.
    @settings(max_examples=200)
    @given(st.integers(min_value=1, max_value=12) | st.integers(min_value=1, max_value=200),
           st.integers(min_value=0, max_value=2**32))
    def example(failures, seed):
        backoff = Backoff(initial_s=1.0, cap_s=300.0, jitter=True)
        ceiling = Backoff(initial_s=1.0, cap_s=300.0).delay(failures)
        assert ceiling == min(300.0, 2.0 ** (failures - 1))
        assert 0 <= backoff.delay(failures, random.Random(seed)) <= ceiling
        branches.took("capped" if 2.0 ** (failures - 1) >= 300.0 else "doubling")

    example()
    branches.require(capped=0.25, doubling=0.25)


def test_jitter_spreads_kiosks_that_failed_together_over_the_whole_window():
    backoff = Backoff(initial_s=1.0, cap_s=300.0, jitter=True)
    rng = random.Random(7)
    delays = [backoff.delay(20, rng) for _ in range(1000)]  # 1,000 kiosks after a long outage
    assert max(delays) <= 300 and min(delays) < 30 and max(delays) > 270
    assert 120 < sum(delays) / len(delays) < 180  # about half the cap on average, not all at the cap


def test_a_servers_retry_after_is_obeyed_but_never_for_longer_than_its_cap():
    backoff = Backoff(initial_s=1.0, cap_s=300.0, jitter=True, retry_after_cap_s=3600.0)
    rng = random.Random(1)
    assert backoff.delay(1, rng, retry_after=120) == 120  # never sooner than the server asked
    assert backoff.delay(1, rng, retry_after=10**9) == 3600  # nor parked for days
    assert Backoff(initial_s=5.0, cap_s=5.0).delay(3, retry_after=1) == 5  # a longer own wait stands


def test_a_jittered_backoff_without_its_random_generator_is_a_caller_bug():
    with pytest.raises(ValueError, match="random generator"):
        Backoff(jitter=True).delay(1)


@pytest.mark.parametrize("kwargs", [{"initial_s": 0}, {"factor": 0.5}, {"initial_s": 2, "cap_s": 1}])
def test_a_backoff_that_would_not_back_off_is_refused(kwargs):
    with pytest.raises(ValueError, match="backoff needs"):
        Backoff(**kwargs)
