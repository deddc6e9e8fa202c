"""Surveys in the cloud (issue 14): made in the console, checked by the kiosks' own rules, copied into every
branch config (the kiosks' existing config pull brings them), and their results per branch and question.

A save writes the survey and each branch's new config; every new document first passes the checks a kiosk
makes (kiosk.protocol.validate_config, kiosk.rules.cloud_config), so the console cannot save what a kiosk
would refuse.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select

from cloud import audit
from cloud.db.schema import survey_answers, surveys
from cloud.errors import BadConfig
from cloud.store import CloudStore
from kiosk import protocol
from kiosk.errors import KioskError
from kiosk.rules.cloud_config import branch_config_from_cloud
from kiosk.rules.names import LANGUAGES
from kiosk.rules.surveys import MAX_QUESTIONS, QUESTION_TYPES, Survey, survey_from_mapping

FORM_QUESTIONS = 6  # question slots on the console's form (a survey has at most MAX_QUESTIONS)
assert FORM_QUESTIONS <= MAX_QUESTIONS


def _names(form: Mapping[str, Any], prefix: str) -> dict[str, str]:
    return {lang: str(form.get(f"{prefix}_{lang}", "")).strip() for lang in LANGUAGES
            if str(form.get(f"{prefix}_{lang}", "")).strip()}


def survey_from_form(form: Mapping[str, Any]) -> dict[str, Any]:
    """The survey document from the console's form: a question slot without text in any language is unused."""
    questions = []
    for i in range(FORM_QUESTIONS):
        text = _names(form, f"q{i}_text")
        if not text:
            continue
        kind = str(form.get(f"q{i}_type", ""))
        question: dict[str, Any] = {"id": f"q{i + 1}", "type": kind, "text": text}
        if kind == "choice":
            lines = {lang: [c.strip() for c in str(form.get(f"q{i}_choices_{lang}", "")).splitlines() if c.strip()]
                     for lang in LANGUAGES}
            count = max(len(v) for v in lines.values())
            question["choices"] = [{lang: lines[lang][j] for lang in LANGUAGES if j < len(lines[lang])}
                                   for j in range(count)]
        questions.append(question)
    target_kind = str(form.get("target_kind", "all"))
    target: dict[str, Any] = {"kind": target_kind}
    key = {"tier": "tiers", "segment": "segments", "purchase": "branches"}.get(target_kind)
    if key:
        target[key] = [v.strip() for v in str(form.get("target_values", "")).split(",") if v.strip()]
    reward = str(form.get("reward_points", "0")).strip() or "0"
    try:
        points = int(reward)
    except ValueError:
        raise BadConfig(f"reward_points = {reward!r}: give a whole number of points, such as 20 (0 for none)") from None
    return {"id": str(form.get("id", "")).strip(), "title": _names(form, "title"), "active": bool(form.get("active")),
            "target": target, "reward_points": points, "questions": questions}


def all_surveys(store: CloudStore) -> list[Survey]:
    with store.db.read() as conn:
        rows = conn.execute(select(surveys.c.body).order_by(surveys.c.survey_id)).scalars().all()
    return [survey_from_mapping(json.loads(body)) for body in rows]


def find(store: CloudStore, survey_id: str) -> Survey | None:
    return next((s for s in all_surveys(store) if s.survey_id == survey_id), None)


def with_chain_surveys(store: CloudStore, document: Mapping[str, Any]) -> dict[str, Any]:
    """A branch config set as a whole (``kiosk-cloud config set``) with the chain's surveys in it.

    Surveys are the chain's, kept in the console; a branch's config carries a copy. Without this, a branch
    whose config was first set after a survey was saved, or whose config was set again from a file without
    them, would have no surveys until the next survey save. With no survey in the chain, the document is
    left as given."""
    chain = all_surveys(store)
    if not chain:
        return dict(document)
    return {**document, "surveys": [s.as_document() for s in chain]}


def save(store: CloudStore, document: Mapping[str, Any], actor: str) -> tuple[Survey, list[str]]:
    """Add or replace a survey and copy the chain's surveys into every branch config; the branches updated."""
    try:
        survey = survey_from_mapping(document)
    except KioskError as exc:
        raise BadConfig(f"the kiosks would refuse this survey: {exc}") from exc
    listed = [s for s in all_surveys(store) if s.survey_id != survey.survey_id] + [survey]
    listed.sort(key=lambda s: s.survey_id)
    section = [s.as_document() for s in listed]
    branches = []
    new_documents = {}
    for branch in store.branches():
        config = store.config(branch)
        if config is None:
            continue  # a branch without a config has no kiosk taking surveys yet; the next save reaches it
        new = {**json.loads(config.body), "surveys": section}
        try:
            branch_config_from_cloud(protocol.validate_config(new))
        except (KioskError, protocol.InvalidConfig) as exc:
            raise BadConfig(f"the kiosks of {branch} would refuse this survey: {exc}") from exc
        new_documents[branch] = new
    now = protocol.format_time(store.clock())
    body = protocol.canonical_json(survey.as_document())
    upsert = store.db.insert(surveys).values(survey_id=survey.survey_id, body=body, updated_at=now, updated_by=actor)
    with store.db.write() as conn:
        before = conn.execute(select(surveys.c.body).where(surveys.c.survey_id == survey.survey_id)).scalar()
        conn.execute(upsert.on_conflict_do_update(index_elements=[surveys.c.survey_id], set_={
            "body": upsert.excluded.body, "updated_at": upsert.excluded.updated_at,
            "updated_by": upsert.excluded.updated_by}))
        audit.record(conn, at=now, actor=actor, action="survey.save", target=survey.survey_id,
                     before=None if before is None else json.loads(before), after=survey.as_document())
    for branch, new in new_documents.items():
        store.set_config(branch, new, actor=actor)
        branches.append(branch)
    return survey, branches


# -- results -------------------------------------------------------------------------------------------


@dataclass
class QuestionResult:
    question_id: str
    kind: str
    count: int = 0
    total: int = 0  # stars summed, for the average
    counts: dict[Any, int] = field(default_factory=dict)  # yes/no and choice tallies
    texts: list[tuple[str, str]] = field(default_factory=list)  # (answered_at, text), newest first

    @property
    def average(self) -> float | None:
        return round(self.total / self.count, 2) if self.kind == "stars" and self.count else None


@dataclass
class BranchResult:
    branch: str
    answers: int = 0
    questions: dict[str, QuestionResult] = field(default_factory=dict)


@dataclass
class Results:
    survey: Survey
    branches: list[BranchResult]
    weeks: list[dict[str, Any]]  # {"week": "2026-W07", "answers": n, "average": stars average or None}


def answer_rows(store: CloudStore, survey_id: str, branches: frozenset[str] | None) -> list[Any]:
    """The counted answers (a member's first to this survey), of the user's branches, newest first."""
    query = (select(survey_answers.c.branch, survey_answers.c.answered_at, survey_answers.c.answers,
                    survey_answers.c.member_id, survey_answers.c.device_id)
             .where(survey_answers.c.survey_id == survey_id, survey_answers.c.counted == 1)
             .order_by(survey_answers.c.answered_at.desc()))
    if branches is not None:
        query = query.where(survey_answers.c.branch.in_(sorted(branches)))
    with store.db.read() as conn:
        return conn.execute(query).all()


def results(store: CloudStore, survey: Survey, branches: frozenset[str] | None) -> Results:
    kinds = {q.question_id: q for q in survey.questions}
    by_branch: dict[str, BranchResult] = {}
    weeks: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # answers, stars total, stars count
    for row in answer_rows(store, survey.survey_id, branches):
        result = by_branch.setdefault(row.branch, BranchResult(row.branch, questions={
            q.question_id: QuestionResult(q.question_id, q.kind) for q in survey.questions}))
        result.answers += 1
        year, week, _ = date.fromisoformat(row.answered_at[:10]).isocalendar()
        bucket = weeks[f"{year}-W{week:02d}"]
        bucket[0] += 1
        for qid, value in json.loads(row.answers).items():
            q = kinds.get(qid)
            if q is None:
                continue  # a question since removed from the survey
            qr = result.questions[qid]
            if q.kind == "stars" and isinstance(value, int) and 1 <= value <= 5:
                qr.count += 1
                qr.total += value
                bucket[1] += value
                bucket[2] += 1
            elif q.kind in ("yes_no", "choice") and not isinstance(value, str):
                qr.count += 1
                qr.counts[value] = qr.counts.get(value, 0) + 1
            elif q.kind == "text" and isinstance(value, str):
                qr.count += 1
                qr.texts.append((row.answered_at, value))
    trend = [{"week": week, "answers": n, "average": round(total / stars, 2) if stars else None}
             for week, (n, total, stars) in sorted(weeks.items())]
    return Results(survey, sorted(by_branch.values(), key=lambda b: b.branch), trend)


def csv_rows(store: CloudStore, survey: Survey, branches: frozenset[str] | None) -> list[list[Any]]:
    """One row per answered question: when, branch, device, member, question, value."""
    rows = []
    for row in answer_rows(store, survey.survey_id, branches):
        for qid, value in sorted(json.loads(row.answers).items()):
            if isinstance(value, bool):
                value = "yes" if value else "no"
            elif isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
                value = "'" + value  # a shopper's text must not run as a spreadsheet formula
            rows.append([row.answered_at, row.branch, row.device_id, row.member_id, qid, value])
    return rows

