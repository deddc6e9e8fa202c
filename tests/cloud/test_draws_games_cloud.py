"""Draws and the instant-win budget end to end: two real kiosk stores, the real cloud on loopback, both engines.

The game's prize budget holds with two kiosks, one of them offline; a draw's winners are recomputed from its
published seed and entries (also by `kiosk-cloud draws verify`, a real process); entries reach the cloud
exactly once and `kioskctl verify`'s balance check stays clean.
"""
from __future__ import annotations

import html
import json
import random
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from cloud import allocations, draws, engagement
from cloud.errors import BadConfig
from kiosk.errors import EngagementRefused, InsufficientPoints
from kiosk.rules.games import game_from_mapping
from kiosk.store import Store
from kiosk.sync.client import CloudClient
from kiosk.sync.engagement import exchange_engagement
from kiosk.sync.worker import SyncWorker
from tests.cloud.conftest import FAST_BACKOFF, drain_to_empty
from tests.support.forms import form_fields

ROOT = Path(__file__).resolve().parents[2]


class Kiosk:
    def __init__(self, cloud, directory: Path, name: str) -> None:
        registered = cloud.registered_client("tehran-01")
        self.client = registered
        self.store = Store(directory / f"{name}.db", device_id=name, clock=cloud.clock)
        self.store.upsert_reward("coffee", "Free coffee", 100)
        self.worker = SyncWorker(self.store, CloudClient(cloud.url, device_id=registered.device_id,
                                                         device_key=registered.device_key, clock=cloud.clock),
                                 clock=cloud.clock, rng=random.Random(3), backoff=FAST_BACKOFF)
        self.member = self.store.add_member(f"+98912{abs(hash(name)) % 10**7:07d}", name.title())
        self.store.record(self.member.id, "bonus", 1000, reason="welcome")

    def sync(self) -> None:
        drain_to_empty(self.worker, self.store)
        exchange_engagement(self.store, self.client)

    def play(self, n: int) -> int:
        """Plays until refused; how many were won (odds are 100%, so every allowed play wins)."""
        game = game_from_mapping(self.store.games()[0])
        won = 0
        for i in range(n):
            try:
                result = self.store.play_game(self.member.id, game, f"play-{self.store.device_id}-{random.random()}",
                                              lambda: 0, lambda: f"CPN{random.getrandbits(40):X}")
            except EngagementRefused as exc:
                assert exc.reason == "no_prizes_left"
                break
            won += result["coupon"] is not None
        return won

    def close(self) -> None:
        self.worker.close()
        self.worker.client.close()
        self.client.close()
        self.store.close()


def at_ten_utc(cloud) -> None:
    """Move the shared clock to 10:00 UTC (the next one): a day's budget must not roll over mid-test."""
    now = cloud.clock()
    ten = now.replace(hour=10, minute=0, second=0, microsecond=0)
    cloud.clock.advance((ten if ten > now else ten + timedelta(days=1)) - now)


@pytest.fixture
def kiosks(cloud, tmp_path):
    at_ten_utc(cloud)
    made = [Kiosk(cloud, tmp_path, "north"), Kiosk(cloud, tmp_path, "south")]
    yield made
    for kiosk in made:
        assert kiosk.store.verify() == []  # what `kioskctl verify` checks: every balance matches its ledger
        kiosk.close()


def make_game(cloud, *, daily: int | None, total: int | None, per_kiosk: int) -> None:
    with cloud.store.db.write() as conn:
        engagement.create_game(conn, game_id="spin", name="Spin", cost_points=10,
                               odds=[{"reward_id": "coffee", "chance": 10_000}], daily_limit=daily,
                               total_limit=total, per_kiosk=per_kiosk, lease_minutes=60, actor="test",
                               now=cloud.clock())


def coupons(kiosk: Kiosk) -> int:
    return kiosk.store.query("SELECT COUNT(*) FROM coupons")[0][0]


def test_two_kiosks_one_offline_never_give_more_prizes_than_the_budget(cloud, kiosks):
    north, south = kiosks
    make_game(cloud, daily=None, total=5, per_kiosk=3)
    north.sync()
    south.sync()  # south holds 2 (what was left of the 5) and then goes offline: it never syncs again below
    assert north.play(10) == 3
    north.sync()  # the cloud counts south's open grant in full: nothing more for north
    assert north.play(10) == 0
    assert south.play(10) == 2  # offline, from its own grant only, then refused
    assert coupons(north) + coupons(south) == 5
    # The refused plays charged nothing: 10 points for each of the 5 plays that went ahead.
    assert north.store.balance(north.member.id).points == 1000 - 3 * 10
    assert south.store.balance(south.member.id).points == 1000 - 2 * 10


def test_a_grant_that_expires_unused_goes_back_to_the_budget_and_the_day_limit_holds(cloud, kiosks):
    north, south = kiosks
    make_game(cloud, daily=4, total=None, per_kiosk=3)
    north.sync()
    south.sync()  # north 3, south 1: the day's 4
    assert north.play(10) == 3
    cloud.clock.advance(timedelta(minutes=61))  # the leases ran out; south gave nothing away
    assert south.play(1) == 0  # an expired grant gives nothing, even offline
    south.sync()  # reports 0 used and releases: its unit goes back to today's budget
    north.sync()
    # North's first grant released in the same exchange (3 used): the day has 1 prize left, for one of them.
    assert north.play(10) + south.play(10) == 1
    assert sum(coupons(k) for k in kiosks) == 4
    cloud.clock.advance(timedelta(days=1))  # a new day, a new daily budget
    north.sync()
    assert north.play(10) == 3


def test_a_budgets_day_ends_at_midnight_in_tehran_not_at_midnight_utc(cloud, kiosks):
    north, _ = kiosks
    cloud.clock.advance(timedelta(hours=10))  # 20:00 UTC, 23:30 in Tehran (UTC+3:30)
    with cloud.store.db.write() as conn:
        engagement.create_game(conn, game_id="spin", name="Spin", cost_points=10,
                               odds=[{"reward_id": "coffee", "chance": 10_000}], daily_limit=2, total_limit=None,
                               per_kiosk=2, lease_minutes=60, actor="test", now=cloud.clock(), time_zone="Asia/Tehran")
    north.sync()
    (grant,) = north.store.grants()
    # Tehran's midnight (20:30 UTC), within the 60 minute lease
    assert grant.expires_at == cloud.clock().replace(hour=20, minute=30, second=0, microsecond=0)
    assert north.play(10) == 2
    cloud.clock.advance(timedelta(minutes=40))  # 00:10 in Tehran: a new day there, still the same UTC day
    north.sync()
    assert north.play(10) == 2
    north.sync()  # reports the new day's plays
    with cloud.store.db.read() as conn:
        assert allocations.usage(conn, "game:spin", cloud.clock()) == {"today": 2, "total": 4, "used": 4}
    with cloud.store.db.write() as conn, pytest.raises(BadConfig, match="time zone"):
        allocations.create_budget(conn, budget_id="x", kind="game_prizes", daily_limit=1, total_limit=None,
                                  per_kiosk=1, lease_minutes=60, now=cloud.clock(), time_zone="Mars/Olympus")


def test_a_games_purchase_amount_reaches_the_kiosks_with_the_games_start(cloud, kiosks):
    north, _ = kiosks
    with cloud.store.db.write() as conn:
        engagement.create_game(conn, game_id="spin", name="Spin", cost_points=10,
                               odds=[{"reward_id": "coffee", "chance": 10_000}], daily_limit=None, total_limit=5,
                               per_kiosk=2, lease_minutes=60, actor="test", now=cloud.clock(), earn_over_rial=5_000_000)
        with pytest.raises(BadConfig, match="at least 1 rial"):
            engagement.create_game(conn, game_id="bad", name="Bad", cost_points=10, odds=[], daily_limit=None,
                                   total_limit=5, per_kiosk=2, lease_minutes=60, actor="test", now=cloud.clock(),
                                   earn_over_rial=0)
    north.sync()
    game = game_from_mapping(north.store.games()[0])
    assert game.earn_over_rial == 5_000_000 and game.since is not None and game.since <= cloud.clock()


def test_a_game_refuses_before_charging_a_member_without_enough_points(cloud, kiosks):
    north, _ = kiosks
    make_game(cloud, daily=None, total=10, per_kiosk=3)
    north.sync()
    poor = north.store.add_member("+989350000001", "Poor")
    north.store.record(poor.id, "bonus", 5, reason="welcome")
    with pytest.raises(InsufficientPoints):
        north.store.play_game(poor.id, game_from_mapping(north.store.games()[0]), "play-poor-1", lambda: 0,
                              lambda: "CPNPOOR")
    assert north.store.balance(poor.id).points == 5


def test_a_draws_winners_are_recomputed_from_its_published_seed_and_entries(cloud, kiosks, tmp_path):
    north, south = kiosks
    now = cloud.clock()
    with cloud.store.db.write() as conn:
        committed = draws.create(conn, draw_id="spring", name="Spring draw", prizes=["Bicycle", "Tablet"],
                                 price_points=50, starts_at=now - timedelta(hours=1), ends_at=now + timedelta(hours=1),
                                 actor="test", now=now)
    north.sync()
    south.sync()
    draw = north.store.draws()[0]
    assert draw["seed_hash"] == committed and draw["seed"] is None  # the seed is not revealed before the run
    extra = north.store.add_member("+989350000002", "Reza")
    north.store.record(extra.id, "bonus", 500, reason="welcome")
    for store, member, count, key in ((north.store, north.member.id, 3, "k1"), (south.store, south.member.id, 2, "k2"),
                                      (north.store, extra.id, 4, "k3")):
        first = store.buy_draw_entries(member, draw, count, key)
        again = store.buy_draw_entries(member, draw, count, key)  # a retried request: charged once
        assert first["applied"] and not again["applied"] and again["balance"] == first["balance"]
    with pytest.raises(InsufficientPoints):
        north.store.buy_draw_entries(extra.id, draw, 20, "k4")  # 1000 points it no longer has
    north.sync()
    south.sync()
    with cloud.store.db.write() as conn, pytest.raises(Exception, match="after it closes"):
        draws.run(conn, "spring", actor="test", now=cloud.clock())
    cloud.clock.advance(timedelta(hours=2))
    with cloud.store.db.write() as conn:
        winners = draws.run(conn, "spring", actor="test", now=cloud.clock())
        assert draws.run(conn, "spring", actor="test", now=cloud.clock()) == winners  # twice: the same result
        document = draws.published(conn, "spring", cloud.clock())
    assert len(winners) == 2 and len({w["member_id"] for w in winners}) == 2
    assert sum(e["entries"] for e in document["entries"]) == 9
    assert draws.verify(document) == winners
    published = tmp_path / "spring.json"
    published.write_text(json.dumps(document))
    checked = subprocess.run([sys.executable, "-m", "cloud.cli", "draws", "verify", str(published)],
                             capture_output=True, text=True, cwd=ROOT, check=False)
    assert checked.returncode == 0, checked.stderr
    assert f"winner rank=1 member={winners[0]['member_id']}" in checked.stdout
    tampered = {**document, "seed": "0" * 64}
    published.write_text(json.dumps(tampered))
    refused = subprocess.run([sys.executable, "-m", "cloud.cli", "draws", "verify", str(published)],
                             capture_output=True, text=True, cwd=ROOT, check=False)
    assert refused.returncode == 1 and "does not hash" in refused.stderr
    north.sync()  # the winners reach the kiosks, to be told at the next tap
    told = {m for m in (north.member.id, south.member.id, extra.id) if north.store.draw_wins_to_tell(m)}
    assert told == {w["member_id"] for w in winners}


def test_the_console_creates_a_draw_shows_its_seed_hash_runs_it_once_closed_and_publishes_it(cloud, console):
    marketer, manager = console("marketer"), console("tehran-manager")
    now = cloud.clock()
    form = {"draw_id": "autumn", "name": "Autumn draw", "prizes": "Bicycle\nTablet", "price_points": "۵۰",
            "starts_at": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")}
    assert manager.post("/draws", form, csrf_from="/members").status_code == 403  # chain-wide roles only
    assert marketer.post("/draws", {**form, "price_points": "lots"}, csrf_from="/draws").status_code == 422
    assert marketer.post("/draws", form, csrf_from="/draws").status_code == 302
    page = marketer.get("/draws").text
    with cloud.store.db.read() as conn:
        (listed,) = draws.listing(conn, cloud.clock())
    assert listed["seed_hash"] in page and listed["seed"] is None
    with cloud.store.db.read() as conn:
        seed = conn.execute(draws.draws.select()).mappings().first()["seed"]
    assert seed not in page  # not revealed before the run
    assert marketer.post("/draws/autumn/run", csrf_from="/draws").status_code == 409  # still open
    cloud.clock.advance(timedelta(hours=2))
    marketer = console("marketer")  # two idle hours ended the first sign-in
    ran = marketer.post("/draws/autumn/run", csrf_from="/draws")
    assert ran.status_code == 302 and ran.headers["Location"].endswith("/draws")
    assert seed in marketer.get("/draws").text
    document = marketer.get("/draws/autumn/published.json").json()
    assert draws.verify(document) == document["winners"] == []  # nobody entered: no winners, still verifiable
    assert marketer.post("/games", {"game_id": "wheel", "game_name": "Wheel", "cost_points": "20",
                                    "reward_id": "coffee", "chance": "12000", "per_kiosk": "3",
                                    "lease_minutes": "60"}, csrf_from="/draws").status_code == 422  # odds > 100%
    assert marketer.post("/games", {"game_id": "wheel", "game_name": "Wheel", "cost_points": "20",
                                    "reward_id": "coffee", "chance": "2500", "daily_limit": "10",
                                    "per_kiosk": "3", "lease_minutes": "60"}, csrf_from="/draws").status_code == 302
    assert 'data-game="wheel"' in marketer.get("/draws").text


def test_the_console_game_form_sets_the_budgets_day_in_a_chosen_zone_and_refuses_an_unknown_one(
        cloud, console, kiosks):
    north, _ = kiosks
    cloud.clock.advance(timedelta(hours=9, minutes=30))  # 19:30 UTC: 23:30 in Dubai, 23:00 in Tehran
    marketer = console("marketer")
    shown = form_fields(marketer.get("/draws").text, "game")
    assert shown["time_zone"] == "Asia/Tehran"  # the chain's default, preselected
    game = {**shown, "game_id": "wheel", "game_name": "Wheel", "cost_points": "20", "reward_id": "coffee",
            "chance": "10000", "daily_limit": "5", "per_kiosk": "2", "lease_minutes": "60"}
    for zone in ("Mars/Olympus", "localtime", "../../etc/passwd", ""):
        refused = marketer.post("/games?lang=en", {**game, "time_zone": zone}, csrf_from="/draws")
        assert refused.status_code == 422, zone
        assert f"time zone {zone!r} is unknown; choose an IANA zone" in html.unescape(refused.text)
        assert form_fields(refused.text, "game")["time_zone"] == "Asia/Tehran"  # the list offers a real one again
    with cloud.store.db.read() as conn:
        assert engagement.listing(conn, cloud.clock()) == []  # nothing half-made by a refusal
    saved = marketer.post("/games", {**game, "time_zone": "Asia/Dubai"}, csrf_from="/draws")
    assert saved.status_code == 302
    assert '<td class="zone" dir="ltr">Asia/Dubai</td>' in marketer.get("/draws").text
    north.sync()
    (grant,) = north.store.grants()
    # Dubai's midnight (UTC+4) ends the grant at 20:00 UTC, before its 60 minute lease and Tehran's 20:30.
    assert grant.expires_at == cloud.clock().replace(hour=20, minute=0, second=0, microsecond=0)
