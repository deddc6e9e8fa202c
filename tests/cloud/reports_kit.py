"""A small generated chain for the report tests: two branches with their own tiers and campaigns, members who
enrol, buy (sometimes under a campaign, sometimes with cashback), get bonuses and redeem, all ingested through
CloudStore.ingest as kiosks would send them; and the plain-Python figures the SQL must agree with."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from cloud.store import CloudStore
from kiosk import protocol
from kiosk.rules import tier_for
from kiosk.rules.cloud_config import rules_from_cloud

ZONE = ZoneInfo("Asia/Tehran")
NOW = datetime(2026, 5, 6, 12, 0, tzinfo=timezone.utc)  # a Wednesday
BRANCHES = ("shiraz-02", "tehran-01")
CONFIGS = {
    "tehran-01": {"rules": {"tier_window_days": 60},
                  "tiers": [{"name": "bronze", "min_points": 0, "multiplier_percent": 100},
                            {"name": "silver", "min_points": 40, "multiplier_percent": 110},
                            {"name": "gold", "min_points": 120, "multiplier_percent": 120}],
                  "rewards": [],
                  "campaigns": [{"id": "spring", "name": "Spring double", "starts_on": "2026-04-11",
                                 "ends_on": "2026-04-24", "earn_multiplier_percent": 200,
                                 "target_tiers": ["silver", "gold"]},
                                {"id": "chosen", "name": "Chosen few", "starts_on": "2026-04-25",
                                 "ends_on": "2026-05-10", "type": "bonus", "bonus_points": 7}]},
    "shiraz-02": {"rules": {},
                  "tiers": [{"name": "bronze", "min_points": 0, "multiplier_percent": 100},
                            {"name": "gold", "min_points": 80, "multiplier_percent": 120}],
                  "rewards": [],
                  "campaigns": [{"id": "spring", "name": "Spring double", "starts_on": "2026-04-18",
                                 "ends_on": "2026-04-30", "earn_multiplier_percent": 200,
                                 "target_segments": ["champions", "loyal", "new", "promising"]}]},
}


@dataclass
class Chain:
    events: list[dict]  # every event sent, with "branch" added (where it was sent from)
    chosen: list[str]  # target_members of "chosen"


def build(store: CloudStore, seed: int = 12) -> Chain:
    rng = random.Random(seed)
    members = [f"m{n:02d}" for n in range(36)]
    chosen = sorted(rng.sample(members, 6))
    config = {**CONFIGS, "tehran-01": {**CONFIGS["tehran-01"], "campaigns": [
        CONFIGS["tehran-01"]["campaigns"][0], {**CONFIGS["tehran-01"]["campaigns"][1], "target_members": chosen}]}}
    for branch in BRANCHES:
        store.set_config(branch, config[branch])
    sent: list[dict] = []
    by_branch: dict[str, list[dict]] = {b: [] for b in BRANCHES}
    for n, member in enumerate(members):
        home = BRANCHES[n % 2]
        joined = NOW - timedelta(days=rng.randint(0, 80), minutes=rng.randint(0, 1440))
        by_branch[home].append(protocol.make_event("member_enrolled", member, joined, phone_e164=f"+98912{n:07d}",
                                                   name=f"عضو {n}"))
        for _ in range(rng.randint(0, 9)):
            at = joined + timedelta(hours=rng.randint(1, 80 * 24))
            if at > NOW:
                continue
            branch = home if rng.random() < 0.8 else BRANCHES[(n + 1) % 2]
            amount = rng.randint(1, 40) * 10_000
            fields = {"points": max(1, amount // 10_000), "amount": amount}
            if rng.random() < 0.4:
                fields["campaigns"] = [{"id": rng.choice(["spring", "chosen"]), "points": rng.randint(0, 9)}]
            if rng.random() < 0.3:
                fields["cashback"] = amount // 100
            by_branch[branch].append(protocol.make_event("earn", member, at, **fields))
            if rng.random() < 0.25:
                by_branch[branch].append(protocol.make_event("bonus", member, at + timedelta(minutes=1),
                                                             points=rng.randint(1, 20)))
            if rng.random() < 0.3:
                by_branch[branch].append(protocol.make_event("redeem", member, at + timedelta(minutes=2),
                                                             points=-rng.randint(1, 5)))
    for branch in BRANCHES:
        registration = store.register(store.create_token(branch))
        device = store.device(registration.device_id)
        results = store.ingest(device, by_branch[branch])
        assert {r["status"] for r in results} == {protocol.ACCEPTED}
        sent += [{**e, "branch": branch} for e in by_branch[branch]]
    return Chain(sent, chosen)


def at(event: dict) -> datetime:
    return protocol.parse_time(event["created_at"])


def local_day(moment: datetime) -> date:
    return moment.astimezone(ZONE).date()


def saturday(day: date) -> date:
    while day.weekday() != 5:
        day -= timedelta(days=1)
    return day


def home(chain: Chain) -> dict[str, tuple[str, datetime]]:
    return {e["member_id"]: (e["branch"], at(e)) for e in chain.events if e["kind"] == "member_enrolled"}


def tier_at(chain: Chain, member: str, moment: datetime, branch: str) -> str:
    """The kiosks' own rules over the member's chain-wide entries."""
    rules = rules_from_cloud(CONFIGS[branch])
    start = moment - timedelta(days=rules.tier_window_days)
    points = sum(e["points"] for e in chain.events if e["member_id"] == member and e["kind"] in ("earn", "bonus")
                 and start < at(e) <= moment)
    return tier_for(points, rules).name
