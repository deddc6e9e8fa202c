"""A virtual PN532 on a pseudo-terminal, speaking the chip's HSU frame format.

nfcpy's own ``pn532`` driver opens :attr:`Pn532Emulator.port` exactly as it
would open ``/dev/ttyS0`` on the Pi, so the demo and the tests run the same
driver code as the kiosk. Cards are placed with :meth:`Pn532Emulator.present`
and taken away with :meth:`Pn532Emulator.remove`; :meth:`Pn532Emulator.tap`
does both, the way the demo's tap control expects of every emulator.

    with Pn532Emulator() as emulator:
        emulator.present(bytes.fromhex("04A1B2C3D4E5F6"), ndef=message)
        reader = NfcReader(emulator.port, sink, reader_id="front")
"""
from __future__ import annotations

import logging
import os
import select
import shutil
import tempfile
import threading
import tty
from collections.abc import Callable
from pathlib import Path
from typing import Self

from drivers.errors import DriverError
from drivers.nfc.card_number import card_number_message
from drivers.nfc.pn532_frames import (
    ACK,
    ERROR_FRAME,
    Ack,
    BadFrame,
    Information,
    Nack,
    encode_information,
    split_host_frames,
)
from drivers.emulated.pn532_model import Pn532Model, Type2Card

POLL = b"\xd4\x4a\x01\x00"  # InListPassiveTarget, one 106A target, no UID to select

log = logging.getLogger(__name__)

GARBLE_KINDS = ("lcs", "dcs")


class Pn532Emulator:
    """A PN532 with one card slot, served from a thread on a pty master.

    :attr:`port` is a symlink to the pty, stable across :meth:`unplug` and
    :meth:`replug` like a udev name; ``link`` chooses where it lives (default:
    a private temporary directory). A second emulator given the same ``link``
    takes the port over, which is another way to replug.
    """

    def __init__(self, *, link: str | os.PathLike[str] | None = None, tap_hold_s: float = 1.0) -> None:
        self._own_dir: Path | None = None
        if link is None:
            self._own_dir = Path(tempfile.mkdtemp(prefix="emulated-pn532-"))
            link = self._own_dir / "tty-pn532"
        self._link = Path(link)
        self._tap_hold_s = tap_hold_s
        self._model = Pn532Model()
        self._lock = threading.Lock()
        self._garble: list[str] = []
        self._last_response = b""
        self._counts = {"commands": 0, "bad_frames": 0, "garbled": 0, "polls": 0}
        self._lift_timer: threading.Timer | None = None
        self._lift_when_sensed: Type2Card | None = None  # a tapped card whose hold starts at its first poll
        self._pty: _PtyServer | None = None
        self._closed = False
        self._plug_in()

    @property
    def port(self) -> str:
        """The path to give the driver."""
        return str(self._link)

    @property
    def plugged(self) -> bool:
        return self._pty is not None

    def present(
        self, uid: bytes, ndef: bytes | None = None, *, sak: int = 0x00, leaves_after: int | None = None
    ) -> None:
        """Place a card on the antenna: NTAG213 for a 7-byte UID starting 04.

        ``ndef`` is an encoded NDEF message stored in the tag's data area.
        ``sak=0x08`` makes a MIFARE Classic, whose UID reads but memory does not.
        ``leaves_after=n``: the card answers n tag commands, then is gone.
        """
        card = Type2Card.with_ndef(uid, ndef, sak, leaves_after)
        with self._lock:
            self._cancel_lift()
            self._model.place(card)

    def remove(self) -> None:
        """Take the card off the antenna."""
        with self._lock:
            self._cancel_lift()
            self._model.place(None)

    def tap(self, data: str) -> None:
        """Hold a card on the antenna for ``tap_hold_s`` from the first poll that senses it, as a shopper holds
        a card until the reader has it: ``"<uid hex>[ <card number>]"``. (Timed from the tap itself, a reader
        still starting on a loaded machine could miss the whole hold.)

        With a card number the card carries it as its kiosk NDEF record.
        Raises DriverError saying what was wrong with ``data``.
        """
        uid_text, _, number = data.strip().partition(" ")
        try:
            uid = bytes.fromhex(uid_text)
            card = Type2Card.with_ndef(uid, card_number_message(number.strip()) if number.strip() else None)
        except ValueError as error:
            raise DriverError(
                f"cannot tap {data!r} on the emulated PN532 ({error}); send '<uid hex> [<card number>]', "
                "e.g. '04A1B2C3D4E5F6 600123456789'"
            ) from None
        with self._lock:
            self._cancel_lift()
            self._model.place(card)
            self._lift_when_sensed = card

    def garble(self, count: int = 1, how: str = "dcs") -> None:
        """Corrupt the checksum (``lcs`` or ``dcs``) of the next ``count`` responses."""
        if how not in GARBLE_KINDS:
            raise ValueError(f"garble kind {how!r} is not one of {GARBLE_KINDS}")
        with self._lock:
            self._garble.extend([how] * count)

    def counts(self) -> dict[str, int]:
        """Commands answered, bad host frames ignored, responses garbled, and polls: plain
        InListPassiveTarget senses, one per turn of a reader's poll loop, which tests wait on."""
        with self._lock:
            return dict(self._counts)

    def unplug(self) -> None:
        """The reader vanishes: the driver's I/O fails and :attr:`port` disappears."""
        pty = self._pty
        self._pty = None
        if pty is not None:
            pty.close()
            if self._link.is_symlink() and os.readlink(self._link) == pty.name:
                self._link.unlink()

    def replug(self) -> None:
        """A fresh chip (same card on it) appears at the same :attr:`port`."""
        if self._closed:
            raise DriverError("the emulated PN532 is closed; create a new one")
        self.unplug()
        self._plug_in()

    def close(self) -> None:
        """Unplug for good and remove the emulator's files."""
        if self._closed:
            return
        self._closed = True
        with self._lock:
            self._cancel_lift()
        self.unplug()
        if self._own_dir is not None:
            shutil.rmtree(self._own_dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Pn532Emulator(port={self.port!r}, plugged={self.plugged})"

    def _plug_in(self) -> None:
        with self._lock:
            self._model = Pn532Model(card=self._model.card)  # a power-cycled chip
            self._garble.clear()
        self._pty = _PtyServer(self._reply_to)
        temporary = self._link.with_name(self._link.name + ".new")
        temporary.unlink(missing_ok=True)
        temporary.symlink_to(self._pty.name)
        os.replace(temporary, self._link)

    def _lift(self, card: Type2Card) -> None:
        with self._lock:
            if self._model.card is card:
                self._model.place(None)

    def _start_hold(self) -> None:
        """The first poll since the tap found its card: it stays ``tap_hold_s`` from now."""
        card, self._lift_when_sensed = self._lift_when_sensed, None
        self._lift_timer = threading.Timer(self._tap_hold_s, self._lift, args=(card,))
        self._lift_timer.daemon = True
        self._lift_timer.start()

    def _cancel_lift(self) -> None:
        self._lift_when_sensed = None
        if self._lift_timer is not None:
            self._lift_timer.cancel()
            self._lift_timer = None

    def _reply_to(self, item: object) -> bytes:
        with self._lock:
            if isinstance(item, Information):
                try:
                    response = self._model.respond(item.payload)
                except Exception:
                    log.exception("emulated PN532 failed on command %s", item.payload[1:2].hex() or "--")
                    response = None
                frame = ERROR_FRAME if response is None else encode_information(response)
                self._counts["commands"] += 1
                if item.payload == POLL:
                    self._counts["polls"] += 1
                    if self._lift_when_sensed is not None and self._model.card is self._lift_when_sensed:
                        self._start_hold()
                if self._garble:
                    frame = _corrupt(frame, self._garble.pop(0))
                    self._counts["garbled"] += 1
                self._last_response = frame
                return ACK + frame
            if isinstance(item, Nack):
                return self._last_response
            if isinstance(item, BadFrame):
                # The chip stays silent on a frame it cannot check; the host
                # times out waiting for the ACK and sends the command again.
                self._counts["bad_frames"] += 1
            assert isinstance(item, (Ack, BadFrame))  # an ACK from the host cancels; nothing pending
            return b""


class _PtyServer:
    """One pty and the thread that answers what the driver writes to it."""

    def __init__(self, reply: Callable[[object], bytes]) -> None:
        self._reply = reply
        self._master, self._slave = os.openpty()
        # Raw from the start; the slave stays open here so the master never
        # reads EIO between two opens by the driver.
        tty.setraw(self._slave)
        self.name = os.ttyname(self._slave)
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._serve, name=f"pn532-emulator {self.name}", daemon=True)
        self._thread.start()

    def close(self) -> None:
        os.write(self._wake_w, b"x")
        self._thread.join(timeout=2)
        for fd in (self._master, self._slave, self._wake_r, self._wake_w):
            os.close(fd)

    def _serve(self) -> None:
        pending = b""
        while True:
            readable, _, _ = select.select([self._master, self._wake_r], [], [])
            if self._wake_r in readable:
                return
            try:
                chunk = os.read(self._master, 4096)
            except OSError:
                return
            items, pending = split_host_frames(pending + chunk)
            for item in items:
                answer = self._reply(item)
                if answer:
                    os.write(self._master, answer)


def _corrupt(frame: bytes, how: str) -> bytes:
    corrupted = bytearray(frame)
    # frame = 00 00 FF LEN LCS ... DCS 00 (normal) or 00 00 FF FF FF LENM LENL LCS ... DCS 00
    index = (7 if corrupted[3:5] == b"\xff\xff" else 4) if how == "lcs" else len(corrupted) - 2
    corrupted[index] ^= 0x5A
    return bytes(corrupted)
