"""Staff mode's member tasks beyond cards and points: today's activity, and "stop text messages"."""
from __future__ import annotations

from flask import Blueprint
from flask.typing import ResponseReturnValue

from kiosk.errors import UnknownMember
from kiosk.flows import staff_tasks
from web.flows import flows
from web.shopper import body, fail
from web.staff_views import answer, staff_id, token_error
from web.tokens import TokenError

blueprint = Blueprint("staff_tasks", __name__, url_prefix="/staff/api")
blueprint.register_error_handler(TokenError, token_error)


@blueprint.post("/today")
def today() -> ResponseReturnValue:
    staff = staff_id()
    return answer(staff, {"activity": staff_tasks.today_activity(flows().service)})


@blueprint.post("/consent/withdraw")
def withdraw() -> ResponseReturnValue:
    staff = staff_id()
    try:
        withdrawn = staff_tasks.withdraw_consent(flows().service, str(body().get("member_id", "")), staff)
    except UnknownMember as exc:
        return fail("no_member", str(exc), 404)
    return answer(staff, {"withdrawn": withdrawn})
