"""The kiosk flows behind the screens, on a real running kiosk (store, service, pty reader), without a browser."""
from __future__ import annotations

import queue
import time

import pytest

from drivers import rdm6300
from kiosk.flows import coupons
from kiosk.flows.enrollment import Enrollment, EnrollmentError
from kiosk.errors import RewardNotAvailable
from kiosk.flows.till import PosTill
from kiosk.flows.staff import StaffDesk, StaffError
from kiosk.flows.claims import TapClaims
from tests.conftest import wait_until
from web.tokens import TokenError, Tokens


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def events(service) -> "queue.Queue[tuple[str, dict]]":
    q: queue.Queue = queue.Queue()
    service.subscribe(lambda name, payload: q.put((name, payload)))
    return q


def next_event(q, *names: str, timeout: float = 5.0) -> tuple[str, dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            name, payload = q.get(timeout=0.1)
        except queue.Empty:
            continue
        if name in names:
            return name, payload
    raise AssertionError(f"no {names} event within {timeout}s")


def tap(runtime, uid: str) -> None:
    wait_until(lambda: runtime.service.reader_status.get("counter"), what="the emulated reader")
    runtime.emulators["counter"].write(rdm6300.encode_frame(uid))


def test_an_unclaimed_pos_purchase_expires_and_releases_the_reader(runtime):
    clock = Clock()
    claims = TapClaims(runtime.service, monotonic=clock)
    till = PosTill(runtime.service, claims, pending_timeout_s=30)
    ui = events(runtime.service)
    purchase, created = till.post("EXP-1", 1_000_000)
    assert created and purchase.state == "pending" and claims.owner() == "pos:EXP-1"
    clock.now += 31
    assert till.status("EXP-1").state == "expired"
    assert next_event(ui, "pos_result")[1] == {"state": "expired", "detail": "no card was tapped in time"}
    assert claims.owner() is None


def test_a_newer_claim_replaces_the_older_one_and_a_tap_goes_to_it_once(runtime):
    claims = TapClaims(runtime.service)
    got: list[str] = []
    claims.claim("first", lambda t: got.append("first") or True, 60)
    claims.claim("second", lambda t: got.append("second") or True, 60)
    ui = events(runtime.service)
    tap(runtime, "0A0A0A0A0A")
    wait_until(lambda: got, what="the claim to take the tap")
    assert got == ["second"] and claims.owner() is None
    tap(runtime, "0B0B0B0B0B")  # the next tap is a normal tap again
    assert next_event(ui, "unknown_card", "member")[0] == "unknown_card"


def test_a_referral_code_gives_both_members_their_bonus(runtime):
    service = runtime.service
    friend = service.enroll("+989120000001", "Dara")
    enrollment = Enrollment(service, TapClaims(service))
    before = service.store.balance(friend.id).points
    joined = enrollment.enroll("09120000002", "Yas", "Tehrani", birthday="1990-05-01",
                               referral_code=friend.referral_code.lower(), consent=True)
    rules = service.rules
    assert joined.bonus_points == rules.enrollment_bonus + rules.profile_completion_bonus + rules.referred_bonus
    assert service.store.balance(joined.member.id).points == joined.bonus_points
    assert service.store.balance(friend.id).points == before + rules.referral_bonus
    assert joined.member.referred_by == friend.id
    with pytest.raises(EnrollmentError) as err:
        enrollment.enroll("09120000003", "Nima", referral_code="NOPE1234")
    assert err.value.field == "referral"
    assert service.store.member_by_phone("+989120000003") is None  # a bad code saves nothing


def test_names_with_digits_and_impossible_birthdays_are_refused_with_the_field_named(runtime):
    enrollment = Enrollment(runtime.service, TapClaims(runtime.service))
    for kwargs, field in [({"first_name": "R2D2"}, "first_name"), ({"first_name": " "}, "first_name"),
                          ({"first_name": "Ava", "birthday": "2999-01-01"}, "birthday"),
                          ({"first_name": "Ava", "birthday": "1990-02-30"}, "birthday")]:
        with pytest.raises(EnrollmentError) as err:
            enrollment.enroll("09120000009", **kwargs)
        assert err.value.field == field
    assert runtime.service.store.member_by_phone("+989120000009") is None


def test_a_reward_with_a_per_member_limit_is_refused_the_second_time_and_nothing_is_debited(runtime):
    service = runtime.service
    member = service.enroll("+989120000010", "Sami")
    service.earn(member.id, 50_000_000)
    service.store.upsert_reward("mug", "Club mug", 100, per_member_limit=1)
    coupon = coupons.redeem(service, member.id, "mug")
    balance = service.store.balance(member.id).points
    assert coupon.balance == balance
    with pytest.raises(RewardNotAvailable) as err:
        coupons.redeem(service, member.id, "mug")
    assert err.value.reason == "member_limit"
    assert service.store.balance(member.id).points == balance
    locked = {o["id"]: o for o in service.summary(member.id)["locked_rewards"]}
    assert locked["mug"]["blockers"] == ["member_limit"]


def test_a_staff_adjustment_needs_a_reason_and_records_the_staff_id(runtime):
    service = runtime.service
    member = service.enroll("+989120000020", "Tara")
    desk = StaffDesk(service, TapClaims(service))
    with pytest.raises(StaffError, match="reason"):
        desk.adjust(member.id, 10, "  ", "maryam")
    with pytest.raises(StaffError, match="whole number"):
        desk.adjust(member.id, 0, "goodwill", "maryam")
    balance = desk.adjust(member.id, 10, "goodwill gesture", "maryam")
    row = service.store.history(member.id, limit=1)[0]
    assert (row.kind, row.points, row.staff_id, balance) == ("adjust", 10, "maryam", service.store.balance(member.id).points)


def test_a_screen_or_staff_token_expires_and_a_forged_one_is_refused():
    tokens = Tokens(b"s" * 32)
    sealed = tokens.seal("staff", "maryam")
    sealed_by = int(time.time())  # itsdangerous stamps whole seconds of time.time(), at most this one
    assert tokens.open("staff", sealed, 60) == "maryam"
    with pytest.raises(TokenError) as err:
        tokens.open("member", sealed, 60)  # a staff token is not a member token
    assert not err.value.expired
    # Tokens takes no clock: the condition is the stamp's second being over, so the token is at least a second old.
    wait_until(lambda: int(time.time()) > sealed_by, what="the token's second to be over")
    with pytest.raises(TokenError) as err:
        tokens.open("staff", sealed, 0)
    assert err.value.expired


def test_a_member_payload_leaves_the_server_with_a_sealed_session_instead_of_the_member_id(runtime):
    flows = runtime.app.extensions["kiosk_flows"]
    member = runtime.service.enroll("+989120000030", "Omid")
    payload = flows.decorate("member", runtime.service.summary(member.id))
    assert "member_id" not in payload and member.id not in str(payload)
    assert flows.tokens.open("member", payload["session"], 60) == member.id
    assert set(payload["recent"][0]["dates"]) == {"fa", "ar", "en"}


def test_offline_a_reward_above_the_daily_cap_is_refused_before_confirming_and_online_it_is_not(runtime):
    from kiosk.errors import OfflineRedemptionCap

    service = runtime.service
    member = service.enroll("+989120000040", "Mani")
    service.earn(member.id, 200_000_000)
    service.store.upsert_reward("bike", "Bicycle", service.rules.offline_daily_redeem_cap + 1)
    service.link = "offline"
    try:
        with pytest.raises(OfflineRedemptionCap):
            coupons.check_affordable(service, member.id, "bike")
        service.link = "online"
        assert coupons.check_affordable(service, member.id, "bike")["id"] == "bike"
    finally:
        service.link = None
