"""Staff mode: PIN or staff card, device status, block a lost card and move the member, add a card to a member
who has none, adjust points. Refusals carry a code the screen translates; the English message is for the log."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from kiosk.errors import KioskError, StoreError, UnknownMember
from kiosk.phones import InvalidPhone
from kiosk.protocol import text_problem
from kiosk.flows.staff import StaffError, StaffLocked, WrongPin
from web.flows import flows
from web.shopper import body, fail
from web.tokens import TokenError

blueprint = Blueprint("staff", __name__, url_prefix="/staff/api")


@blueprint.errorhandler(TokenError)
def token_error(exc: TokenError) -> ResponseReturnValue:
    return fail("staff_timed_out", "staff mode timed out; sign in again", 401)


def staff_id() -> str:
    f = flows()
    return f.tokens.open("staff", request.headers.get("X-Staff-Token"), f.service.settings.staff.timeout_s)


def answer(staff: str, data: dict[str, Any]) -> ResponseReturnValue:
    """Every answer carries a fresh token: staff mode times out after timeout_s without any action."""
    return jsonify({**data, "token": flows().tokens.seal("staff", staff)})


@blueprint.post("/pin")
def pin() -> ResponseReturnValue:
    f = flows()
    if not f.service.secrets.staff_pin_hash:
        # No PIN can be right, so no attempt is counted toward the lockout: staff sign in with a staff card.
        return fail("no_pin", "no staff PIN is configured on this kiosk; use a staff card", 409)
    try:
        f.pin_lock.check(str(body().get("pin", "")), f.service.secrets.staff_pin_hash)
    except StaffLocked as exc:
        return fail("locked", str(exc), 423, locked_until=exc.until.isoformat())
    except WrongPin as exc:
        return fail("wrong_pin", str(exc), 401, attempts_left=exc.attempts_left)
    return answer("pin", {"staff_id": "pin"})


@blueprint.post("/card")
def card() -> ResponseReturnValue:
    """The token for a staff card tapped just now: never sent over Socket.IO, fetched once by the page."""
    staff = flows().take_staff_entry()
    if staff is None:
        return fail("no_staff_card", "no staff card was tapped just now; tap it again", 401)
    return answer(staff, {"staff_id": staff})


@blueprint.post("/status")
def status() -> ResponseReturnValue:
    staff = staff_id()
    f = flows()
    data = f.desk.status(last_sync=f.link_status.get("last_success_at"))
    data["link"] = f.service.link or "none"  # "none": no cloud configured
    return answer(staff, data)


@blueprint.post("/member")
def member() -> ResponseReturnValue:
    staff = staff_id()
    try:
        view = flows().desk.find_member(str(body().get("phone", "")))
    except (InvalidPhone, UnknownMember) as exc:
        return fail("no_member", str(exc), 404)
    # Staff offer "stop text messages" only to a member who said yes to them.
    consented = flows().service.store.member(view.id).consent_version is not None
    return answer(staff, {"member": {**view.__dict__, "sms_consent": consented}})


@blueprint.post("/block")
def block() -> ResponseReturnValue:
    staff = staff_id()
    data = body()
    f = flows()
    try:
        f.desk.block_card(str(data.get("member_id", "")), str(data.get("card_ref", "")), staff)
        f.desk.await_new_card(str(data.get("member_id", "")), f.service.settings.staff.timeout_s)
    except StaffError as exc:
        return fail(exc.code, str(exc), 409)
    except StoreError:
        raise  # a full disk answers 503 with its reason (web.json_errors), not "that did not work"
    except KioskError as exc:
        return fail("staff_error", str(exc), 409)
    return answer(staff, {"blocked": True, "waiting_for_new_card": True})


@blueprint.post("/add-card")
def add_card() -> ResponseReturnValue:
    """The next tap becomes one more card of the member (e.g. one who joined without a card)."""
    staff = staff_id()
    f = flows()
    member_id = str(body().get("member_id", ""))
    try:
        f.service.store.member(member_id)
    except UnknownMember as exc:
        return fail("no_member", str(exc), 404)
    f.desk.await_new_card(member_id, f.service.settings.staff.timeout_s)
    return answer(staff, {"waiting_for_new_card": True})


@blueprint.post("/adjust")
def adjust() -> ResponseReturnValue:
    staff = staff_id()
    data = body()
    try:
        points = int(data.get("points"))
    except (TypeError, ValueError):
        return fail("staff_points", "points must be a whole number such as 50 or -50", 422)
    problem = text_problem("reason", str(data.get("reason", "")))
    if problem:
        return fail("staff_reason", problem, 422, field="reason")
    try:
        balance = flows().desk.adjust(str(data.get("member_id", "")), points, str(data.get("reason", "")), staff)
    except StaffError as exc:
        return fail(exc.code, str(exc), 422)
    except UnknownMember as exc:
        return fail("no_member", str(exc), 404)
    except StoreError:
        raise  # a full disk answers 503 with its reason (web.json_errors), not "that did not work"
    except KioskError as exc:
        return fail("staff_error", str(exc), 409)
    return answer(staff, {"balance": balance})


@blueprint.post("/leave")
def leave() -> ResponseReturnValue:
    staff_id()  # only staff mode may end staff mode's card claim (a bad or missing token: 401)
    flows().claims.cancel("staff-card")
    return jsonify({"ok": True})
