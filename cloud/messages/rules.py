"""Pure decisions of the message queue: quiet hours, backoff, rate slots, dedupe keys, segments, templates.

Nothing here reads a clock, a database or the network: every input is an argument, so each rule is tested
with hypothesis and the queue (cloud/messages/queue.py) only strings them together.
"""

from __future__ import annotations

import hashlib
import math
import re
import string
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import jdatetime

from cloud.errors import CloudError

MARKETING = "marketing"
TRANSACTIONAL = "transactional"
CATEGORIES = (MARKETING, TRANSACTIONAL)

GSM_SINGLE, GSM_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67

# GSM 03.38 basic set; anything else (Persian, Arabic, emoji) forces UCS-2.
_GSM = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
           "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM_EXT = set("^{}\\[~]|€")  # two septets each


class TemplateError(CloudError):
    """A message template that cannot be rendered: unknown variable or bad braces."""


@dataclass(frozen=True)
class QuietHours:
    """Local times between which marketing waits; start == end means no quiet hours."""

    start: time = time(22, 0)
    end: time = time(8, 0)

    def contains(self, local: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


def send_not_before(now: datetime, category: str, quiet: QuietHours, zone: ZoneInfo) -> datetime:
    """The earliest moment (UTC-aware, >= now) a message of `category` may go out.

    Transactional messages (codes, receipts) ignore quiet hours; marketing waits for the end of the
    quiet window in the shop's time zone.
    """
    if category == TRANSACTIONAL:
        return now
    local = now.astimezone(zone)
    if not quiet.contains(local.time()):
        return now
    end_day = local.date()
    if quiet.start > quiet.end and local.time() >= quiet.start:
        end_day += timedelta(days=1)
    resume = datetime.combine(end_day, quiet.end, tzinfo=zone)
    return max(now, resume.astimezone(now.tzinfo))


def backoff(attempt: int, *, base_s: float = 30.0, cap_s: float = 3600.0) -> timedelta:
    """Wait before retry number `attempt` (1 = the first retry): doubling from `base_s`, at most `cap_s`."""
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    exponent = min(attempt - 1, 32)
    return timedelta(seconds=min(cap_s, base_s * (2 ** exponent)))


def rate_slot(last_slot: datetime | None, now: datetime, per_second: float) -> datetime:
    """When the next message may be handed to a gateway sending at most `per_second` messages a second.

    Slots are spaced 1/per_second apart; an idle gateway's next slot is now (no burst credit saved up).
    """
    if per_second <= 0:
        raise ValueError("per_second must be positive")
    if last_slot is None:
        return now
    return max(now, last_slot + timedelta(seconds=1 / per_second))


def reserve_slots(last_slot: datetime | None, now: datetime, per_second: float,
                  count: int) -> list[datetime]:
    """`count` consecutive send slots after `last_slot` (the last one handed out, by any drain process)."""
    slots: list[datetime] = []
    for _ in range(count):
        last_slot = rate_slot(last_slot, now, per_second)
        slots.append(last_slot)
    return slots


def dedupe_key(kind: str, member_id: str, period: str) -> str:
    """One message per kind, member and period (e.g. 'birthday', member, '2026'): the queue's unique key."""
    return hashlib.sha256(f"{kind}\x1f{member_id}\x1f{period}".encode()).hexdigest()[:40]


def encoding(text: str) -> str:
    """"GSM-7" when every character is in the GSM 03.38 set, else "UCS-2" (Persian, Arabic, emoji)."""
    return "GSM-7" if all(ch in _GSM or ch in _GSM_EXT for ch in text) else "UCS-2"


def segments(text: str) -> int:
    """SMS parts the text costs: GSM-7 160/153, UCS-2 (Persian, Arabic) 70/67 characters."""
    if encoding(text) == "GSM-7":
        length = sum(2 if ch in _GSM_EXT else 1 for ch in text)
        single, part = GSM_SINGLE, GSM_PART
    else:
        length = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)  # UTF-16 code units
        single, part = UCS2_SINGLE, UCS2_PART
    if length <= single:
        return 1
    return math.ceil(length / part)


def template_fields(template: str) -> set[str]:
    """The variable names a template uses, or TemplateError if its braces are broken."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise TemplateError(f"template {template!r} has unbalanced braces: {exc}") from exc
    names = set()
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not re.fullmatch(r"[a-z_]+", name) or spec or conversion:
            raise TemplateError(f"template variable {{{name}}} is not allowed: write plain names like {{first_name}}")
        names.add(name)
    return names


def check_template(template: str, allowed: frozenset[str] | set[str]) -> None:
    """Refuse, when the template is saved, any variable the sender will not have."""
    unknown = template_fields(template) - set(allowed)
    if unknown:
        raise TemplateError(f"unknown template variable(s) {', '.join(sorted('{' + u + '}' for u in unknown))};"
                            f" use {', '.join(sorted('{' + a + '}' for a in allowed))}")


def render(template: str, values: dict[str, str]) -> str:
    check_template(template, set(values))
    return template.format(**values)


_PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
_ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def localise_digits(text: str, language: str) -> str:
    """Numbers in the member's language: Persian digits for fa, Arabic-Indic for ar."""
    if language == "fa":
        return text.translate(_PERSIAN_DIGITS)
    if language == "ar":
        return text.translate(_ARABIC_DIGITS)
    return text


def jalali_month_day(day: date) -> tuple[int, int]:
    j = jdatetime.date.fromgregorian(date=day)
    return j.month, j.day


def birthday_keys_for(today: date, calendar: str) -> list[tuple[int, int]]:
    """(month, day) pairs, in `calendar`, whose birthdays are greeted on `today`.

    A Feb 29 birthday is greeted on Feb 28 in common years; a Jalali Esfand 30 birthday on Esfand 29
    in common Jalali years.
    """
    if calendar == "gregorian":
        keys = [(today.month, today.day)]
        leap = today.year % 4 == 0 and (today.year % 100 != 0 or today.year % 400 == 0)
        if (today.month, today.day) == (2, 28) and not leap:
            keys.append((2, 29))
        return keys
    if calendar == "jalali":
        j = jdatetime.date.fromgregorian(date=today)
        keys = [(j.month, j.day)]
        if (j.month, j.day) == (12, 29) and not j.isleap():
            keys.append((12, 30))
        return keys
    raise ValueError(f"calendar {calendar!r}: use 'jalali' or 'gregorian'")


def greeting_period(today: date, calendar: str) -> str:
    """The year a birthday greeting belongs to, in the member's calendar (one greeting per such year)."""
    if calendar == "jalali":
        return f"j{jdatetime.date.fromgregorian(date=today).year}"
    return f"g{today.year}"


def occasion_date(year_jalali: int, month: int, day: int) -> date:
    """The Gregorian date of a Jalali month/day in a Jalali year."""
    return jdatetime.date(year_jalali, month, day).togregorian()


OPT_OUT_WORDS = frozenset({"لغو", "11", "۱۱", "stop", "unsubscribe", "إلغاء", "الغاء"})


def classify_inbound(text: str, join_keywords: frozenset[str] | set[str]) -> str:
    """'opt_out', 'join' or 'other' for a text a member sent to the club's number."""
    word = text.strip().casefold()
    if word in OPT_OUT_WORDS:
        return "opt_out"
    if word in {k.casefold() for k in join_keywords}:
        return "join"
    return "other"
