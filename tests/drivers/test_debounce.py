"""Debounce: repeated sightings of a card are one tap (pure, with a clock passed in)."""
from __future__ import annotations

import pytest

from drivers.debounce import Debouncer


def test_a_card_held_on_the_reader_is_one_tap_however_long_it_is_held():
    debouncer = Debouncer(window_s=1.0)
    sightings = [debouncer.is_new_tap("A", t / 10) for t in range(0, 50)]  # 5 s, every 0.1 s
    assert sightings.count(True) == 1 and sightings[0]


def test_the_same_card_after_a_gap_longer_than_the_window_is_a_new_tap():
    debouncer = Debouncer(window_s=1.0)
    assert debouncer.is_new_tap("A", 0.0)
    assert not debouncer.is_new_tap("A", 0.9)
    assert debouncer.is_new_tap("A", 2.0)


def test_a_different_card_within_the_window_is_its_own_tap():
    debouncer = Debouncer(window_s=1.0)
    assert debouncer.is_new_tap("A", 0.0)
    assert debouncer.is_new_tap("B", 0.1)
    assert not debouncer.is_new_tap("A", 0.2)


def test_a_negative_window_is_refused():
    with pytest.raises(ValueError, match=">= 0"):
        Debouncer(window_s=-1)
