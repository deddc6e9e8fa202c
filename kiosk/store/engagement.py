"""The store's survey answers and complaints (issue 14), each written with its outbox event in one transaction.

A mixin of :class:`kiosk.store.database.Store`, which supplies ``write``, ``query``, ``_enqueue``, ``_append``,
``_clock`` and ``device_id``. Both writes are keyed by an id the page chose before sending, so a resend after a
crash or a lost reply finds the first write instead of making a second one: nothing is paid or filed twice.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from kiosk.clock import iso
from kiosk.rules.ledger import LedgerKind
from kiosk.rules.surveys import AlreadyAnswered, reward_reason, reward_receipt_id
from kiosk.store.records import LedgerRow


@dataclass(frozen=True)
class AnswerRecorded:
    survey_id: str
    reward_points: int
    balance: int
    repeat: bool  # True: this answer id was recorded before (a resend); nothing new was written
    free_entries: int = 0  # draw entries this answer gave (kiosk.flows.surveys)


@dataclass(frozen=True)
class ComplaintFiled:
    code: str
    repeat: bool


class EngagementMixin:
    def record_survey_answer(self, answer_id: str, member_id: str, survey_id: str, answers: dict[str, Any],
                             *, reward_points: int, language: str | None) -> AnswerRecorded:
        """Keep the answers, pay the reward once (a bonus ledger row) and queue both for the cloud.

        The same ``answer_id`` again returns the first result; another answer to the same survey raises
        AlreadyAnswered and writes nothing.
        """
        now = iso(self._clock())

        def tx(db: sqlite_utils.Database) -> AnswerRecorded:
            known = db.execute("SELECT member_id, survey_id, reward_points FROM survey_answers WHERE answer_id = ?",
                               [answer_id]).fetchone()
            balance = lambda: db.execute("SELECT points FROM balances WHERE member_id = ?",  # noqa: E731
                                         [member_id]).fetchone()[0]
            if known is not None:
                if (known[0], known[1]) != (member_id, survey_id):
                    raise AlreadyAnswered(survey_id)  # an id reused for another answer: refuse, never merge
                return AnswerRecorded(survey_id, known[2], balance(), True)
            if db.execute("SELECT 1 FROM survey_answers WHERE member_id = ? AND survey_id = ?",
                          [member_id, survey_id]).fetchone():
                raise AlreadyAnswered(survey_id)
            reward_event = None
            if reward_points > 0:
                receipt = reward_receipt_id(survey_id, member_id)
                if db.execute("SELECT 1 FROM ledger WHERE receipt_id = ?", [receipt]).fetchone() is None:
                    reward_event = str(uuid.uuid5(uuid.NAMESPACE_URL, f"survey-reward:{answer_id}"))
                    self._append(db, LedgerRow(
                        event_id=reward_event, member_id=member_id, kind=LedgerKind.BONUS, points=reward_points,
                        amount=0, reason=reward_reason(survey_id), receipt_id=receipt, staff_id=None,
                        device_id=self.device_id, created_at=now))
            paid = reward_points if reward_event else 0
            db["survey_answers"].insert({
                "answer_id": answer_id, "member_id": member_id, "survey_id": survey_id,
                "answers": json.dumps(answers, ensure_ascii=False, sort_keys=True), "reward_event_id": reward_event,
                "reward_points": paid, "created_at": now})
            self._enqueue(db, "survey_answered", {"member_id": member_id, "survey_id": survey_id, "answers": answers,
                                                  "language": language}, now, event_id=answer_id)
            return AnswerRecorded(survey_id, paid, balance(), False)

        return self.write(tx)

    def surveys_answered(self, member_id: str) -> set[str]:
        return {r[0] for r in self.query("SELECT survey_id FROM survey_answers WHERE member_id = ?", (member_id,))}

    def file_complaint(self, request_key: str, code: str, *, member_id: str | None, phone: str, subject: str,
                       text: str, language: str | None) -> ComplaintFiled:
        """Keep a complaint and queue it for the cloud; the same ``request_key`` again returns the first code."""
        now = iso(self._clock())

        def tx(db: sqlite_utils.Database) -> ComplaintFiled:
            known = db.execute("SELECT code FROM complaints WHERE request_key = ?", [request_key]).fetchone()
            if known is not None:
                return ComplaintFiled(known[0], True)
            db["complaints"].insert({"request_key": request_key, "code": code, "member_id": member_id, "phone": phone,
                                     "subject": subject, "text": text, "created_at": now})
            self._enqueue(db, "complaint_filed", {
                "member_id": member_id or "guest", "code": code, "phone_e164": phone, "subject": subject,
                "text": text, "language": language}, now, event_id=request_key)
            return ComplaintFiled(code, False)

        return self.write(tx)
