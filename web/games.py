"""JSON actions of the draw and game screens (kiosk.flows.engagement); CSRF-protected POSTs, like shopper.py."""
from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from kiosk.errors import EngagementRefused, InsufficientPoints
from kiosk.flows.engagement import EngagementDesk
from web.flows import flows
from web.shopper import body, fail, member_from

blueprint = Blueprint("games", __name__, url_prefix="/api/engagement")


def desk() -> EngagementDesk:
    built = flows().core.engagement
    assert built is not None, "build_flows always builds the engagement desk"
    return built


@blueprint.errorhandler(InsufficientPoints)
def too_few_points(exc: InsufficientPoints) -> ResponseReturnValue:
    return fail("insufficient_points", str(exc), 409, needed=exc.needed, available=exc.available)


@blueprint.errorhandler(EngagementRefused)
def refused(exc: EngagementRefused) -> ResponseReturnValue:
    return fail(exc.reason, str(exc), 400 if exc.reason in ("bad_request", "bad_count") else 409)


@blueprint.post("/offers")
def offers() -> ResponseReturnValue:
    return jsonify(desk().offers(member_from(body())))


@blueprint.post("/draws/enter")
def enter_draw() -> ResponseReturnValue:
    data = body()
    bought = desk().buy_entries(member_from(data), data.get("draw_id"), data.get("count", 1), data.get("key"))
    return jsonify({"draw_id": bought["draw_id"], "entries": bought["entries"], "points": bought["points"],
                    "balance": bought["balance"], "total": bought["total"], "repeat": not bought["applied"]})


@blueprint.post("/games/play")
def play_game() -> ResponseReturnValue:
    data = body()
    return jsonify(desk().play(member_from(data), data.get("game_id"), data.get("play_id"),
                               earned=data.get("earned") is True))
