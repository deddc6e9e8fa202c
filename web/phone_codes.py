"""The enrolment wizard's one-time SMS code step (``[enrollment] sms_otp = true``); CSRF-protected JSON POSTs.

A verified code is what lets a shopper act on a phone number: the answer is a sealed token, either
``phone-verified`` (a new enrolment for exactly that number) or ``add-card`` (bind the next tapped card to
the member who owns the number). Without one, an existing number only gets "ask staff at the counter".
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, jsonify, make_response, request
from flask.typing import ResponseReturnValue

from kiosk.flows.enrollment import EnrollmentError, PhoneCheck
from kiosk.errors import CodesRateLimited, CodesUnavailable
from kiosk.flows.phone_codes import PhoneCodeService
from kiosk.protocol import is_otp_code, otp_purpose
from web.flows import flows
from web.shopper import fail, token_error
from web.tokens import ADD_CARD, PHONE_VERIFIED, TokenError

blueprint = Blueprint("phone_codes", __name__, url_prefix="/api/enroll/code")
blueprint.register_error_handler(TokenError, token_error)

_VERDICT_STATUS = {"wrong": 422, "expired": 410, "locked": 423}


def _phone() -> PhoneCheck:
    data = request.get_json(silent=True)
    return flows().enrollment.check_phone(str((data if isinstance(data, dict) else {}).get("phone", "")))


def _codes() -> PhoneCodeService | None:
    return flows().codes if flows().service.settings.enrollment.sms_otp else None


def _unavailable(check: PhoneCheck, exc: Exception) -> ResponseReturnValue:
    # Adding a card cannot fall back to anything on this screen: staff at the counter can do it.
    code = "otp_unavailable_add_card" if check.member_id else "otp_unavailable"
    return fail(code, str(exc), 503)


def _ready() -> tuple[PhoneCheck, PhoneCodeService]:
    """The checked phone number and the code service; otherwise the request ends with the reason."""
    try:
        check = _phone()
    except EnrollmentError as exc:
        abort(make_response(fail("invalid_phone", str(exc), 422, field=exc.field)))
    codes = _codes()
    if codes is None:
        abort(make_response(fail("otp_off", "one-time codes are not enabled at this kiosk ([enrollment] sms_otp)", 409)))
    return check, codes


@blueprint.post("/send")
def send() -> ResponseReturnValue:
    check, codes = _ready()
    try:
        codes.send(check.phone, otp_purpose(check.member_id is not None))
    except CodesRateLimited as exc:
        return fail("otp_rate_limited", str(exc), 429)
    except CodesUnavailable as exc:
        return _unavailable(check, exc)
    return jsonify({"sent": True, "existing": check.member_id is not None})


@blueprint.post("/verify")
def verify() -> ResponseReturnValue:
    check, codes = _ready()
    data = request.get_json(silent=True)
    code = str((data if isinstance(data, dict) else {}).get("code", ""))
    if not is_otp_code(code):
        return fail("otp_format", "the code has 6 digits", 422)
    try:
        verdict = codes.check(check.phone, otp_purpose(check.member_id is not None), code)
    except CodesUnavailable as exc:
        return _unavailable(check, exc)
    if verdict.result != "ok":
        return fail(f"otp_{verdict.result}", f"the code is {verdict.result}", _VERDICT_STATUS[verdict.result],
                    attempts_left=verdict.attempts_left)
    tokens = flows().tokens
    answer: dict[str, Any] = {"ok": True, "existing": check.member_id is not None}
    if check.member_id:
        answer["add_card"] = tokens.seal(ADD_CARD, check.member_id)
    else:
        answer["verified"] = tokens.seal(PHONE_VERIFIED, check.phone)
    return jsonify(answer)
