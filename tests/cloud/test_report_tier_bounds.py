"""The weekly report's tier counts at the edges the one-pass query has to get right: a credit at the last
microsecond of a week or the first of the next, a credit exactly a tier window old, an enrolment on a week
boundary, a member who falls back across a tier bound when a credit leaves the window, and a redemption that does
not (the kiosks' rule: spending points never costs the tier). Each member's tier is also worked out with the
kiosks' own functions (kiosk.rules.ledger.window_points, kiosk.rules.tier_for), on both engines."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from cloud import reports
from cloud.store import CloudStore
from kiosk import protocol
from kiosk.rules import tier_for
from kiosk.rules.cloud_config import rules_from_cloud
from kiosk.rules.ledger import Entry, window_points

NOW = datetime(2026, 5, 6, 12, 0, tzinfo=timezone.utc)  # a Wednesday: three weeks end 04-24, 05-01 (20:30 UTC), now
CONFIG = {"rules": {"tier_window_days": 10}, "rewards": [], "campaigns": [],
          "tiers": [{"name": "bronze", "min_points": 0, "multiplier_percent": 100},
                    {"name": "silver", "min_points": 40, "multiplier_percent": 110}]}
WEEK0_END = datetime(2026, 4, 24, 20, 30, tzinfo=timezone.utc)
WEEK1_END = datetime(2026, 5, 1, 20, 30, tzinfo=timezone.utc)
TICK = timedelta(microseconds=1)
EARLY = datetime(2026, 4, 1, tzinfo=timezone.utc)

# member: (enrolled, [(kind, points, at)], its tier at the end of each of the three weeks; None: not enrolled yet)
MEMBERS = {
    "falls": (EARLY, [("earn", 50, datetime(2026, 4, 20, tzinfo=timezone.utc)),
                      ("redeem", -45, datetime(2026, 4, 22, tzinfo=timezone.utc))], ["silver", "bronze", "bronze"]),
    "last-tick": (EARLY, [("earn", 40, WEEK0_END - TICK)], ["silver", "silver", "bronze"]),
    "first-tick": (EARLY, [("earn", 40, WEEK0_END)], ["bronze", "silver", "bronze"]),
    "window-old": (EARLY, [("bonus", 40, WEEK1_END - TICK - timedelta(days=10))], ["silver", "bronze", "bronze"]),
    "adds-up": (EARLY, [("earn", 30, datetime(2026, 4, 23, tzinfo=timezone.utc)),
                        ("earn", 15, datetime(2026, 4, 28, tzinfo=timezone.utc))], ["bronze", "silver", "bronze"]),
    "joins-on-boundary": (WEEK0_END, [("earn", 45, WEEK0_END + timedelta(hours=1))], [None, "silver", "bronze"]),
    "joins-last-tick": (WEEK1_END - TICK, [], [None, "bronze", "bronze"]),
}


@pytest.fixture
def store(database):
    with CloudStore(database, clock=lambda: NOW) as store:
        store.set_config("edge-01", CONFIG)
        sent = []
        for n, (member, (enrolled, entries, _)) in enumerate(MEMBERS.items()):
            sent.append(protocol.make_event("member_enrolled", member, enrolled, phone_e164=f"+98912{n:07d}",
                                            name=member))
            for kind, points, at in entries:
                fields = {"amount": points * 10_000} if kind == "earn" else {}
                sent.append(protocol.make_event(kind, member, at, points=points, **fields))
        device = store.device(store.register(store.create_token("edge-01")).device_id)
        assert {r["status"] for r in store.ingest(device, sent)} == {protocol.ACCEPTED}
        yield store


def kiosk_tier(member: str, moment: datetime) -> str:
    rules = rules_from_cloud(CONFIG)
    entries = [Entry(f"{member}-{n}", kind, points, 0, at) for n, (kind, points, at) in enumerate(MEMBERS[member][1])]
    return tier_for(window_points(entries, moment, rules), rules).name


def test_tiers_at_each_week_end_follow_credits_on_the_boundaries_and_leaving_the_window_not_redemptions(store):
    with store.db.read() as conn:
        report = reports.weekly(conn, NOW, 3, None)
    moments = [WEEK0_END - TICK, WEEK1_END - TICK, NOW]
    for member, (enrolled, _, tiers) in MEMBERS.items():  # the table above is what the kiosks would show
        assert [kiosk_tier(member, m) if enrolled <= m else None for m in moments] == tiers, member
    for i, row in enumerate(r for r in report.rows if r.branch == "edge-01"):
        expected: dict[str, int] = {}
        for _, _, tiers in MEMBERS.values():
            if tiers[i] is not None:
                expected[tiers[i]] = expected.get(tiers[i], 0) + 1
        assert row.tiers == expected, (i, row.week)
    assert [r.tiers for r in report.rows if r.branch is None] == [r.tiers for r in report.rows if r.branch]
