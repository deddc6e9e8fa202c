"""Pure retry policy of the sync worker: backoff with full jitter, and the link state."""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass


class LinkState(str, enum.Enum):
    """What the screen and staff see about the cloud link."""

    ONLINE = "online"      # the last exchange with the cloud succeeded
    DEGRADED = "degraded"  # the cloud answers but refuses or fails (5xx, clock, key), or a first miss
    OFFLINE = "offline"    # the cloud cannot be reached at all, repeatedly


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff
    And Jitter"): delay = uniform(0, min(cap, base * 2**failures)). Full jitter spreads
    a whole chain's kiosks apart after a cloud outage instead of retrying in lockstep.
    """

    base: float = 1.0
    cap: float = 300.0
    retry_after_cap: float = 3600.0

    def delay(self, failures: int, rng: random.Random, retry_after: float | None = None) -> float:
        """Seconds to wait after `failures` consecutive failures (>= 1)."""
        ceiling = min(self.cap, self.base * 2 ** min(max(failures - 1, 0), 32))
        jittered = rng.uniform(0, ceiling)
        if retry_after is not None:
            # The server said when: never come back sooner, but do not let it park us for days.
            return max(jittered, min(retry_after, self.retry_after_cap))
        return jittered


def next_link_state(current: LinkState, *, reached_cloud: bool, succeeded: bool,
                    unreachable_streak: int, offline_after: int = 2) -> LinkState:
    """The link state after one exchange.

    A single lost packet makes the link degraded, not offline; `offline_after`
    unreachable attempts in a row make it offline. Any answer from the cloud, even
    a refusal, means the network is up.
    """
    if succeeded:
        return LinkState.ONLINE
    if reached_cloud:
        return LinkState.DEGRADED
    if unreachable_streak >= offline_after:
        return LinkState.OFFLINE
    return LinkState.DEGRADED if current is LinkState.ONLINE else current
