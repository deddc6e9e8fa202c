"""The club's config set in the cloud document takes effect at the kiosk: campaigns, cashback, the streak,
the catalogue, names per language, the expiry list, coupons held, the referral code and the profile.

A real SQLite store and the real service; the clock is a settable one in UTC, the shop is in Tehran (+03:30).
"""
from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from kiosk.config import load, load_secrets
from kiosk.errors import ConfigError
from kiosk.flows import build_flows, coupons
from kiosk.flows.enrollment import EnrollmentError
from kiosk.rules.coupon_reasons import coupon_in_reason
from kiosk.service import KioskService
from kiosk.store import Store
from tests.conftest import ROOT, write_config

EXAMPLE = json.loads((ROOT / "docs" / "cloud-config.example.json").read_text(encoding="utf-8"))
TIERS = [{"name": "bronze", "min_points": 0, "multiplier_percent": 100},
         {"name": "silver", "min_points": 1000, "multiplier_percent": 100},
         {"name": "gold", "min_points": 5000, "multiplier_percent": 100, "cashback_basis_points": 500}]


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def config(*campaigns: dict, rewards: list | None = None, **rules: object) -> dict:
    return {"rules": {"expiry_days": 0, **rules}, "tiers": TIERS, "campaigns": list(campaigns),
            "rewards": rewards if rewards is not None else [
                {"id": "coffee", "name": {"fa": "قهوه", "ar": "قهوة", "en": "Coffee"}, "cost_points": 100}]}


def campaign(cid: str, kind: str = "multiplier", **fields: object) -> dict:
    effect = {"multiplier": {"earn_multiplier_percent": 200}, "bonus": {"bonus_points": 30}, "points_cap": {}}.get(
        kind, {"discount_percent": 10})
    return {"id": cid, "type": kind, "name": {"fa": f"{cid} fa", "en": f"{cid} en"},
            "starts_on": "2026-12-20", "ends_on": "2026-12-22", **effect, **fields}


@pytest.fixture
def club(tmp_path: Path):
    settings = load(write_config(tmp_path / "kiosk"))
    clock = Clock(datetime(2026, 12, 21, 9, 0, tzinfo=timezone.utc))
    reads: list[str] = []
    store = Store(tmp_path / "kiosk.db", device_id="k1", clock=clock, on_read=reads.append)
    service = KioskService(store, settings, load_secrets(settings.device.secrets_file), clock=clock)
    service.clock, service.reads = clock, reads  # for the tests
    yield service
    assert store.verify() == [], "the ledger and the wallet must balance after every test"
    store.close()


def member(service: KioskService, phone: str = "+989121234567", language: str = "en", **kwargs):
    return service.enroll(phone, "Sara", language=language, **kwargs)


def make_gold(service: KioskService, member_id: str) -> None:
    service.store.record(member_id, "bonus", 5000, reason="welcome to gold")


def test_a_double_points_campaign_for_gold_doubles_a_gold_purchase_and_says_so(club):
    club.apply_config(config(campaign("yalda", target_tiers=["gold"])))
    gold, bronze = member(club), member(club, "+989121111111")
    make_gold(club, gold.id)
    earned = club.earn(gold.id, 1_000_000, receipt_id="R1")
    assert earned.row.points == 200 and earned.campaigns == (("yalda", 100),)
    assert "yalda" in earned.row.reason and "+100" in earned.row.reason
    assert club.store.purchase_campaigns(earned.row.event_id) == [("yalda", 100)]
    assert club.earn(bronze.id, 1_000_000).row.points == 100
    assert list(club.campaign_lines(earned.campaigns, "fa")) == [
        {"id": "yalda", "name": "yalda fa", "names": {"fa": "yalda fa", "en": "yalda en"}, "points": 100}]


def test_a_campaign_ending_on_the_22nd_stops_at_midnight_in_the_shops_time_zone(club):
    club.apply_config(config(campaign("yalda")))
    m = member(club)
    club.clock.at = datetime(2026, 12, 22, 20, 29, tzinfo=timezone.utc)  # 23:59 in Tehran
    assert club.earn(m.id, 1_000_000).row.points == 200
    club.clock.at = datetime(2026, 12, 22, 20, 31, tzinfo=timezone.utc)  # 00:01 on the 23rd in Tehran, still the 22nd in UTC
    assert club.earn(m.id, 1_000_000).row.points == 100


def test_a_happy_hour_campaign_doubles_points_only_within_its_hours_in_the_shops_time_zone(club):
    club.apply_config(config(campaign("evening", target_tiers=["gold"], hours="17:00-20:00")))
    gold = member(club)
    make_gold(club, gold.id)
    club.clock.at = datetime(2026, 12, 21, 13, 29, tzinfo=timezone.utc)  # 16:59 in Tehran
    assert club.earn(gold.id, 1_000_000).campaigns == ()
    club.clock.at = datetime(2026, 12, 21, 13, 30, tzinfo=timezone.utc)  # 17:00 in Tehran
    assert club.earn(gold.id, 1_000_000).campaigns == (("evening", 100),)
    assert quote(club, gold.id).multiplier_percent == 200, "the till quotes the rate of this hour"
    club.clock.at = datetime(2026, 12, 21, 16, 30, tzinfo=timezone.utc)  # 20:00 in Tehran: the end is excluded
    assert club.earn(gold.id, 1_000_000).campaigns == ()
    assert quote(club, gold.id).multiplier_percent == 100


def test_campaign_hours_past_midnight_run_into_the_small_hours_after_the_last_day(club):
    club.apply_config(config(campaign("late", hours="22:00-02:00")))
    m = member(club)
    club.clock.at = datetime(2026, 12, 19, 21, 0, tzinfo=timezone.utc)  # 00:30 on the 20th: the night before
    assert club.earn(m.id, 1_000_000).campaigns == ()
    club.clock.at = datetime(2026, 12, 22, 19, 0, tzinfo=timezone.utc)  # 22:30 on the last day
    assert club.earn(m.id, 1_000_000).campaigns == (("late", 100),)
    club.clock.at = datetime(2026, 12, 22, 22, 0, tzinfo=timezone.utc)  # 01:30 on the 23rd: that night still
    assert club.earn(m.id, 1_000_000).campaigns == (("late", 100),)
    club.clock.at = datetime(2026, 12, 22, 23, 0, tzinfo=timezone.utc)  # 02:30: over
    assert club.earn(m.id, 1_000_000).campaigns == ()


def test_campaign_hours_that_are_not_a_window_are_refused_and_the_last_good_config_kept(club):
    club.apply_config(config(campaign("yalda")))
    for hours in ("17:00", "20:00-20:00", "5pm-8pm", 17, "17:00:30-20:00"):
        with pytest.raises(ConfigError, match="hours"):
            club.apply_config(config(campaign("evening", hours=hours)))
    assert [c.campaign_id for c in club.campaigns] == ["yalda"]


def test_overlapping_campaigns_the_highest_multiplier_alone_and_every_bonus(club):
    club.apply_config(config(campaign("double"), campaign("triple", earn_multiplier_percent=300),
                             campaign("gift", "bonus"), campaign("gift2", "bonus", bonus_points=5)))
    earned = club.earn(member(club).id, 1_000_000)
    assert sorted(earned.campaigns) == [("gift", 30), ("gift2", 5), ("triple", 200)]
    assert earned.row.points == 100 + 200 + 30 + 5


def test_a_personal_offer_applies_to_the_listed_member_only_and_a_limit_stops_it(club):
    a, b = member(club), member(club, "+989121111111")
    club.apply_config(config(campaign("for-a", "bonus", target_members=[a.id], per_member_limit=1)))
    assert club.earn(a.id, 1_000_000).row.points == 130
    assert club.earn(a.id, 1_000_000).row.points == 100  # the limit of one purchase is reached
    assert club.earn(b.id, 1_000_000).row.points == 100


def test_a_segment_campaign_reaches_members_of_that_segment(club):
    club.apply_config(config(campaign("welcome", "bonus", target_segments=["new"]),
                             campaign("winback", "bonus", bonus_points=7, target_segments=["hibernating"])))
    assert club.earn(member(club).id, 1_000_000).campaigns == (("welcome", 30),)


def test_cashback_goes_into_the_wallet_at_the_tiers_rate_and_not_into_points(club):
    club.apply_config(config(cashback_basis_points=100))
    bronze, gold = member(club), member(club, "+989121111111")
    make_gold(club, gold.id)
    assert club.earn(bronze.id, 2_000_000).cashback_rial == 20_000
    assert club.earn(gold.id, 2_000_000).cashback_rial == 100_000  # gold's own 5 %
    assert club.store.balance(gold.id).credit_rial == 100_000
    assert club.store.balance(gold.id).points == 100 + 5000 + 200
    assert club.summary(gold.id)["wallet_rial"] == 100_000


def test_the_visit_streak_bonus_is_paid_once_when_the_streak_is_reached(club):
    club.apply_config(config(streak_bonus=75, streak_periods=3, streak_period_days=7))
    m = member(club)
    for week in range(4):
        club.earn(m.id, 100_000)
        club.clock.at += timedelta(days=7)
    streaks = [r for r in club.store.history(m.id) if r.reason == "visit streak bonus"]
    assert [r.points for r in streaks] == [75]


def test_a_reward_removed_in_the_cloud_is_no_longer_offered_and_names_follow_the_language(club):
    club.apply_config(config())
    fa, en = member(club, language="fa"), member(club, "+989121111111", language="en")
    assert [r["name"] for r in club.summary(fa.id)["rewards"]] == ["قهوه"]
    assert [r["name"] for r in club.summary(en.id)["rewards"]] == ["Coffee"]
    club.apply_config(config(rewards=[]))
    assert club.summary(fa.id)["rewards"] == [] and club.store.reward("coffee") is None


def test_a_config_with_an_unknown_campaign_type_is_refused_and_the_last_good_one_kept(club):
    club.apply_config(config(campaign("yalda")))
    with pytest.raises(ConfigError, match="'lottery' is not a campaign type"):
        club.apply_config(config(campaign("x", "multiplier", type="lottery")))
    with pytest.raises(ConfigError, match="has no 'name'"):
        club.apply_config(config({"id": "nonsense"}))
    assert [c.campaign_id for c in club.campaigns] == ["yalda"]
    assert club.store.reward("coffee") is not None


def test_the_balance_screen_lists_expiry_dates_coupons_held_and_the_referral_code_in_four_reads(club):
    club.apply_config({**config(), "rules": {"expiry_days": 365}})
    m = member(club)
    club.earn(m.id, 3_500_000)
    coupon = coupons.redeem(club, m.id, "coffee")
    club.reads.clear()
    snapshot = club.settled(club.store.member_snapshot(m.id))
    screen = club.screen(snapshot)
    assert len(club.reads) <= 4, club.reads
    # enrolment (100) and the purchase (350) on 1405/09/30, less the coffee (100) taken from the oldest first
    assert screen["expiring"] == [{"points": 350, "on": "2027-12-21"}]
    assert [c["code"] for c in screen["coupons"]] == [coupon.code]
    assert screen["referral_code"] == m.referral_code and screen["referral_qr"].startswith("data:image/svg+xml")
    assert club.summary(m.id)["coupons"][0]["name"] == "Coffee"  # still held on the next tap: not lost at idle


def test_a_profile_completed_after_joining_pays_its_bonus_once(club):
    flows = build_flows(club)
    try:
        m = member(club)
        with pytest.raises(EnrollmentError, match="birthday"):
            flows.enrollment.complete_profile(m.id, "Ahmadi", None)
        assert flows.enrollment.complete_profile(m.id, "Ahmadi", "1990-05-04").bonus_points == 50
        assert flows.enrollment.complete_profile(m.id, "Ahmadi-Rad", "1990-05-04").bonus_points == 0
        assert club.store.member(m.id).last_name == "Ahmadi-Rad"
        assert club.store.balance(m.id).points == 150
        assert club.summary(m.id)["profile_complete"] is True
    finally:
        flows.close()


def test_the_documented_example_config_runs_one_campaign_of_each_type(club):
    applied = club.apply_config(copy.deepcopy(EXAMPLE))
    assert {c.kind for c in applied.campaigns} == {"multiplier", "bonus", "discount", "birthday", "birthday_gift",
                                                       "second_purchase", "points_cap"}
    assert any(c.target_members for c in applied.campaigns)  # a personal offer


def quote(service: KioskService, member_id: str, bill: int = 1_000_000):
    flows = build_flows(service)
    try:
        return flows.till.quote({"bill_rial": bill, "member_id": member_id, "use_points": False, "use_credit": False})
    finally:
        flows.close()


def test_a_birthday_discount_is_quoted_in_the_jalali_birth_month_only(club):
    club.apply_config(config(campaign("bday", "birthday", discount_percent=15, starts_on="2020-01-01",
                                      ends_on="2099-12-31"), calendar="jalali", birthday_mode="month"))
    # Born 1369/10/01 (1990-12-22); the shop day 2026-12-21 is 1405/09/30, the day before the Jalali month Dey
    m = member(club, birthday="1990-12-22")
    assert quote(club, m.id).discount_rial == 0
    club.clock.at = datetime(2026, 12, 21, 21, 0, tzinfo=timezone.utc)  # 00:30 on 1405/10/01 in Tehran
    assert (quote(club, m.id).discount_rial, quote(club, m.id).discount_campaign) == (150_000, "bday en")


def test_a_second_purchase_discount_is_quoted_within_n_days_of_the_last_purchase(club):
    club.apply_config(config(campaign("again", "second_purchase", discount_percent=20, within_days=7,
                                      starts_on="2020-01-01", ends_on="2099-12-31"),
                             campaign("small", "discount", discount_percent=5, starts_on="2020-01-01",
                                      ends_on="2099-12-31")))
    m = member(club)
    assert quote(club, m.id).discount_rial == 50_000  # no purchase yet: only the 5 % for everyone
    club.earn(m.id, 100_000)
    club.clock.at += timedelta(days=7)
    assert quote(club, m.id).discount_rial == 200_000  # the highest discount applies alone
    club.clock.at += timedelta(days=1)
    assert quote(club, m.id).discount_rial == 50_000


def test_a_campaign_field_of_another_type_or_a_missing_within_days_is_refused_naming_it(club):
    with pytest.raises(ConfigError, match="'bonus_points' is not a field of a 'discount' campaign"):
        club.apply_config(config(campaign("x", "discount", bonus_points=5)))
    with pytest.raises(ConfigError, match="needs within_days"):
        club.apply_config(config(campaign("x", "second_purchase", discount_percent=5)))
    with pytest.raises(ConfigError, match="unknown language 'de'"):
        club.apply_config(config({**campaign("x"), "name": {"de": "Doppelt"}}))


def test_a_points_cap_issues_a_free_purchase_coupon_once_the_balance_reaches_it(club):
    club.apply_config(config(campaign("cap", "points_cap", cap_points=300, reward_id="coffee", per_member_limit=1,
                                      starts_on="2020-01-01", ends_on="2099-12-31")))
    m = member(club)  # 100 points for joining
    club.earn(m.id, 1_000_000)  # 200: not yet
    assert club.store.member_snapshot(m.id).coupons == ()
    earned = club.earn(m.id, 1_000_000)  # 300: the cap
    held = club.store.member_snapshot(m.id).coupons
    assert [c["reward_id"] for c in held] == ["coffee"] and earned.balance == 300 - 100
    # Its redeem event names the coupon, which is what the cloud texts (cloud/messages/automations.py).
    redeems = [json.loads(r["payload"]) for r in club.store.query("SELECT payload FROM outbox")]
    assert [coupon_in_reason(e["reason"]) for e in redeems if e["kind"] == "redeem"] == [("coffee", held[0]["code"])]
    club.earn(m.id, 3_000_000)  # over the cap again, but the campaign's limit is one coupon per member
    assert len(club.store.member_snapshot(m.id).coupons) == 1
    with pytest.raises(ConfigError, match="reward_id = 'nothing' is not a reward"):
        club.apply_config(config(campaign("cap", "points_cap", cap_points=300, reward_id="nothing")))


def test_a_campaign_stops_once_its_budget_of_points_is_given(club):
    club.apply_config(config(campaign("gift", "bonus", bonus_points=30, budget_points=50)))
    a, b = member(club), member(club, "+989121111111")
    assert club.earn(a.id, 1_000_000).campaigns == (("gift", 30),)
    assert club.earn(b.id, 1_000_000).campaigns == (("gift", 20),)  # what the budget has left, not a point more
    assert club.earn(a.id, 1_000_000).campaigns == ()  # 50 given: spent
    with pytest.raises(ConfigError, match="budget_points = 0 is not allowed"):
        club.apply_config(config(campaign("gift", "bonus", budget_points=0)))


def test_offline_a_quote_spends_no_more_points_than_the_daily_offline_cap_leaves(club):
    club.apply_config(config(offline_daily_redeem_cap=30, max_points_percent=100))
    m = member(club)  # 100 points
    flows = build_flows(club)
    try:
        body = {"bill_rial": 500_000, "member_id": m.id}
        assert flows.till.quote(body).points == 100  # online (no cloud configured): the balance decides
        club.link = "offline"
        quote = flows.till.quote(body)
        assert (quote.points, quote.to_pay_rial) == (30, 470_000)
        flows.till.commit({"quote_id": quote.quote_id, "idempotency_key": "OFF-1", "bill_rial": 500_000})
        assert flows.till.quote(body).points == 0  # today's offline allowance is spent
    finally:
        flows.close()


def test_a_till_idempotency_key_or_refund_id_with_a_trailing_newline_is_refused_not_taken_as_another_key(club):
    from kiosk.errors import SpendRefused

    club.apply_config(config(max_points_percent=100))
    m = member(club)
    flows = build_flows(club)
    try:
        quote = flows.till.quote({"bill_rial": 500_000, "member_id": m.id})
        with pytest.raises(SpendRefused, match="idempotency_key"):
            flows.till.commit({"quote_id": quote.quote_id, "idempotency_key": "K-1\n", "bill_rial": 500_000})
        with pytest.raises(SpendRefused, match="refund_id"):
            flows.till.refund("R-1", {"refund_id": "F-1\n", "amount_rial": 1000})
        assert club.store.balance(m.id).points == 100  # nothing spent
    finally:
        flows.close()


def test_a_birthday_gift_adds_its_points_to_one_purchase_in_the_birth_month_and_says_so(club):
    gift = campaign("gift", "birthday_gift", bonus_points=500, per_member_limit=1, starts_on="2020-01-01",
                    ends_on="2099-12-31")
    gift.pop("discount_percent")  # the helper's default effect for types it does not know
    club.apply_config(config(gift, birthday_mode="month"))
    born_in_december, born_in_june = member(club, birthday="1990-12-05"), member(club, "+989121111111",
                                                                                   birthday="1990-06-05")
    earned = club.earn(born_in_december.id, 1_000_000)
    assert earned.campaigns == (("gift", 500),) and earned.row.points == 100 + 500
    assert earned.row.reason.endswith("; gift fa +500")  # the ledger keeps the shop language's name
    assert list(club.campaign_lines(earned.campaigns, "en")) == [
        {"id": "gift", "name": "gift en", "names": {"fa": "gift fa", "en": "gift en"}, "points": 500}]
    assert club.earn(born_in_december.id, 1_000_000).campaigns == ()  # one gift per member
    assert club.earn(born_in_june.id, 1_000_000).campaigns == ()  # not their month
    with pytest.raises(ConfigError, match="'birthday_gift' needs bonus_points of at least 1"):
        club.apply_config(config({**gift, "bonus_points": 0}))
    with pytest.raises(ConfigError, match="discount_percent"):
        club.apply_config(config({**gift, "discount_percent": 10}))
