"""JSON actions of the survey and complaint screens (issue 14); CSRF-protected POSTs, like web/shopper.py.

Errors answer ``{"error": code, "message": text}``; the page shows its own translation of ``code``.
"""
from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from kiosk.clock import parse_iso
from kiosk.config import LANGUAGES
from kiosk.errors import CasesRateLimited, CasesUnavailable
from kiosk.rules.complaints import MAX_TEXT, ComplaintRefused
from kiosk.rules.surveys import AlreadyAnswered, AnswerRefused
from web.flows import flows
from web.localize import format_all
from web.shopper import body, fail, member_from, token_error
from web.tokens import TokenError

blueprint = Blueprint("engagement", __name__, url_prefix="/api")
blueprint.register_error_handler(TokenError, token_error)  # a timed-out or forged screen token, as for the shopper


def language(data: dict) -> str | None:
    lang = data.get("lang")
    return lang if lang in LANGUAGES else None


@blueprint.post("/surveys/offer")
def survey_offer() -> ResponseReturnValue:
    """The survey the balance screen may offer this member (null for none); the page asks after painting."""
    data = body()
    member_id = member_from(data)
    return jsonify({"survey": flows().core.surveys.offer(member_id, language(data))})


@blueprint.post("/surveys/answer")
def survey_answer() -> ResponseReturnValue:
    data = body()
    member_id = member_from(data)
    f = flows()
    try:
        recorded = f.core.surveys.answer(member_id, str(data.get("survey_id", "")), str(data.get("answer_id", "")),
                                         data.get("answers"), language(data))
    except AlreadyAnswered as exc:
        return fail("already_answered", str(exc), 409)
    except AnswerRefused as exc:
        return fail("invalid_answer", str(exc), 422, field=exc.field)
    return jsonify({"reward_points": recorded.reward_points, "balance": recorded.balance, "repeat": recorded.repeat,
                    "free_entries": recorded.free_entries})


@blueprint.post("/complaints/subjects")
def complaint_subjects() -> ResponseReturnValue:
    return jsonify({"subjects": flows().core.complaints.subjects(language(body())), "max_text": MAX_TEXT})


@blueprint.post("/complaints")
def complaint_file() -> ResponseReturnValue:
    data = body()
    try:
        filed = flows().core.complaints.file(str(data.get("phone", "")), str(data.get("subject", "")),
                                             data.get("text"), str(data.get("request_key", "")), language(data))
    except ComplaintRefused as exc:
        return fail(exc.code, str(exc), 422, field=exc.field, max_text=MAX_TEXT)
    return jsonify({"code": filed.code, "repeat": filed.repeat})


@blueprint.post("/complaints/lookup")
def complaint_lookup() -> ResponseReturnValue:
    """A case's state and the chain's answer; a wrong code and a wrong phone get the same ``found: false``."""
    data = body()
    f = flows()
    try:
        case = f.core.complaints.lookup(data.get("code"), data.get("phone_last4"))
    except ComplaintRefused as exc:
        return fail(exc.code, str(exc), 422, field=exc.field)
    except CasesRateLimited as exc:
        return fail("lookup_rate_limited", str(exc), 429, retry_after=exc.retry_after_s)
    except CasesUnavailable as exc:
        return fail("lookup_offline", str(exc), 503)
    if case is None:
        return jsonify({"found": False})
    dates = format_all(parse_iso(case["updated_at"]), f.service.settings.web.calendar) if case.get("updated_at") else {}
    return jsonify({"found": True, "state": case["state"], "subject": case["subject"], "answer": case["answer"] or "",
                    "dates": dates})
