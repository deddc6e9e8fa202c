"""The demo's cloud side: a console login and a chain's worth of generated members and purchases.

`make demo` runs the reference cloud on a SQLite file beside the kiosk. So that the console's charts
and segments have something to show, two more branches' kiosks are registered and a few hundred
purchases of generated members are ingested through the cloud's own ingest (the code a kiosk's batch
goes through), from a fixed random seed: every fresh demo shows the same club. The purchases are dated
back from the first run's day, so recency and lapsed members read as they would in a real chain.
"""

from __future__ import annotations

import random
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cloud import analytics
from cloud.store import CloudStore, load_config_file
from cloud.users import UserStore
from kiosk import protocol
from kiosk.private_files import write_atomic

SEED = 1404
DEMO_USER = "demo-admin"
MEMBERS_PER_BRANCH = 50
BRANCHES = ("tehran-01", "shiraz-02")
_EVENT_NAMESPACE = uuid.UUID("6a3b1f1e-0c55-4d7e-9a49-7c1d0e5b2a10")

# Persian spellings, and some in Arabic letters (ي/ك), so the console's folded search has both to find.
FIRST_NAMES = ("زهرا", "مریم", "فاطمه", "علی", "حسین", "رضا", "نرگس", "کاوه", "مهدی", "یاسمن", "سينا", "كيان",
               "ليلا", "امید", "دینا")
MOBILE_PREFIXES = ("912", "913", "919", "935", "936", "901")
LAST_NAMES = ("یوسفی", "کریمی", "حسینی", "محمدی", "رحیمی", "جعفری", "موسوی", "نوري", "كاظمي", "تهرانی")


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str


def ensure_login(store: CloudStore, login_file: Path) -> DemoLogin:
    """The demo's chain admin: made once with a random password kept in `login_file` (0600)."""
    users = UserStore(store.db, store.clock)
    if login_file.exists() and users.get(DEMO_USER) is not None:
        return DemoLogin(DEMO_USER, login_file.read_text(encoding="utf-8").strip())
    password = secrets.token_urlsafe(12)
    if users.get(DEMO_USER) is None:
        users.add(DEMO_USER, password, "admin", actor="make demo")
    else:  # the file was deleted: a new password, printed again
        users.set_password(DEMO_USER, password, actor="make demo")
    write_atomic(login_file, password + "\n")
    return DemoLogin(DEMO_USER, password)


def generated_events(branch: str, count: int, now: datetime, rng: random.Random) -> list[dict[str, Any]]:
    """Enrolments and purchases of `count` members of `branch`: a few heavy buyers, many occasional ones,
    some who stopped coming (pure: the same rng state gives the same events)."""
    events: list[dict[str, Any]] = []
    for n in range(count):
        member_id = f"demo-{branch}-{n:03d}"
        enrolled = now - timedelta(days=rng.randint(20, 420), hours=rng.randint(0, 12))
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        phone = f"+98{rng.choice(MOBILE_PREFIXES)}{rng.randint(1_000_000, 9_999_999)}"
        events.append(_event("member_enrolled", member_id, enrolled, f"{member_id}/enrol", phone_e164=phone,
                             name=name, consent={"at": protocol.format_time(enrolled), "text_version": "demo-1"}))
        # Pareto-like visits: most members come a few times, a few come every week or two.
        visits = min(40, int(rng.paretovariate(1.3)) - 1 + rng.randint(0, 2))
        # A third have stopped coming: their visits end months before today.
        last_day = rng.randint(120, 300) if rng.random() < 0.33 else rng.randint(0, 20)
        span = max(1, (now - enrolled).days - last_day)
        basket = rng.choice((400_000, 1_200_000, 3_500_000))
        for visit in range(visits):
            at = enrolled + timedelta(days=rng.randint(0, span), minutes=rng.randint(0, 600))
            amount = max(50_000, int(rng.gauss(basket, basket / 3)) // 10_000 * 10_000)
            events.append(_event("earn", member_id, min(at, now), f"{member_id}/buy/{visit}",
                                 points=max(1, amount // 10_000), amount=amount, receipt_id=f"D{n}-{visit}"))
    return events


def _event(kind: str, member_id: str, at: datetime, key: str, **fields: Any) -> dict[str, Any]:
    event_id = str(uuid.uuid5(_EVENT_NAMESPACE, key))
    return protocol.make_event(kind, member_id, at, event_id=event_id, **fields)


def seed_chain(store: CloudStore, now: datetime, config_file: Path | None = None) -> int:
    """Register a kiosk per generated branch, ingest its members' enrolments and purchases, recompute the
    segments; returns the number of events stored (0 when the chain was already seeded)."""
    if set(BRANCHES) & {d.branch for d in store.devices()}:
        return 0
    rng = random.Random(SEED)
    stored = 0
    for branch in BRANCHES:
        if config_file is not None and config_file.exists() and store.config(branch) is None:
            store.set_config(branch, load_config_file(config_file), actor="make demo")
        registration = store.register(store.create_token(branch), name=f"kiosk at {branch}")
        device = store.device(registration.device_id)
        assert device is not None
        events = generated_events(branch, MEMBERS_PER_BRANCH, now, rng)
        for start in range(0, len(events), protocol.MAX_BATCH_EVENTS):
            results = store.ingest(device, events[start:start + protocol.MAX_BATCH_EVENTS])
            stored += sum(r["status"] == protocol.ACCEPTED for r in results)
    analytics.recompute(store.db, now)
    return stored
