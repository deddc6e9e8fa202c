"""Capped exponential backoff: the one retry schedule of the kiosk, for a reader reconnecting and for the
sync worker reaching the cloud.

delay(n) = min(cap, initial * factor ** (n - 1)) after n consecutive failures. With full jitter (AWS
architecture blog, "Exponential Backoff And Jitter") the delay is drawn uniformly from 0 to that: a whole
chain's kiosks then spread apart after a cloud outage instead of retrying in lockstep. A reader retries
alone, so it needs none.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    initial_s: float = 0.1
    cap_s: float = 5.0
    factor: float = 2.0
    jitter: bool = False
    retry_after_cap_s: float = 3600.0  # a server's Retry-After is obeyed up to this, never for days
    _failures: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.initial_s <= 0 or self.factor < 1 or self.cap_s < self.initial_s:
            raise ValueError("backoff needs initial_s > 0, factor >= 1 and cap_s >= initial_s")

    def delay(self, failures: int, rng: random.Random | None = None, retry_after: float | None = None) -> float:
        """Seconds to wait after `failures` consecutive failures (>= 1); pure, given `rng` for the jitter."""
        ceiling = min(self.cap_s, self.initial_s * self.factor ** min(max(failures - 1, 0), 64))
        if self.jitter:
            if rng is None:
                raise ValueError("a jittered backoff needs the random generator it draws from")
            ceiling = rng.uniform(0, ceiling)
        if retry_after is not None:
            return max(ceiling, min(retry_after, self.retry_after_cap_s))
        return ceiling

    def next_delay(self) -> float:
        """The stateful face the readers use: one failure more per call, counted until reset()."""
        self._failures += 1
        return self.delay(self._failures)

    def reset(self) -> None:
        """A recovered connection starts over at initial_s."""
        self._failures = 0
