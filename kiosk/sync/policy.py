"""Pure policy of the sync worker: the link state (its backoff is the kiosk's one, drivers/backoff.py)."""

from __future__ import annotations

import enum


class LinkState(str, enum.Enum):
    """What the screen and staff see about the cloud link."""

    ONLINE = "online"      # the last exchange with the cloud succeeded
    DEGRADED = "degraded"  # the cloud answers but refuses or fails (5xx, clock, key), or a first miss
    OFFLINE = "offline"    # the cloud cannot be reached at all, repeatedly


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
