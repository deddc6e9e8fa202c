"""JSON actions of the shopper screens (redeem, enrol, receipt claim, reset); CSRF-protected POSTs only.

Errors answer ``{"error": code, "message": text}``: the page shows its own
translation of ``code`` and the English message goes to the log/tests.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from kiosk.config import LANGUAGES
from kiosk.flows import coupons
from kiosk.flows.digital_card import DigitalCardsOff, issue_digital_card
from kiosk.flows.enrollment import EnrollmentError
from kiosk.errors import CardAlreadyBound, InsufficientPoints, OfflineRedemptionCap, RewardNotAvailable
from kiosk.receipts import ReceiptRefused
from web.flows import flows
from web.localize import jalali_to_iso
from web.tokens import ADD_CARD, PHONE_VERIFIED, TokenError

blueprint = Blueprint("shopper", __name__, url_prefix="/api")


def fail(code: str, message: str, status: int = 400, **extra: Any) -> ResponseReturnValue:
    return jsonify({"error": code, "message": message, **extra}), status


def body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


@blueprint.errorhandler(TokenError)
def token_error(exc: TokenError) -> ResponseReturnValue:
    return fail("timed_out" if exc.expired else "bad_token", str(exc), 403)


def member_from(data: dict[str, Any], key: str = "session") -> str:
    f = flows()
    return f.tokens.open("member", data.get(key), f.screen_ttl_s)


@blueprint.post("/reset")
def reset() -> ResponseReturnValue:
    """The page went back to the attract loop: release a card claim it started (a POS purchase stays)."""
    claims = flows().claims
    owner = claims.owner()
    if owner in ("enroll", "receipt"):
        claims.cancel(owner)
    return jsonify({"ok": True})


REWARD_REFUSALS = (InsufficientPoints, RewardNotAvailable, OfflineRedemptionCap)


def reward_refused(exc: Exception) -> ResponseReturnValue:
    """Why a reward cannot be had, in the shape the page shows before anything is confirmed."""
    if isinstance(exc, InsufficientPoints):
        return fail("insufficient_points", str(exc), 409, needed=exc.needed, available=exc.available)
    if isinstance(exc, RewardNotAvailable):
        return fail(f"reward_{exc.reason}", str(exc), 409, detail=exc.detail)
    assert isinstance(exc, OfflineRedemptionCap)
    return fail("offline_cap", str(exc), 409, available=exc.allowance, needed=exc.cap)


@blueprint.post("/rewards/check")
def check_reward() -> ResponseReturnValue:
    data = body()
    member_id = member_from(data)
    f = flows()
    try:
        f.service.settle(member_id)
        reward = coupons.check_affordable(f.service, member_id, str(data.get("reward_id", "")))
    except REWARD_REFUSALS as exc:
        return reward_refused(exc)
    return jsonify({"reward_id": reward["id"], "name": reward["name"], "cost_points": reward["cost_points"]})


@blueprint.post("/rewards/redeem")
def redeem_reward() -> ResponseReturnValue:
    data = body()
    member_id = member_from(data)
    f = flows()
    try:
        coupon = coupons.redeem(f.service, member_id, str(data.get("reward_id", "")))
    except REWARD_REFUSALS as exc:
        return reward_refused(exc)
    return jsonify({"code": coupon.code, "qr": coupon.qr, "name": coupon.reward_name,
                    "cost_points": coupon.cost_points, "balance": coupon.balance})


@blueprint.post("/enroll/phone")
def enroll_phone() -> ResponseReturnValue:
    f = flows()
    try:
        check = f.enrollment.check_phone(str(body().get("phone", "")))
    except EnrollmentError as exc:
        return fail("invalid_phone", str(exc), 422, field=exc.field)
    # No name and no member token for an existing number: knowing someone's phone number must neither reveal
    # who they are nor let a card be added to their membership (that would hand over their points). Staff add
    # cards at the counter.
    return jsonify({"existing": check.member_id is not None, "sms_otp": f.service.settings.enrollment.sms_otp})


@blueprint.post("/enroll")
def enroll() -> ResponseReturnValue:
    data = body()
    f = flows()
    birthday = data.get("birthday") or None
    jalali = data.get("birthday_jalali")
    try:
        if isinstance(jalali, dict):
            try:
                birthday = jalali_to_iso(int(jalali["y"]), int(jalali["m"]), int(jalali["d"]))
            except (KeyError, TypeError, ValueError):
                raise EnrollmentError("birthday", "that birthday is not a date; pick day, month and year again")
        if data.get("consent") is not True and data.get("consent") is not False:
            raise EnrollmentError("consent", "answer the consent question with yes or no")
        language = data.get("lang") or None
        if language is not None and language not in LANGUAGES:  # also keeps it within the protocol's limit
            raise EnrollmentError("lang", f"lang must be one of {', '.join(LANGUAGES)}")
        if f.service.settings.enrollment.sms_otp and not phone_was_verified(data):
            return fail("otp_required", "confirm this phone number with the code sent to it first", 403,
                        field="phone")
        enrolled = f.enrollment.enroll(
            str(data.get("phone", "")), str(data.get("first_name", "")), str(data.get("last_name", "")),
            birthday=birthday, referral_code=str(data.get("referral", "")), consent=data["consent"],
            language=language,
        )
    except EnrollmentError as exc:
        return fail(f"invalid_{exc.field}", str(exc), 422, field=exc.field)
    answer: dict[str, Any] = {"member": f.tokens.seal("member", enrolled.member.id), "bonus": enrolled.bonus_points,
                              "first_name": enrolled.member.first_name, "bound": False}
    if data.get("card"):
        card_ref, tech, label = f.tokens.open("card", data["card"], f.screen_ttl_s)
        try:
            f.service.store.bind_card(enrolled.member.id, card_ref, tech, label)
            answer["bound"] = True
        except CardAlreadyBound as exc:
            return fail("card_taken", str(exc), 409, **answer)
    return jsonify(answer)


def phone_was_verified(data: dict[str, Any]) -> bool:
    """True if ``data["verified"]`` is a code-verified token for the very number being enrolled."""
    if not data.get("verified"):
        return False
    f = flows()
    verified = f.tokens.open(PHONE_VERIFIED, data["verified"], f.screen_ttl_s)
    return verified == f.enrollment.check_phone(str(data.get("phone", ""))).phone


@blueprint.post("/enroll/await-card")
def await_card() -> ResponseReturnValue:
    """Bind the next tap to a member just enrolled here, or to an existing member after a verified SMS code."""
    f = flows()
    data = body()
    if data.get("add_card"):
        member_id = f.tokens.open(ADD_CARD, data["add_card"], f.screen_ttl_s)
        if data.get("card"):
            # "Join with this card" already tapped it: bind that card, no second tap.
            card_ref, tech, label = f.tokens.open("card", data["card"], f.screen_ttl_s)
            try:
                f.service.store.bind_card(member_id, card_ref, tech, label)
                return jsonify({"bound": True})
            except CardAlreadyBound as exc:
                answer = fail("card_taken", str(exc), 409)
                f.enrollment.await_card(member_id, f.service.settings.web.idle_timeout_s * 3)
                return answer
    else:
        member_id = member_from(data, "member")
    f.enrollment.await_card(member_id, f.service.settings.web.idle_timeout_s * 3)
    return jsonify({"waiting": True})


@blueprint.post("/enroll/digital-card")
def digital_card() -> ResponseReturnValue:
    f = flows()
    member_id = member_from(body(), "member")
    try:
        card = issue_digital_card(f.service, member_id)
    except DigitalCardsOff as exc:
        return fail("digital_off", str(exc), 409)
    return jsonify({"qr": card.qr, "label": card.label})


@blueprint.post("/receipt")
def receipt() -> ResponseReturnValue:
    f = flows()
    try:
        found = f.receipts.check(str(body().get("code", "")))
    except ReceiptRefused as exc:
        return fail(exc.reason, str(exc), 422)
    f.receipts.await_card(found, f.service.settings.web.idle_timeout_s * 3)
    return jsonify({"amount_rial": found.amount_rial, "points": f.receipts.base_points(found)})
