"""Search folding: one spelling for names typed on Persian and Arabic keyboards, one for digits."""

from __future__ import annotations

# Arabic yeh/kaf (and alef maksura, teh marbuta, heh-goal look-alikes) are the same letters to a reader.
_LETTERS = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "ۀ": "ه", "ة": "ه", "\u200c": " ", "\u0640": None})
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


def fold_name(name: str | None) -> str:
    """Lower-cased, Arabic ي/ك as Persian ی/ک, ZWNJ as a space, spaces collapsed."""
    return " ".join((name or "").translate(_LETTERS).casefold().split())


def ascii_digits(text: str) -> str:
    """Persian and Arabic-Indic digits as 0-9, everything else unchanged."""
    return text.translate(_DIGITS)
