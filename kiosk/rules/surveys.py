"""Surveys the chain defines in the cloud: their shape, who is offered one, and what an answer may hold (pure).

The same functions check a survey when the console saves it (cloud/surveys.py), when a kiosk pulls its branch
config (kiosk.rules.cloud_config), when the shopper's answers reach the kiosk (kiosk.flows.surveys) and when the
answer event reaches the cloud (kiosk.protocol): one definition of "valid" on both sides.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kiosk.errors import ConfigError, KioskError
from kiosk.rules.names import parse_names, pick_name

QUESTION_TYPES = ("stars", "yes_no", "choice", "text")
TARGET_KINDS = ("all", "tier", "segment", "purchase")
MAX_QUESTIONS = 8
MAX_CHOICES = 6
MAX_TEXT_ANSWER = 200  # a short text: one line on the kiosk's keyboard
MAX_REWARD_POINTS = 100_000
SURVEY_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_TARGET_KEYS = {"all": set(), "tier": {"tiers"}, "segment": {"segments"}, "purchase": {"branches"}}
_SURVEY_KEYS = {"id", "title", "active", "target", "reward_points", "questions"}
_QUESTION_KEYS = {"id", "type", "text", "choices"}


class AnswerRefused(KioskError):
    """Answers that do not fit their survey; ``field`` names the question (or "survey")."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class AlreadyAnswered(KioskError):
    """The member answered this survey before (here or, known to this kiosk, elsewhere): once per member."""

    def __init__(self, survey_id: str) -> None:
        super().__init__(f"survey {survey_id!r} was already answered by this member; each member answers once")
        self.survey_id = survey_id


@dataclass(frozen=True)
class Question:
    question_id: str
    kind: str
    text: Mapping[str, str]
    choices: tuple[Mapping[str, str], ...] = ()


@dataclass(frozen=True)
class Survey:
    survey_id: str
    title: Mapping[str, str]
    questions: tuple[Question, ...]
    target: str = "all"
    target_values: tuple[str, ...] = ()  # tiers, segments or branches, by target
    reward_points: int = 0
    active: bool = True

    def for_screen(self, language: str | None) -> dict[str, Any]:
        """What the kiosk page shows, in one language (the ids stay: answers are keyed by them)."""
        return {"id": self.survey_id, "title": pick_name(self.title, language), "reward_points": self.reward_points,
                "questions": [{"id": q.question_id, "type": q.kind, "text": pick_name(q.text, language),
                               "choices": [pick_name(c, language) for c in q.choices]} for q in self.questions]}

    def as_document(self) -> dict[str, Any]:
        """The survey as the branch config holds it (survey_from_mapping reads it back unchanged)."""
        target: dict[str, Any] = {"kind": self.target}
        for key in _TARGET_KEYS[self.target]:
            target[key] = list(self.target_values)
        return {"id": self.survey_id, "title": dict(self.title), "active": self.active, "target": target,
                "reward_points": self.reward_points,
                "questions": [{"id": q.question_id, "type": q.kind, "text": dict(q.text),
                               **({"choices": [dict(c) for c in q.choices]} if q.kind == "choice" else {})}
                              for q in self.questions]}


def _fail(where: str, message: str) -> ConfigError:
    return ConfigError(f"{where} {message}")


def survey_from_mapping(item: Any, where: str = "survey") -> Survey:
    """One survey from its document; ConfigError names the key and what to write instead."""
    if not isinstance(item, Mapping):
        raise _fail(where, "must be an object with id, title, target and questions")
    extra = sorted(set(item) - _SURVEY_KEYS)
    if extra:
        raise _fail(where, f"has unknown key {extra[0]!r}: use {', '.join(sorted(_SURVEY_KEYS))}")
    survey_id = item.get("id")
    if not isinstance(survey_id, str) or not SURVEY_ID.fullmatch(survey_id):
        raise _fail(where, f"id = {survey_id!r} is not allowed: 1-32 lower-case letters, digits, - or _")
    where = f"{where} {survey_id!r}"
    title = parse_names(item.get("title"), f"{where} title")
    active = item.get("active", True)
    if not isinstance(active, bool):
        raise _fail(where, f"active = {active!r} is not allowed: use true or false")
    reward = item.get("reward_points", 0)
    if not isinstance(reward, int) or isinstance(reward, bool) or not 0 <= reward <= MAX_REWARD_POINTS:
        raise _fail(where, f"reward_points = {reward!r} is not allowed: a whole number from 0 to {MAX_REWARD_POINTS}")
    kind, values = _target(item.get("target", {"kind": "all"}), where)
    questions = item.get("questions")
    if not isinstance(questions, list) or not 1 <= len(questions) <= MAX_QUESTIONS:
        raise _fail(where, f"needs 1 to {MAX_QUESTIONS} questions")
    parsed = tuple(_question(q, f"{where} questions[{i}]") for i, q in enumerate(questions))
    ids = [q.question_id for q in parsed]
    if len(set(ids)) != len(ids):
        raise _fail(where, "has two questions with the same id: question ids must be unique")
    return Survey(survey_id, title, parsed, kind, values, reward, active)


def _target(value: Any, where: str) -> tuple[str, tuple[str, ...]]:
    if not isinstance(value, Mapping) or value.get("kind") not in TARGET_KINDS:
        raise _fail(where, f"target = {value!r} is not allowed: kind must be one of {', '.join(TARGET_KINDS)}")
    kind = value["kind"]
    allowed = _TARGET_KEYS[kind] | {"kind"}
    extra = sorted(set(value) - allowed)
    if extra:
        raise _fail(where, f"target has unknown key {extra[0]!r} for kind {kind!r}")
    if kind == "all":
        return kind, ()
    (key,) = _TARGET_KEYS[kind]
    items = value.get(key)
    if not isinstance(items, list) or not items or not all(isinstance(v, str) and v.strip() for v in items):
        raise _fail(where, f"target {kind!r} needs a non-empty list {key!r} of names")
    return kind, tuple(v.strip() for v in items)


def _question(item: Any, where: str) -> Question:
    if not isinstance(item, Mapping):
        raise _fail(where, "must be an object with id, type and text")
    extra = sorted(set(item) - _QUESTION_KEYS)
    if extra:
        raise _fail(where, f"has unknown key {extra[0]!r}: use {', '.join(sorted(_QUESTION_KEYS))}")
    qid = item.get("id")
    if not isinstance(qid, str) or not SURVEY_ID.fullmatch(qid):
        raise _fail(where, f"id = {qid!r} is not allowed: 1-32 lower-case letters, digits, - or _")
    kind = item.get("type")
    if kind not in QUESTION_TYPES:
        raise _fail(where, f"type = {kind!r} is not allowed: use one of {', '.join(QUESTION_TYPES)}")
    text = parse_names(item.get("text"), f"{where} text")
    choices: tuple[Mapping[str, str], ...] = ()
    if kind == "choice":
        raw = item.get("choices")
        if not isinstance(raw, list) or not 2 <= len(raw) <= MAX_CHOICES:
            raise _fail(where, f"a one-choice question needs 2 to {MAX_CHOICES} choices")
        choices = tuple(parse_names(c, f"{where} choices[{i}]") for i, c in enumerate(raw))
    elif "choices" in item:
        raise _fail(where, f"only a choice question has choices (this one is {kind!r})")
    return Question(qid, kind, text, choices)


def surveys_from_config(items: Any, where: str = "[cloud config] surveys") -> tuple[Survey, ...]:
    if not isinstance(items, list):
        raise ConfigError(f"{where} must be a list of survey objects")
    surveys = tuple(survey_from_mapping(item, f"{where}[{i}]") for i, item in enumerate(items))
    ids = [s.survey_id for s in surveys]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"{where} has two surveys with the same id: survey ids must be unique")
    return surveys


# --- who is offered a survey -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shopper:
    """What the offer depends on: the member's tier and segment, and whether they just bought at this branch."""

    tier: str
    segment: str
    branch: str
    just_bought: bool


def reaches(survey: Survey, who: Shopper) -> bool:
    if not survey.active:
        return False
    if survey.target == "tier":
        return who.tier in survey.target_values
    if survey.target == "segment":
        return who.segment in survey.target_values
    if survey.target == "purchase":
        return who.just_bought and who.branch in survey.target_values
    return True


def offer(surveys: Iterable[Survey], who: Shopper, answered: Iterable[str]) -> Survey | None:
    """The first survey in the config's order that reaches this shopper and that they have not answered."""
    done = set(answered)
    return next((s for s in surveys if s.survey_id not in done and reaches(s, who)), None)


# --- answers ------------------------------------------------------------------------------------------------


def answer_shape_problem(answers: Any) -> str | None:
    """Why ``answers`` cannot be an answer to any survey (the cloud's first check, before it knows the survey)."""
    if not isinstance(answers, Mapping) or not answers or len(answers) > MAX_QUESTIONS:
        return f"answers must be an object of 1 to {MAX_QUESTIONS} question ids"
    for qid, value in answers.items():
        if not isinstance(qid, str) or not SURVEY_ID.fullmatch(qid):
            return f"answers has a bad question id {qid!r}"
        if isinstance(value, bool) or (isinstance(value, int) and 0 <= value <= 5):
            continue
        if isinstance(value, str) and len(value) <= MAX_TEXT_ANSWER:
            continue
        return f"answer {qid!r} must be a number 0-5, true/false or text of at most {MAX_TEXT_ANSWER} characters"
    return None


def check_answers(survey: Survey, answers: Any) -> dict[str, Any]:
    """The answers cleaned for storing (text trimmed); AnswerRefused names the question that does not fit.

    A question may be skipped, but not all of them: an empty answer is no answer.
    """
    if not isinstance(answers, Mapping):
        raise AnswerRefused("survey", "send the answers as an object keyed by question id")
    by_id = {q.question_id: q for q in survey.questions}
    unknown = sorted(set(answers) - set(by_id), key=str)
    if unknown:
        raise AnswerRefused(str(unknown[0]), f"{unknown[0]!r} is not a question of survey {survey.survey_id!r}")
    clean: dict[str, Any] = {}
    for qid, value in answers.items():
        q = by_id[qid]
        if value is None or value == "":
            continue
        clean[qid] = _answer(q, value)
    if not clean:
        raise AnswerRefused("survey", "answer at least one question")
    return clean


def _answer(q: Question, value: Any) -> Any:
    def refuse(what: str) -> AnswerRefused:
        return AnswerRefused(q.question_id, f"question {q.question_id!r} takes {what}, not {value!r}")

    if q.kind == "stars":
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            raise refuse("1 to 5 stars")
        return value
    if q.kind == "yes_no":
        if not isinstance(value, bool):
            raise refuse("yes (true) or no (false)")
        return value
    if q.kind == "choice":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < len(q.choices):
            raise refuse(f"the number of one of its {len(q.choices)} choices (0-{len(q.choices) - 1})")
        return value
    if not isinstance(value, str):
        raise refuse("text")
    text = " ".join(value.split())  # one line: no control characters or newlines reach the console
    if len(text) > MAX_TEXT_ANSWER:
        raise AnswerRefused(q.question_id, f"question {q.question_id!r} takes at most {MAX_TEXT_ANSWER} characters "
                                           f"(got {len(text)})")
    return text


def reward_reason(survey_id: str) -> str:
    """The ledger reason of a survey's reward (the ledger's unique receipt id pays it once per member)."""
    return f"survey {survey_id} answered"


def reward_receipt_id(survey_id: str, member_id: str) -> str:
    return f"survey:{survey_id}:{member_id}"
