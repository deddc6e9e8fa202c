"""Dates and numbers on console pages: Jalali dates and Persian digits in fa, Arabic-Indic digits in ar.

(The kiosk's web/localize.py does the same for the shop screen; the cloud may not import web/.)
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import jdatetime

from kiosk import protocol

LANGUAGES = ("fa", "ar", "en")
RTL = frozenset({"fa", "ar"})
DISPLAY_ZONE = ZoneInfo("Asia/Tehran")
_DIGITS = {"fa": str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"), "ar": str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")}


def digits(text: object, lang: str) -> str:
    table = _DIGITS.get(lang)
    return str(text) if table is None else str(text).translate(table)


def number(value: int | float | None, lang: str) -> str:
    if value is None:
        return "–"
    text = f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"
    if lang in RTL:
        text = text.replace(",", "٬").replace(".", "٫")  # Arabic thousands and decimal separators
    return digits(text, lang)


def moment(value: str | datetime | None, lang: str, *, with_time: bool = True) -> str:
    """'۱۴۰۵/۰۹/۱۰ ۲۳:۳۵' (Jalali, Tehran time) in fa and ar, '2026-12-01 23:35' in en."""
    if value is None or value == "":
        return "–"
    at = protocol.parse_time(value) if isinstance(value, str) else value
    local = at.astimezone(DISPLAY_ZONE)
    if lang in RTL:
        j = jdatetime.datetime.fromgregorian(datetime=local.replace(tzinfo=None))
        text = f"{j.year}/{j.month:02d}/{j.day:02d}" + (f" {j.hour:02d}:{j.minute:02d}" if with_time else "")
        return digits(text, lang)
    return local.strftime("%Y-%m-%d %H:%M" if with_time else "%Y-%m-%d")
