"""The member's own language at their tap: the page asks to show a member's balance in the language the member
chose, reloads itself in it, and fetches that balance once. Which member rides the reload in this page's own
(signed) session for a few seconds; the page's URL and storage never hold it. CSRF-protected POSTs only."""
from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, jsonify, session
from flask.typing import ResponseReturnValue

from kiosk.config import LANGUAGES
from kiosk.ui_events import UiEvent
from web.flows import flows
from web.shopper import body, fail, member_from
from web.tokens import TokenError

blueprint = Blueprint("member_language", __name__, url_prefix="/api/member")
AGAIN = "member-again"
# Long enough for a reload on a Pi, short enough that nobody else's tap finds it: the page clears the screen
# after its idle timeout anyway.
AGAIN_TTL_S = 30
MAX_WINS = 10
MAX_WINS_BYTES = 2000


@blueprint.errorhandler(TokenError)
def token_error(exc: TokenError) -> ResponseReturnValue:
    return fail("timed_out" if exc.expired else "bad_token", str(exc), 403)


@blueprint.post("/language")
def switch() -> ResponseReturnValue:
    """The member on screen chose another language than the page's: keep them for the reload into it."""
    data = body()
    f = flows()
    member_id = member_from(data)
    language = f.service.store.member(member_id).language
    if language not in LANGUAGES:
        return fail("no_language", "this member has not chosen a screen language", 409)
    label = data.get("card_label")
    wins = data.get("draw_wins") or []
    if not isinstance(wins, list) or len(wins) > MAX_WINS or not all(isinstance(w, dict) for w in wins) \
            or len(json.dumps(wins)) > MAX_WINS_BYTES:  # it rides in the session cookie
        return fail("bad_request", f"draw_wins must be a list of at most {MAX_WINS} objects, "
                    f"{MAX_WINS_BYTES} bytes in all")
    # A draw win is told once, at the tap that is being moved to another language: it moves with it.
    session[AGAIN] = f.tokens.seal(AGAIN, [member_id, label if isinstance(label, str) else "", wins])
    return jsonify({"lang": language})


@blueprint.post("/again")
def again() -> ResponseReturnValue:
    """The balance the page reloaded for, read afresh, once; ``member`` null when none waits (or it expired)."""
    token = session.pop(AGAIN, None)
    if token is None:
        return jsonify({"member": None})
    f = flows()
    try:
        member_id, label, wins = f.tokens.open(AGAIN, token, AGAIN_TTL_S)
    except (TokenError, TypeError, ValueError):
        return jsonify({"member": None})
    screen: dict[str, Any] = {**f.service.summary(member_id), "card_label": label or None}
    if wins:
        screen["draw_wins"] = wins
    return jsonify({"member": f.decorate(UiEvent.MEMBER, screen)})
