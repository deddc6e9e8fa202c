"""Complaints and requests: tracking codes, the text a shopper may send, the subjects, the states (pure).

A tracking code is 10 Crockford base32 symbols (50 random bits) shown in two groups, "K7QM2-XPA9R": no I, L, O
or U, so it survives being read aloud or typed; typing O/I/L for 0/1/1, lower case, spaces, hyphens and Persian
or Arabic digits all read as the same code. The randomness is passed in (secrets.token_bytes), so this stays
pure. A code alone never opens a case: the look-up also needs the last four digits of the phone (cloud side).
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kiosk.errors import ConfigError, KioskError
from kiosk.rules.names import parse_names, pick_name

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_SYMBOLS = 10
CODE_BYTES = 7  # 56 random bits, of which 50 are used
MAX_TEXT = 1000
MIN_TEXT = 3
STATES = ("new", "in_progress", "answered", "closed")
MAX_ANSWER = 2000
SUBJECT_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1", **{c: str(i) for i, c in enumerate("۰۱۲۳۴۵۶۷۸۹")},
                          **{c: str(i) for i, c in enumerate("٠١٢٣٤٥٦٧٨٩")}})
_CODE = re.compile(f"[{ALPHABET}]{{{CODE_SYMBOLS}}}")


class ComplaintRefused(KioskError):
    """A complaint that cannot be sent as it is; ``field`` is phone, subject, text or code, and ``code`` the
    stable reason the page translates (invalid_phone, text_too_long...)."""

    def __init__(self, field: str, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.code = code or f"invalid_{field}"


def new_code(raw: bytes) -> str:
    """A tracking code from random bytes (pass secrets.token_bytes(CODE_BYTES)), in its canonical form."""
    if not isinstance(raw, bytes) or len(raw) < CODE_BYTES:
        raise ValueError(f"new_code needs {CODE_BYTES} random bytes, e.g. secrets.token_bytes({CODE_BYTES})")
    number = int.from_bytes(raw[:CODE_BYTES], "big") >> (CODE_BYTES * 8 - CODE_SYMBOLS * 5)
    return "".join(ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(CODE_SYMBOLS)))


def parse_code(text: Any) -> str | None:
    """The canonical code of what a shopper typed, or None when it cannot be one (never says more)."""
    if not isinstance(text, str) or len(text) > 40:
        return None
    compact = re.sub(r"[\s\-]", "", text).upper().translate(_ALIASES)
    return compact if _CODE.fullmatch(compact) else None


def spoken(code: str) -> str:
    """The code as it is shown and read aloud: two groups of five."""
    return f"{code[:5]}-{code[5:]}"


def last_four(phone_e164: str) -> str:
    return phone_e164[-4:]


def clean_text(text: Any) -> str:
    """The complaint's text as it is kept: control characters gone, whitespace runs as one space.

    Markup is kept as the shopper typed it (it is only ever shown escaped); the length limit is the edge's.
    """
    if not isinstance(text, str):
        raise ComplaintRefused("text", "write the complaint as text")
    if len(text) > MAX_TEXT * 2:  # refuse a flood before working on it
        raise ComplaintRefused("text", f"the text is at most {MAX_TEXT} characters (got {len(text)})", "text_too_long")
    kept = "".join(ch for ch in text if unicodedata.category(ch) != "Cc" or ch in "\n\t ")
    kept = " ".join(kept.split())
    if len(kept) > MAX_TEXT:
        raise ComplaintRefused("text", f"the text is at most {MAX_TEXT} characters (got {len(kept)})", "text_too_long")
    if len(kept) < MIN_TEXT:
        raise ComplaintRefused("text", f"write at least {MIN_TEXT} characters, or pick one of the texts",
                               "text_too_short")
    return kept


@dataclass(frozen=True)
class Subject:
    subject_id: str
    names: Mapping[str, str]
    texts: tuple[Mapping[str, str], ...] = ()  # ready-made texts the shopper may pick instead of typing

    def for_screen(self, language: str | None) -> dict[str, Any]:
        return {"id": self.subject_id, "name": pick_name(self.names, language),
                "texts": [pick_name(t, language) for t in self.texts]}


DEFAULT_SUBJECTS = (
    Subject("service", {"fa": "برخورد کارکنان", "ar": "تعامل الموظفين", "en": "Staff and service"}),
    Subject("product", {"fa": "کیفیت کالا", "ar": "جودة المنتج", "en": "Product quality"}),
    Subject("price", {"fa": "قیمت و صورتحساب", "ar": "السعر والفاتورة", "en": "Price and bill"}),
    Subject("request", {"fa": "درخواست یا پیشنهاد", "ar": "طلب أو اقتراح", "en": "Request or suggestion"}),
)


def subjects_from_config(items: Any, where: str = "[cloud config] complaint_subjects") -> tuple[Subject, ...]:
    """The chain's subject list; each {"id", "name": names, "texts": [names, ...]} (texts optional)."""
    if not isinstance(items, list) or not 1 <= len(items) <= 12:
        raise ConfigError(f"{where} must be a list of 1 to 12 subjects")
    subjects, seen = [], set()
    for i, item in enumerate(items):
        at = f"{where}[{i}]"
        if not isinstance(item, Mapping) or set(item) - {"id", "name", "texts"}:
            raise ConfigError(f"{at} must be an object with id, name and optional texts")
        sid = item.get("id")
        if not isinstance(sid, str) or not SUBJECT_ID.fullmatch(sid) or sid in seen:
            raise ConfigError(f"{at} id = {sid!r} is not allowed: a unique id of lower-case letters, digits, - or _")
        seen.add(sid)
        texts = item.get("texts", [])
        if not isinstance(texts, list) or len(texts) > 6:
            raise ConfigError(f"{at} texts must be a list of at most 6 ready-made texts")
        parsed = tuple(parse_names(t, f"{at} texts[{j}]") for j, t in enumerate(texts))
        if any(len(v) > MAX_TEXT for t in parsed for v in t.values()):
            raise ConfigError(f"{at} texts are at most {MAX_TEXT} characters")
        subjects.append(Subject(sid, parse_names(item.get("name"), at), parsed))
    return tuple(subjects)


def complaint_problem(event: Mapping[str, Any]) -> str | None:
    """Why a complaint_filed event's own fields are wrong (the protocol checks the common keys)."""
    if not isinstance(event.get("code"), str) or not _CODE.fullmatch(event["code"]):
        return f"code must be {CODE_SYMBOLS} Crockford base32 symbols"
    if not isinstance(event.get("subject"), str) or not SUBJECT_ID.fullmatch(event["subject"]):
        return "subject must be a subject id"
    text = event.get("text")
    if not isinstance(text, str) or not MIN_TEXT <= len(text) <= MAX_TEXT:
        return f"text must be {MIN_TEXT} to {MAX_TEXT} characters"
    return None
