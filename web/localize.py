"""Numbers and dates in the shopper's script: Persian digits and Jalali dates in fa, Arabic-Indic digits in ar."""
from __future__ import annotations

from datetime import datetime, timezone

import jdatetime

PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
JALALI_MONTHS = ("فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
                 "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند")
ARABIC_MONTHS = ("يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو",
                 "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر")
EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def digits(text: str, lang: str) -> str:
    if lang == "fa":
        return text.translate(PERSIAN_DIGITS)
    if lang == "ar":
        return text.translate(ARABIC_DIGITS)
    return text


def format_date(at: datetime, lang: str, *, calendar: str = "jalali") -> str:
    """A short date for the transaction list: '۳ آذر ۱۴۰۵' in fa (Jalali), '٢٣ نوفمبر ٢٠٢٦' in ar, '23 Nov 2026' in en."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    if lang == "fa" and calendar == "jalali":
        j = jdatetime.date.fromgregorian(date=at.date())
        return digits(f"{j.day} {JALALI_MONTHS[j.month - 1]} {j.year}", "fa")
    if lang == "ar":
        return digits(f"{at.day} {ARABIC_MONTHS[at.month - 1]} {at.year}", "ar")
    if lang == "fa":
        return digits(f"{at.year}/{at.month:02d}/{at.day:02d}", "fa")
    return f"{at.day} {EN_MONTHS[at.month - 1]} {at.year}"


def format_all(at: datetime, calendar: str) -> dict[str, str]:
    """The bridge broadcasts to every page, whatever its language; each page picks its own form."""
    return {lang: format_date(at, lang, calendar=calendar) for lang in ("fa", "ar", "en")}


def jalali_to_iso(year: int, month: int, day: int) -> str:
    """A Jalali birthday picked in fa, as the ISO Gregorian date the store keeps; ValueError if impossible."""
    return jdatetime.date(year, month, day).togregorian().isoformat()
