"""ISO 7813 magnetic stripe swipes: pure parsing, payment-card detection, the chain's own format.

A swipe as a reader outputs it (keyboard wedge or serial, one line)::

    %<track 1>?[LRC];<track 2>?[LRC];<track 3>?[LRC]      (track 3 may start with '+')

Track 1 (IATA, 6-bit chars 0x20-0x5F): format code, then fields split by '^'.
Track 2/3 (ABA/THRIFT, 4-bit chars 0x30-0x3F): digits, '=' separates fields.
Readers that pass raw data add the LRC character after each end sentinel.

Payment cards (track 1 format code 'B', or a Luhn-valid 12-19 digit PAN before the
field separator on track 1 or 2) are refused. Nothing here ever puts track characters into a message or repr:
a swipe may be a bank card, and messages end up in logs.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from drivers.errors import DriverError, FrameError, RefusedCardError

PAYMENT_CARD_REASON = (
    "this is a bank card: please use your loyalty card instead (bank card data is not read or kept)"
)
NOT_LOYALTY_REASON = "this card is not a loyalty card of this shop: please use your loyalty card"
UNREADABLE = "the card could not be read: please swipe it again, steadily"

_TRACK1_CHARS = frozenset(chr(c) for c in range(0x20, 0x60)) - {"%", "?"}
_TRACK23_CHARS = frozenset("0123456789:<=>")  # ';' and '?' are sentinels
_MAX_SWIPE = 256


class PaymentCardRefused(RefusedCardError):
    """A swipe of a bank card: refused, never stored, logged or forwarded."""


class NotALoyaltyCard(RefusedCardError):
    """A readable swipe that does not match the chain's own card format."""


@dataclass(frozen=True)
class Swipe:
    """The tracks of one swipe, without sentinels; None for a track that is absent or unreadable."""

    track1: str | None = field(default=None, repr=False)
    track2: str | None = field(default=None, repr=False)
    track3: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        present = [str(n) for n, t in ((1, self.track1), (2, self.track2), (3, self.track3)) if t]
        return f"Swipe(tracks={'+'.join(present) or 'none'})"

    def track(self, number: int) -> str | None:
        return {1: self.track1, 2: self.track2, 3: self.track3}[number]


@dataclass(frozen=True)
class MagstripeFormat:
    """The chain's own loyalty track format, from config.

    ``pattern`` must match the whole data of ``track`` (sentinels excluded); its
    named group ``id`` (or else the whole match) is the card id. Example for cards
    whose track 2 is ``;77`` + 10 digits ``?``: ``MagstripeFormat(2, r"77(?P<id>\\d{10})")``.
    """

    track: int = 2
    pattern: str = r"(?P<id>\d{6,19})"
    _compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.track not in (1, 2, 3):
            raise DriverError(f"magstripe track must be 1, 2 or 3, got {self.track!r}; fix it in the config")
        try:
            compiled = re.compile(self.pattern)
        except re.error as error:
            raise DriverError(
                f"magstripe card pattern is not a valid regular expression ({error}); fix it in the config"
            ) from error
        object.__setattr__(self, "_compiled", compiled)

    def card_id(self, swipe: Swipe) -> str:
        data = swipe.track(self.track)
        match = self._compiled.fullmatch(data) if data else None
        if match is None:
            raise NotALoyaltyCard(NOT_LOYALTY_REASON)
        card_id = match.groupdict().get("id") or match.group(0)
        if not card_id:
            raise NotALoyaltyCard(NOT_LOYALTY_REASON)
        return card_id


def luhn_valid(digits: str) -> bool:
    """The Luhn (mod 10) check that every payment card number passes."""
    if not digits.isdigit() or not digits.isascii():
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def lrc_char(track_with_sentinels: str, track_number: int) -> str:
    """The LRC character a raw reader sends after a track (XOR of the char codes, sentinels included)."""
    offset, mask = (0x20, 0x3F) if track_number == 1 else (0x30, 0x0F)
    lrc = 0
    for char in track_with_sentinels:
        lrc ^= (ord(char) - offset) & mask
    return chr(lrc + offset)


def parse_swipe(text: str, *, with_lrc: bool = False) -> Swipe:
    """Split one swipe line into tracks; FrameError if it is not a well-formed swipe."""
    if len(text) > _MAX_SWIPE:
        raise FrameError(f"a swipe is at most {_MAX_SWIPE} characters, got {len(text)}; swipe again")
    tracks: dict[int, str | None] = {}
    position = 0
    while position < len(text):
        start = text[position]
        number = {"%": 1, ";": 3 if 2 in tracks else 2, "+": 3}.get(start)
        if number is None or number in tracks:
            raise FrameError(
                f"unexpected character at position {position} of a swipe (not a track start sentinel); swipe again"
            )
        end = text.find("?", position + 1)
        if end == -1:
            raise FrameError(f"track {number} has no end sentinel '?': the swipe was cut off; swipe again")
        data = text[position + 1 : end]
        if with_lrc:
            if end + 1 >= len(text) or text[end + 1] != lrc_char(text[position : end + 1], number):
                raise FrameError(f"track {number} fails its LRC check: the card was misread; swipe again")
            end += 1
        tracks[number] = _checked_track(data, number)
        position = end + 1
    swipe = Swipe(tracks.get(1), tracks.get(2), tracks.get(3))
    if not (swipe.track1 or swipe.track2 or swipe.track3):
        raise FrameError(UNREADABLE)
    return swipe


def _checked_track(data: str, number: int) -> str | None:
    if data == "E":  # what readers send for a track they could not decode
        return None
    allowed = _TRACK1_CHARS if number == 1 else _TRACK23_CHARS
    for index, char in enumerate(data):
        if char not in allowed:
            raise FrameError(
                f"track {number} has a character its encoding cannot carry at position {index + 1}; swipe again"
            )
    return data or None


def is_payment_card(swipe: Swipe) -> bool:
    """True for ISO 7813 bank cards.

    Track 1 with format code 'B', or a Luhn-valid 12-19 digit PAN in the PAN
    position of track 1 (before '^') or track 2 (before '='). The field separator
    is what makes a digit run a PAN: a chain's own number with no separator, such
    as ``;770012345678?``, is not one even when it happens to pass Luhn (one in ten
    numbers does). A chain format of Luhn-valid 12-19 digits followed by '=' is
    indistinguishable from a bank card and is refused.
    """
    if swipe.track1:
        if swipe.track1[0] == "B":
            return True
        pan, separator, _ = swipe.track1[1:].partition("^")
        if separator and _looks_like_pan(pan):
            return True
    if swipe.track2:
        pan, separator, _ = swipe.track2.partition("=")
        if separator and _looks_like_pan(pan):
            return True
    return False


def _looks_like_pan(candidate: str) -> bool:
    return 12 <= len(candidate) <= 19 and luhn_valid(candidate)


def card_id_from_swipe(text: str, card_format: MagstripeFormat, *, with_lrc: bool = False) -> str:
    """The loyalty card id in one swipe line.

    Raises PaymentCardRefused for a bank card (checked first, whatever the chain's
    format says), NotALoyaltyCard for any other card, FrameError for a bad swipe.
    """
    swipe = parse_swipe(text, with_lrc=with_lrc)
    if is_payment_card(swipe):
        raise PaymentCardRefused(PAYMENT_CARD_REASON)
    return card_format.card_id(swipe)


def format_swipe(track1: str | None = None, track2: str | None = None, track3: str | None = None,
                 *, with_lrc: bool = False) -> str:
    """The line a reader outputs for these tracks (for emulators and tests)."""
    out = []
    for number, data, start in ((1, track1, "%"), (2, track2, ";"), (3, track3, ";")):
        if data is None:
            continue
        track = f"{start}{data}?"
        out.append(track + (lrc_char(track, number) if with_lrc else ""))
    return "".join(out)


def encode_swipe_line(swipe: str) -> bytes:
    """The bytes a serial reader sends for a swipe line (see format_swipe): the line and CR LF."""
    if not swipe or not swipe.isascii() or not swipe.isprintable():
        raise DriverError("a swipe line is printable ASCII on one line, e.g. from magstripe.format_swipe()")
    return swipe.encode("ascii") + b"\r\n"
