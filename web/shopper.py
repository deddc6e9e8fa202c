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
from kiosk.flows.digital_card import DigitalCardsOff, issue_digital_card, token_key
from kiosk.flows.enrollment import Application, EnrollmentError
from kiosk.member_view import reward_names
from kiosk.errors import CardAlreadyBound, InsufficientPoints, OfflineRedemptionCap, RewardNotAvailable
from kiosk.receipts import ReceiptRefused
from kiosk.ui_events import UiEvent
from web.flows import flows
from web.localize import jalali_to_iso
from web.tokens import ADD_CARD, PHONE_VERIFIED, TokenError

blueprint = Blueprint("shopper", __name__, url_prefix="/api")
# A checked enrolment waiting for its first card: the member is written only together with that card.
APPLICATION = "enrol-application"


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
    f = flows()
    if f.core.on_screen is not None:
        f.core.on_screen.cleared()  # a reconcile finishing now repaints nobody
    claims = f.claims
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
    return jsonify({"reward_id": reward["id"], "name": reward["name"], "names": reward_names(reward),
                    "cost_points": reward["cost_points"]})


@blueprint.post("/rewards/redeem")
def redeem_reward() -> ResponseReturnValue:
    data = body()
    member_id = member_from(data)
    f = flows()
    try:
        coupon = coupons.redeem(f.service, member_id, str(data.get("reward_id", "")))
    except REWARD_REFUSALS as exc:
        return reward_refused(exc)
    return jsonify({"code": coupon.code, "qr": coupon.qr, "name": coupon.reward_name, "names": coupon.reward_names,
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


def birthday_from(data: dict[str, Any]) -> str | None:
    """The ISO birthday sent as ``birthday`` or picked on the Jalali keypad as ``birthday_jalali``."""
    jalali = data.get("birthday_jalali")
    if not isinstance(jalali, dict):
        return data.get("birthday") or None
    try:
        return jalali_to_iso(int(jalali["y"]), int(jalali["m"]), int(jalali["d"]))
    except (KeyError, TypeError, ValueError):
        raise EnrollmentError("birthday", "that birthday is not a date; pick day, month and year again") from None


def application_from(data: dict[str, Any], *, consent_required: bool = True) -> Application:
    """The page's answers checked (EnrollmentError names the field); nothing is written."""
    f = flows()
    birthday = birthday_from(data)
    consent = data.get("consent")
    if consent is not True and consent is not False and consent_required:
        raise EnrollmentError("consent", "answer the consent question with yes or no")
    language = str(data.get("lang") or "") or None
    if language is not None and language not in LANGUAGES:  # also keeps it within the protocol's limit
        raise EnrollmentError("lang", f"lang must be one of {', '.join(LANGUAGES)}")
    return f.enrollment.check(
        str(data.get("phone", "")), str(data.get("first_name", "")), str(data.get("last_name", "")),
        birthday=birthday, referral_code=str(data.get("referral", "")), consent=consent is True,
        language=language,
    )


@blueprint.post("/enroll/check")
def enroll_check() -> ResponseReturnValue:
    """One wizard step's answers checked as the shopper leaves it, so an error shows beside its field."""
    try:
        application_from(body(), consent_required=False)
    except EnrollmentError as exc:
        return fail(f"invalid_{exc.field}", str(exc), 422, field=exc.field)
    return jsonify({"ok": True})


@blueprint.post("/enroll")
def enroll() -> ResponseReturnValue:
    data = body()
    f = flows()
    if f.service.settings.enrollment.sms_otp and not phone_was_verified(data):
        return fail("otp_required", "confirm this phone number with the code sent to it first", 403, field="phone")
    try:
        application = application_from(data)
    except EnrollmentError as exc:
        return fail(f"invalid_{exc.field}", str(exc), 422, field=exc.field)
    pending = {"application": f.tokens.seal(APPLICATION, application.as_list()),
               "first_name": application.first_name, "bound": False, "waiting": True}
    ttl_s = f.service.settings.enrollment.timeout_s
    if not data.get("card"):
        # The reader is claimed in this same request: a card tapped while the answer is on its way binds, rather
        # than falling between "answers checked" and "now waiting for a card" as an unknown card.
        f.enrollment.await_first_card(application, ttl_s)
        return jsonify(pending)
    card_ref, tech, label = f.tokens.open("card", data["card"], f.screen_ttl_s)
    try:
        enrolled = f.enrollment.enroll_with_card(application, card_ref, tech, label)
    except CardAlreadyBound as exc:
        f.enrollment.await_first_card(application, ttl_s)
        return fail("card_taken", str(exc), 409, **pending)
    except EnrollmentError as exc:
        return fail(f"invalid_{exc.field}", str(exc), 422, field=exc.field)
    f.service.emit(UiEvent.ENROLLED, {"card": "tapped"})
    return jsonify({"bonus": enrolled.bonus_points, "first_name": enrolled.member.first_name, "bound": True})


def open_application(data: dict[str, Any]) -> Application:
    f = flows()
    try:
        return Application.from_list(f.tokens.open(APPLICATION, data.get("application"), f.screen_ttl_s))
    except (TypeError, ValueError):
        raise TokenError(expired=False) from None


@blueprint.post("/profile")
def complete_profile() -> ResponseReturnValue:
    """The member on the balance screen fills in their last name and birthday later, and picks their language;
    the bonus is paid once."""
    data = body()
    f = flows()
    member_id = member_from(data)
    try:
        birthday = birthday_from(data)
        language = data.get("language")
        profile = f.enrollment.complete_profile(member_id, str(data.get("last_name", "")), birthday,
                                                language=None if language in (None, "") else str(language))
    except EnrollmentError as exc:
        return fail(f"invalid_{exc.field}", str(exc), 422, field=exc.field)
    return jsonify({"bonus": profile.bonus_points, "points": f.service.store.balance(member_id).points})


def phone_was_verified(data: dict[str, Any]) -> bool:
    """True if ``data["verified"]`` is a code-verified token for the very number being enrolled."""
    if not data.get("verified"):
        return False
    f = flows()
    verified = f.tokens.open(PHONE_VERIFIED, data["verified"], f.screen_ttl_s)
    return verified == f.enrollment.check_phone(str(data.get("phone", ""))).phone


@blueprint.post("/enroll/await-card")
def await_card() -> ResponseReturnValue:
    """Bind the next tapped card to an existing member after a verified SMS code (a new member's application
    claims the reader in /enroll itself)."""
    f = flows()
    data = body()
    member_id = f.tokens.open(ADD_CARD, data.get("add_card"), f.screen_ttl_s)
    if data.get("card"):
        # "Join with this card" already tapped it: bind that card, no second tap.
        card_ref, tech, label = f.tokens.open("card", data["card"], f.screen_ttl_s)
        try:
            f.service.store.bind_card(member_id, card_ref, tech, label)
            f.service.emit(UiEvent.ENROLLED, {"card": "added"})
            return jsonify({"bound": True})
        except CardAlreadyBound as exc:
            answer = fail("card_taken", str(exc), 409)
            f.enrollment.await_card(member_id, f.service.settings.enrollment.timeout_s)
            return answer
    f.enrollment.await_card(member_id, f.service.settings.enrollment.timeout_s)
    return jsonify({"waiting": True})


@blueprint.post("/enroll/digital-card")
def digital_card() -> ResponseReturnValue:
    """The shopper has no plastic card: write the member with a digital card instead (never without one)."""
    f = flows()
    application = open_application(body())
    try:
        token_key(f.service)  # refuse before anything is written
        enrolled = f.enrollment.write(application)
    except DigitalCardsOff as exc:
        return fail("digital_off", str(exc), 409)
    except EnrollmentError as exc:
        return fail(f"invalid_{exc.field}", str(exc), 422, field=exc.field)
    f.claims.cancel("enroll")
    card = issue_digital_card(f.service, enrolled.member.id)
    f.service.emit(UiEvent.ENROLLED, {"card": "digital"})
    return jsonify({"qr": card.qr, "label": card.label, "bonus": enrolled.bonus_points})


@blueprint.post("/receipt")
def receipt() -> ResponseReturnValue:
    f = flows()
    try:
        found = f.receipts.check(str(body().get("code", "")))
    except ReceiptRefused as exc:
        return fail(exc.reason, str(exc), 422)
    f.receipts.await_card(found, f.service.settings.web.idle_timeout_s * 3)
    return jsonify({"amount_rial": found.amount_rial, "points": f.receipts.base_points(found)})


@blueprint.post("/receipt/phone")
def receipt_by_phone() -> ResponseReturnValue:
    """"Forgot your card?": the scanned receipt's points go to the member with this phone number.

    A typed number proves nothing about who is at the screen, so the answer names nobody and shows no balance;
    it only adds points (never spends them), and the ledger's unique receipt id still earns each receipt once.
    """
    data = body()
    f = flows()
    try:
        found = f.receipts.check(str(data.get("code", "")))
    except ReceiptRefused as exc:
        return fail(exc.reason, str(exc), 422)
    try:
        member_id = f.enrollment.check_phone(str(data.get("phone", ""))).member_id
    except EnrollmentError as exc:
        return fail("invalid_phone", str(exc), 422, field="phone")
    try:
        points = f.receipts.claim_by_phone(found, member_id)
    except ReceiptRefused as exc:
        return fail(exc.reason, str(exc), 404 if exc.reason == "no_member" else 409)
    return jsonify({"points_earned": points})
