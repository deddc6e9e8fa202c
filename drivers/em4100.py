"""EM4100 125 kHz readers that send one card per line (pure parsing and encoding).

Two common output formats, chosen by URI scheme because a 10-digit all-decimal
hex id cannot be told apart from a decimal one:

* ``em4100-hex``: 10 ASCII hex (2 version + 8 card), optionally followed by the 2 hex
  XOR checksum (ID-12/ID-20 style), often wrapped in STX ... CR LF ETX.
* ``em4100-dec``: the 32-bit card number as 10 decimal digits + Enter, as typed by
  USB keyboard-style readers and printed on most cards (e.g. ``0012345678``).

The card id is reported as the reader gives it (10 uppercase hex, or 10 digits).
"""
from __future__ import annotations

from drivers.errors import CardIdError, ChecksumError, FrameError
from drivers.rdm6300 import checksum

_HEX = frozenset("0123456789ABCDEFabcdef")


def parse_hex_line(line: str) -> str:
    text = line.strip()
    if len(text) not in (10, 12) or not all(c in _HEX for c in text):
        raise FrameError(
            f"an EM4100 hex line is 10 hex digits (optionally + 2 checksum digits), got {len(text)} "
            "characters or a non-hex character; check the reader's output format (em4100-hex vs em4100-dec)"
        )
    uid = text[:10].upper()
    if len(text) == 12 and int(text[10:], 16) != checksum(bytes.fromhex(uid)):
        raise ChecksumError("EM4100 line checksum mismatch: the card was misread, tap it again")
    return uid


def parse_decimal_line(line: str) -> str:
    text = line.strip()
    if len(text) != 10 or not text.isdigit() or not text.isascii():
        raise FrameError(
            f"an EM4100 decimal line is 10 digits, got {len(text)} characters or a non-digit; "
            "check the reader's output format (em4100-dec vs em4100-hex)"
        )
    if int(text) > 0xFFFFFFFF:
        raise FrameError("an EM4100 decimal card number is at most 4294967295: the reader is misconfigured")
    return text


def encode_hex_line(uid: str, *, with_checksum: bool = False) -> bytes:
    if len(uid) != 10 or not all(c in _HEX for c in uid):
        raise CardIdError("an EM4100 hex card id is 10 hex digits (2 version + 8 card), e.g. '0A00B1C2D3'")
    body = uid.upper()
    if with_checksum:
        body += f"{checksum(bytes.fromhex(body)):02X}"
    return b"\x02" + body.encode("ascii") + b"\r\n\x03"


def encode_decimal_line(number: str) -> bytes:
    if len(number) != 10 or not number.isdigit() or not number.isascii() or int(number) > 0xFFFFFFFF:
        raise CardIdError("an EM4100 decimal card number is 10 digits up to 4294967295, e.g. '0012345678'")
    return number.encode("ascii") + b"\r\n"


def decimal_from_hex(uid: str) -> str:
    """The number printed on the card (low 32 bits, 10 digits) for a 10-hex id."""
    return f"{int(parse_hex_line(uid)[2:], 16):010d}"
