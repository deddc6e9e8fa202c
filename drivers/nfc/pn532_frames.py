"""PN532 host-link frames (UM0701-02 section 6.2), as pure functions over bytes.

A normal information frame is ``00 00 FF LEN LCS TFI DATA.. DCS 00`` with
``LEN + LCS == 0`` and ``TFI + sum(DATA) + DCS == 0`` (mod 256); TFI is D4
host-to-chip and D5 chip-to-host. When a payload is longer than 255 bytes the
extended form ``00 00 FF FF FF LENM LENL LCS ...`` carries a 16-bit length.
``00 00 FF 00 FF 00`` is an ACK and ``00 00 FF FF 00 00`` a NACK (send the last
response again). ``00 00 FF 01 FF 7F 81 00`` is the chip's error frame for a
command it could not parse.

The parser is used by the emulator to read what nfcpy sends; it never raises,
so a garbled stream costs at most the frame it garbled.
"""
from __future__ import annotations

from dataclasses import dataclass

START_CODE = b"\x00\xff"
ACK = bytes.fromhex("0000ff00ff00")
NACK = bytes.fromhex("0000ffff0000")
ERROR_FRAME = bytes.fromhex("0000ff01ff7f8100")

HOST_TO_CHIP = 0xD4
CHIP_TO_HOST = 0xD5

# Largest payload (TFI + command + data) a PN532 accepts: nfcpy's
# host_command_frame_max_size for the PN532.
MAX_PAYLOAD = 265


@dataclass(frozen=True)
class Ack:
    """The peer acknowledged a command (or, from the host, cancels it)."""


@dataclass(frozen=True)
class Nack:
    """The host asks for the last response frame again."""


@dataclass(frozen=True)
class Information:
    """A well-formed information frame; ``payload`` starts with the TFI."""

    payload: bytes
    extended: bool = False


@dataclass(frozen=True)
class BadFrame:
    """Bytes after a start code that did not form a valid frame."""

    reason: str


HostItem = Ack | Nack | Information | BadFrame


def checksum(data: bytes) -> int:
    """The byte that makes ``sum(data) + checksum`` zero modulo 256."""
    return -sum(data) & 0xFF


def encode_information(payload: bytes) -> bytes:
    """Wrap ``payload`` (TFI, command code, data) in a normal or extended frame."""
    if not payload:
        raise ValueError("a PN532 information frame needs at least the TFI byte")
    if len(payload) > 0xFFFF:
        raise ValueError(f"payload of {len(payload)} bytes does not fit a 16-bit frame length")
    if len(payload) <= 0xFF:
        head = START_CODE + bytes([len(payload), checksum(bytes([len(payload)]))])
    else:
        length = len(payload).to_bytes(2, "big")
        head = START_CODE + b"\xff\xff" + length + bytes([checksum(length)])
    return b"\x00" + head + payload + bytes([checksum(payload), 0x00])


def split_host_frames(buffer: bytes) -> tuple[list[HostItem], bytes]:
    """Split a received byte stream into frames.

    Returns the items found and the unconsumed tail that may still become a
    frame once more bytes arrive; feed ``tail + next_chunk`` on the next call.
    Bytes outside frames (preamble, postamble, HSU wake-up 0x55) are skipped.
    """
    items: list[HostItem] = []
    pos = 0
    while True:
        start = buffer.find(START_CODE, pos)
        if start < 0:
            # A trailing 00 may be the first half of the next start code.
            tail = buffer[-1:] if buffer[pos:].endswith(b"\x00") else b""
            return items, tail
        body = start + 2
        if len(buffer) < body + 2:
            return items, buffer[start:]
        first, second = buffer[body], buffer[body + 1]
        if (first, second) == (0x00, 0xFF):
            items.append(Ack())
            pos = body + 2
        elif (first, second) == (0xFF, 0x00):
            items.append(Nack())
            pos = body + 2
        elif (first, second) == (0xFF, 0xFF):
            if len(buffer) < body + 5:
                return items, buffer[start:]
            length_bytes = buffer[body + 2:body + 4]
            if (sum(length_bytes) + buffer[body + 4]) & 0xFF:
                items.append(BadFrame("extended frame length checksum (LCS) does not match"))
                pos = body
                continue
            length = int.from_bytes(length_bytes, "big")
            if not 1 <= length <= MAX_PAYLOAD:
                items.append(BadFrame(f"extended frame length {length} is outside 1..{MAX_PAYLOAD}"))
                pos = body
                continue
            item, pos = _take_payload(buffer, body + 5, length, extended=True)
            if item is None:
                return items, buffer[start:]
            items.append(item)
        else:
            if (first + second) & 0xFF:
                items.append(BadFrame("frame length checksum (LCS) does not match"))
                pos = body
                continue
            if first == 0:
                items.append(BadFrame("frame length is zero but the frame is not an ACK"))
                pos = body + 2
                continue
            item, pos = _take_payload(buffer, body + 2, first, extended=False)
            if item is None:
                return items, buffer[start:]
            items.append(item)


def _take_payload(buffer: bytes, at: int, length: int, *, extended: bool) -> tuple[HostItem | None, int]:
    end = at + length
    if len(buffer) < end + 1:
        return None, at
    payload = buffer[at:end]
    if (sum(payload) + buffer[end]) & 0xFF:
        return BadFrame("frame data checksum (DCS) does not match"), end + 1
    return Information(bytes(payload), extended), end + 1


def crc_a(data: bytes) -> bytes:
    """ISO/IEC 14443-3 CRC_A of ``data``, least significant byte first."""
    crc = 0x6363
    for octet in data:
        octet ^= crc & 0xFF
        octet = (octet ^ (octet << 4)) & 0xFF
        crc = (crc >> 8) ^ (octet << 8) ^ (octet << 3) ^ (octet >> 4)
    return bytes([crc & 0xFF, crc >> 8])
