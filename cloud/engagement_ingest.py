"""What the ingest does with survey answers, complaints and draw entries (issue 14), inside the batch's transaction.

Called by cloud.store.CloudStore._apply once the event row is new (a resend is a duplicate before it gets here).
A claim that can only be judged now that it is in (an entry for a draw already run, a second answer to a survey
and the free entries it gave) becomes a reversal for the kiosk that made it (kiosk.rules.reversals; listed by
cloud/engagement.py).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, func, select

from cloud.db.schema import complaint_history, complaints, draws, engagement_reversals, survey_answers
from kiosk.rules.reversals import LATE_ENTRY, REPEAT_SURVEY, REPEAT_SURVEY_ENTRY


def apply(conn: Connection, device: Any, event: dict[str, Any], created_at: str) -> None:
    if event["kind"] == "survey_answered":
        _answer(conn, device, event, created_at)
    elif event["kind"] == "draw_entry":
        _entry(conn, device, event, created_at)
    else:
        _complaint(conn, device, event, created_at)


def _reverse(conn: Connection, kind: str, device: Any, event: dict[str, Any], subject: str, at: str) -> None:
    conn.execute(engagement_reversals.insert().values(
        ref=event["event_id"], kind=kind, device_id=device.device_id, member_id=event["member_id"], subject=subject,
        created_at=at))


def _entry(conn: Connection, device: Any, event: dict[str, Any], created_at: str) -> None:
    """An entry is kept in events (cloud/draws.py reads a draw's entries there); one for a draw already run counts
    for nothing, and its kiosk is asked to give the points back. A survey's free entry counts for nothing too when
    its answer was not the member's first: the kiosk queues an answer before the entries it gives and sends its
    outbox in order, so the answer has been judged by the time its entries arrive (in its batch or a later one)."""
    # FOR UPDATE waits for a run in progress, so an entry is either in that run's list or reversed, never lost.
    run_at = conn.execute(select(draws.c.run_at).where(draws.c.draw_id == event["draw_id"])
                          .with_for_update()).scalar()
    if run_at is not None:
        _reverse(conn, LATE_ENTRY, device, event, event["draw_id"], created_at)
    elif event.get("answer_id") and conn.execute(select(survey_answers.c.counted).where(
            survey_answers.c.event_id == event["answer_id"])).scalar() == 0:
        _reverse(conn, REPEAT_SURVEY_ENTRY, device, event, event["draw_id"], created_at)


def _answer(conn: Connection, device: Any, event: dict[str, Any], created_at: str) -> None:
    earlier = conn.execute(select(func.count()).select_from(survey_answers).where(
        survey_answers.c.member_id == event["member_id"], survey_answers.c.survey_id == event["survey_id"],
        survey_answers.c.counted == 1)).scalar_one()
    conn.execute(survey_answers.insert().values(
        event_id=event["event_id"], survey_id=event["survey_id"], member_id=event["member_id"], branch=device.branch,
        device_id=device.device_id, answers=json.dumps(event["answers"], ensure_ascii=False, sort_keys=True),
        answered_at=created_at, counted=0 if earlier else 1))
    if earlier:  # the first answer to reach the chain keeps the reward; the kiosk of this one takes it back
        _reverse(conn, REPEAT_SURVEY, device, event, event["survey_id"], created_at)


def _complaint(conn: Connection, device: Any, event: dict[str, Any], created_at: str) -> None:
    # 50 random bits per code: a clash is unlikely across a chain's whole history; the first case keeps the code.
    if conn.execute(select(complaints.c.code).where(complaints.c.code == event["code"])).first() is not None:
        return
    member = None if event["member_id"] == "guest" else event["member_id"]
    conn.execute(complaints.insert().values(
        code=event["code"], event_id=event["event_id"], branch=device.branch, device_id=device.device_id,
        member_id=member, phone_e164=event["phone_e164"], subject=event["subject"], text=event["text"],
        language=event.get("language"), state="new", answer="", created_at=created_at, updated_at=created_at,
        texted=0))
    conn.execute(complaint_history.insert().values(code=event["code"], at=created_at, actor=f"kiosk:{device.name}"[:64]
                                                   if device.name else "kiosk", state="new", answer=""))
