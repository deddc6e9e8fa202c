"""A simulated PN532 and the ISO 14443-A card in its field.

:class:`Pn532Model` maps one host command payload (``D4 CMD DATA..``) to the
response payload (``D5 CMD+1 DATA..``) the way a PN532 v1.6 does for the part
of the command set nfcpy's ``pn532`` driver uses. The card is a
:class:`Type2Card` (NTAG213 when the UID is a 7-byte NXP UID, a generic Type 2
Tag otherwise) or a MIFARE Classic that answers anticollision but no reads.
It is pure state and bytes; :mod:`drivers.emulated.pn532` puts it on a pty.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from drivers.nfc.pn532_frames import crc_a

FIRMWARE_VERSION = bytes([0x32, 0x01, 0x06, 0x07])  # PN532 v1.6, ISO-A/B + ISO 18092

CIU_RX_MODE = 0x6303
CIU_TX_MODE = 0x6302
CIU_FIFO_DATA = 0x6339
SENS_REQ = 0x26  # left in the CIU FIFO when no card answered

STATUS_OK = 0x00
STATUS_TIMEOUT = 0x01  # "the target has not answered"
STATUS_INVALID_PARAMETER = 0x10

NTAG213_VERSION = bytes.fromhex("0004040201000f03")
NTAG213_PAGES = 45
NTAG213_DATA_AREA = 144  # CC byte 2 = 0x12, times 8
TT2_ACK = 0x0A
TT2_NAK = 0x00


class Mute(Exception):
    """The card does not answer (unsupported command, or not selected)."""


@dataclass
class Type2Card:
    """An NFC Forum Type 2 Tag (NTAG213 memory map) or a MIFARE Classic."""

    uid: bytes
    sak: int = 0x00
    memory: bytearray = field(default_factory=bytearray)
    # Answers this many commands, then leaves the field (a card swiped past).
    leaves_after: int | None = None

    @classmethod
    def with_ndef(
        cls, uid: bytes, ndef: bytes | None, sak: int = 0x00, leaves_after: int | None = None
    ) -> Type2Card:
        if len(uid) not in (4, 7, 10):
            raise ValueError(f"a 14443-A UID is 4, 7 or 10 bytes, got {len(uid)}; pass the UID as bytes")
        if sak & 0x08 and ndef is not None:
            raise ValueError("a MIFARE Classic (SAK bit 0x08) cannot carry NDEF for nfcpy; drop ndef or sak")
        if leaves_after is not None and leaves_after < 0:
            raise ValueError("leaves_after counts commands the card answers; it cannot be negative")
        return cls(bytes(uid), sak, _type2_memory(bytes(uid), ndef), leaves_after)

    @property
    def is_classic(self) -> bool:
        return bool(self.sak & 0x08)

    @property
    def is_ntag(self) -> bool:
        return len(self.uid) == 7 and self.uid[0] == 0x04 and not self.is_classic

    @property
    def atqa(self) -> bytes:
        """SENS_RES as the PN532 reports it (MSB first); bits 7-6 give the UID size."""
        size_bits = {4: 0x00, 7: 0x40, 10: 0x80}[len(self.uid)]
        return bytes([0x00, size_bits | 0x04])

    def command(self, data: bytes) -> bytes:
        """Answer one Type 2 Tag command (without CRC); raise Mute when silent."""
        if not data or self.is_classic:
            raise Mute  # a Classic wants authentication first; nfcpy cannot do it
        code = data[0]
        pages = len(self.memory) // 4
        if code == 0x30 and len(data) == 2:  # READ: four pages, rolling over
            page = data[1]
            if page >= pages:
                return bytes([TT2_NAK])
            return bytes(self.memory[(page * 4 + i) % len(self.memory)] for i in range(16))
        if code == 0x3A and len(data) == 3 and self.is_ntag:  # FAST_READ
            first, last = data[1], data[2]
            if first > last or last >= pages:
                return bytes([TT2_NAK])
            return bytes(self.memory[first * 4:(last + 1) * 4])
        if code == 0x60 and len(data) == 1 and self.is_ntag:  # GET_VERSION
            return NTAG213_VERSION
        if code == 0xA2 and len(data) == 6:  # WRITE one page
            page = data[1]
            if page < 4 or page >= pages:
                return bytes([TT2_NAK])
            self.memory[page * 4:page * 4 + 4] = data[2:6]
            return bytes([TT2_ACK])
        raise Mute  # e.g. AUTHENTICATE (1A) on an NTAG213: the tag goes mute


def _type2_memory(uid: bytes, ndef: bytes | None) -> bytearray:
    memory = bytearray(NTAG213_PAGES * 4)
    if len(uid) == 7:
        bcc0 = 0x88 ^ uid[0] ^ uid[1] ^ uid[2]
        bcc1 = uid[3] ^ uid[4] ^ uid[5] ^ uid[6]
        memory[0:12] = uid[0:3] + bytes([bcc0]) + uid[3:7] + bytes([bcc1, 0x48, 0x00, 0x00])
    else:
        memory[0:len(uid)] = uid
    memory[12:16] = bytes([0xE1, 0x10, NTAG213_DATA_AREA // 8, 0x00])  # CC: NDEF 1.0, read/write
    tlv = _ndef_tlv(ndef if ndef is not None else b"")
    if len(tlv) > NTAG213_DATA_AREA:
        raise ValueError(
            f"NDEF message of {len(ndef or b'')} bytes does not fit the {NTAG213_DATA_AREA}-byte "
            "NTAG213 data area; use a shorter message"
        )
    memory[16:16 + len(tlv)] = tlv
    return memory


def _ndef_tlv(message: bytes) -> bytes:
    length = bytes([len(message)]) if len(message) < 0xFF else b"\xff" + len(message).to_bytes(2, "big")
    return b"\x03" + length + message + b"\xfe"


@dataclass
class Pn532Model:
    """PN532 command interpreter; ``card`` is whatever lies on the antenna."""

    card: Type2Card | None = None
    registers: dict[int, int] = field(default_factory=dict)
    selected: bool = False
    rf_on: bool = False
    baud_index: int = 4  # 115200

    def place(self, card: Type2Card | None) -> None:
        self.card = card
        self.selected = False

    def respond(self, payload: bytes) -> bytes | None:
        """Response payload for a host payload, or None for a syntax error frame."""
        if len(payload) < 2 or payload[0] != 0xD4:
            return None
        code, data = payload[1], payload[2:]
        handler = _HANDLERS.get(code)
        if handler is None:
            return None
        result = handler(self, data)
        if result is None:
            return None
        return bytes([0xD5, code + 1]) + result

    def _diagnose(self, data: bytes) -> bytes | None:
        if not data:
            return None
        if data[0] == 0x00:  # communication line test: echo everything
            return bytes(data)
        if data[0] in (0x01, 0x02):  # ROM / RAM self test passes
            return b"\x00"
        return None

    def _firmware_version(self, data: bytes) -> bytes:
        return FIRMWARE_VERSION

    def _general_status(self, data: bytes) -> bytes:
        return bytes([0x00, int(self.rf_on), int(self.selected), 0x00])

    def _read_register(self, data: bytes) -> bytes | None:
        if not data or len(data) % 2:
            return None
        addresses = [int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2)]
        return bytes(self.registers.get(a, 0x00) for a in addresses)

    def _write_register(self, data: bytes) -> bytes | None:
        if not data or len(data) % 3:
            return None
        for i in range(0, len(data), 3):
            self.registers[int.from_bytes(data[i:i + 2], "big")] = data[i + 2]
        return b""

    def _plain_ack(self, data: bytes) -> bytes:
        return b""

    def _set_serial_baudrate(self, data: bytes) -> bytes | None:
        if len(data) != 1 or data[0] > 8:
            return None
        self.baud_index = data[0]
        return b""

    def _sam_configuration(self, data: bytes) -> bytes | None:
        if not data or data[0] not in (1, 2, 3, 4):
            return None
        return b""

    def _power_down(self, data: bytes) -> bytes:
        self.rf_on = self.selected = False
        return bytes([STATUS_OK])

    def _rf_configuration(self, data: bytes) -> bytes | None:
        if not data:
            return None
        if data[0] == 0x01 and len(data) == 2:
            self.rf_on = bool(data[1] & 0x01)
            if not self.rf_on:
                self.selected = False  # field off resets the card
        return b""

    def _in_list_passive_target(self, data: bytes) -> bytes | None:
        if len(data) < 2 or data[0] not in (1, 2):
            return None
        self.rf_on = True
        card = self.card
        if data[1] != 0x00 or card is None or not _uid_matches(card.uid, data[2:]):
            self.selected = False
            self.registers[CIU_FIFO_DATA] = SENS_REQ
            return b"\x00"
        self.selected = True
        self.registers[CIU_FIFO_DATA] = 0x00
        # The firmware leaves CRC generation and checking on after activation.
        self.registers[CIU_TX_MODE] = 0x80
        self.registers[CIU_RX_MODE] = 0x80
        return b"\x01\x01" + card.atqa + bytes([card.sak, len(card.uid)]) + card.uid

    def _in_data_exchange(self, data: bytes) -> bytes | None:
        if not data:
            return None
        status, answer = self._exchange(data[1:], with_crc=False)
        return bytes([status]) + answer

    def _in_communicate_thru(self, data: bytes) -> bytes:
        # nfcpy clears RxCRCEn for Type 2 Tags so that it sees the 4-bit
        # ACK/NAK; the CRC_A bytes then come through with the data.
        with_crc = not self.registers.get(CIU_RX_MODE, 0x80) & 0x80
        status, answer = self._exchange(data, with_crc=with_crc)
        return bytes([status]) + answer

    def _exchange(self, data: bytes, *, with_crc: bool) -> tuple[int, bytes]:
        if self.card is None or not self.selected:
            return STATUS_TIMEOUT, b""
        try:
            answer = self.card.command(bytes(data))
        except Mute:
            self.selected = False
            return STATUS_TIMEOUT, b""
        if self.card.leaves_after is not None:
            self.card.leaves_after -= 1
            if self.card.leaves_after <= 0:
                self.place(None)
        if with_crc and len(answer) > 1:
            answer += crc_a(answer)
        return STATUS_OK, answer

    def _in_release(self, data: bytes) -> bytes:
        self.selected = False
        return bytes([STATUS_OK])

    def _in_select(self, data: bytes) -> bytes:
        return bytes([STATUS_OK])


def _uid_matches(uid: bytes, wanted: bytes) -> bool:
    """Compare the UID nfcpy asks for (with 0x88 cascade tags) to the card's."""
    if not wanted:
        return True
    if len(wanted) == 8 and wanted[0] == 0x88:
        wanted = wanted[1:]
    elif len(wanted) == 12 and wanted[0] == 0x88 and wanted[4] == 0x88:
        wanted = wanted[1:4] + wanted[5:]
    return wanted == uid


_HANDLERS = {
    0x00: Pn532Model._diagnose,
    0x02: Pn532Model._firmware_version,
    0x04: Pn532Model._general_status,
    0x06: Pn532Model._read_register,
    0x08: Pn532Model._write_register,
    0x0C: lambda self, data: b"\xff\xff\x00",  # ReadGPIO: P3, P7, I0I1
    0x0E: Pn532Model._plain_ack,  # WriteGPIO
    0x10: Pn532Model._set_serial_baudrate,
    0x12: Pn532Model._plain_ack,  # SetParameters
    0x14: Pn532Model._sam_configuration,
    0x16: Pn532Model._power_down,
    0x32: Pn532Model._rf_configuration,
    0x4A: Pn532Model._in_list_passive_target,
    0x40: Pn532Model._in_data_exchange,
    0x42: Pn532Model._in_communicate_thru,
    0x44: Pn532Model._in_release,  # InDeselect
    0x52: Pn532Model._in_release,
    0x54: Pn532Model._in_select,
}
