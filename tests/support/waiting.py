"""Waiting on a condition with a deadline, for tests that drive threads."""
from __future__ import annotations

import time


def wait_past(moment: float, seconds: float) -> None:
    """Block until the monotonic clock is more than ``seconds`` past ``moment``.

    For a debounce or cooldown the code measures on time.monotonic: the condition is the clock
    itself, re-checked after each wait, so a late wake-up only makes the wait longer.
    """
    while (left := moment + seconds - time.monotonic()) >= 0:
        time.sleep(left + 0.001)
