"""A survey at the kiosk: which one to offer a member on the balance screen, and recording their answers.

The chain's surveys come with the branch config (service.surveys); who is offered one and what an answer may
hold are kiosk.rules.surveys; the store writes the answer, its reward and their outbox events in one transaction.
"""
from __future__ import annotations

import uuid
from dataclasses import replace
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from kiosk.member_view import tier_progress
from kiosk.rules.ledger import LedgerKind
from kiosk.rules.segments import rfm
from kiosk.rules.surveys import AnswerRefused, Shopper, Survey, check_answers, offer
from kiosk.clock import parse_iso
from kiosk.service import KioskService
from kiosk.store.engagement import AnswerRecorded

# A purchase this recent, at this kiosk, makes "after a purchase" surveys count (the balance screen after a
# till earn or a receipt claim comes seconds later; a tap the next day is not "after a purchase").
JUST_BOUGHT = timedelta(minutes=10)


class SurveyDesk:
    def __init__(self, service: KioskService,
                 free_entries: Callable[[str, str, str], list[dict[str, Any]]] | None = None) -> None:
        self._service = service
        # EngagementDesk.free_entries: the draws' free entries for an answered survey, once per answer id.
        self._free_entries = free_entries

    def offer(self, member_id: str, language: str | None) -> dict[str, Any] | None:
        """The survey to offer this member now, as the page shows it, or None."""
        service = self._service
        surveys = service.surveys
        if not surveys:
            return None
        snapshot = service.store.member_snapshot(member_id)
        now = service.now()
        segment = "new"
        if any(s.target == "segment" for s in surveys):
            segment = rfm(snapshot.entries, now, service.segments,
                          enrolled_at=parse_iso(snapshot.member.created_at)).segment
        bought = any(r.kind == LedgerKind.EARN and r.device_id == service.store.device_id
                     and now - parse_iso(r.created_at) <= JUST_BOUGHT for r in snapshot.history[:5])
        who = Shopper(tier_progress(snapshot, now, service.rules).tier.name, segment,
                      service.settings.device.branch, bought)
        found = offer(surveys, who, service.store.surveys_answered(member_id))
        return None if found is None else found.for_screen(language)

    def survey(self, survey_id: str) -> Survey:
        found = next((s for s in self._service.surveys if s.survey_id == survey_id and s.active), None)
        if found is None:
            raise AnswerRefused("survey", f"survey {survey_id!r} is not running here (any more)")
        return found

    def answer(self, member_id: str, survey_id: str, answer_id: str, answers: Any,
               language: str | None) -> AnswerRecorded:
        """Record the answers once; AnswerRefused or AlreadyAnswered say why not, and nothing is written then."""
        try:
            answer_id = str(uuid.UUID(str(answer_id)))
        except ValueError:
            raise AnswerRefused("answer_id", "answer_id must be a UUID chosen by the page") from None
        survey = self.survey(survey_id)
        clean = check_answers(survey, answers)
        recorded = self._service.store.record_survey_answer(answer_id, member_id, survey.survey_id, clean,
                                                            reward_points=survey.reward_points, language=language)
        if self._free_entries is not None:
            # Also on a resend: a kiosk that died between the answer and its entries gives them now (keyed by
            # the answer id, so never twice).
            given = self._free_entries(member_id, "survey", answer_id)
            recorded = replace(recorded, free_entries=sum(e["entries"] for e in given))
        return recorded
