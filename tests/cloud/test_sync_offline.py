"""Offline, redemptions per member per day are capped; online they are not."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.sync_offline import OfflineRedemptionCap, check_offline_redemption, day_start, offline_redemption_allowed
from kiosk.sync_policy import LinkState

from .conftest import seed

TEHRAN = ZoneInfo("Asia/Tehran")


@given(st.sampled_from(list(LinkState)), st.integers(0, 10), st.integers(0, 10))
def test_online_never_refuses_and_offline_refuses_exactly_at_the_cap(link, redeemed, cap):
    allowed = offline_redemption_allowed(link, redeemed, cap)
    assert allowed == (link is LinkState.ONLINE or redeemed < cap)


def test_the_cap_counts_the_shops_day_and_says_what_to_do(store):
    (member_id,) = seed(store, members=1, earns=3)
    now = datetime.now(timezone.utc)
    store.record(member_id, "redeem", -10)
    check_offline_redemption(store, member_id, LinkState.OFFLINE, 2, now, TEHRAN)
    store.record(member_id, "redeem", -10)
    with pytest.raises(OfflineRedemptionCap, match="offline limit") as refused:
        check_offline_redemption(store, member_id, LinkState.OFFLINE, 2, now, TEHRAN)
    assert refused.value.cap == 2
    check_offline_redemption(store, member_id, LinkState.ONLINE, 2, now, TEHRAN)
    # Tomorrow (shop time) the count starts again.
    check_offline_redemption(store, member_id, LinkState.DEGRADED, 2, now + timedelta(days=1), TEHRAN)


def test_the_day_starts_at_local_midnight():
    at = datetime(2026, 11, 23, 21, 0, tzinfo=timezone.utc)  # 00:30 on the 24th in Tehran
    assert day_start(at, TEHRAN) == datetime(2026, 11, 24, 0, 0, tzinfo=TEHRAN)
