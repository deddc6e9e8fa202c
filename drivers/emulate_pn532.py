"""A virtual PN532 on a pseudo-terminal, speaking the chip's HSU frame format.

nfcpy's own ``pn532`` driver opens :attr:`Pn532Emulator.port` exactly as it
would open ``/dev/ttyS0`` on the Pi, so the demo and the tests run the same
driver code as the kiosk. Cards are placed with :meth:`Pn532Emulator.present`
and taken away with :meth:`Pn532Emulator.remove`.

    with Pn532Emulator() as emulator:
        emulator.present(bytes.fromhex("04A1B2C3D4E5F6"), ndef=message)
        reader = NfcReader(emulator.port, sink, reader_id="front")
"""
from __future__ import annotations

import os
import select
import threading
import tty
from pathlib import Path

from .pn532_frames import ACK, ERROR_FRAME, Ack, BadFrame, Information, Nack, encode_information, split_host_frames
from .pn532_model import Pn532Model, Type2Card

GARBLE_KINDS = ("lcs", "dcs")


class Pn532Emulator:
    """A PN532 with one card slot, served from a thread on a pty master.

    ``link``: optional path of a symlink to the pty (like a udev name), so a
    reader configured with that path finds a later emulator again after this
    one was closed - which is how a test unplugs and replugs the reader.
    """

    def __init__(self, *, link: str | os.PathLike[str] | None = None) -> None:
        self._model = Pn532Model()
        self._lock = threading.Lock()
        self._garble: list[str] = []
        self._last_response = b""
        self._counts = {"commands": 0, "bad_frames": 0, "garbled": 0}
        self._master, self._slave = os.openpty()
        # Raw from the start: the emulator keeps the slave open so the master
        # never reads EIO between two opens by the driver.
        tty.setraw(self._slave)
        self._pts = os.ttyname(self._slave)
        self._link = Path(link) if link is not None else None
        if self._link is not None:
            temporary = self._link.with_name(self._link.name + ".new")
            temporary.unlink(missing_ok=True)
            temporary.symlink_to(self._pts)
            os.replace(temporary, self._link)
        self._wake_r, self._wake_w = os.pipe()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=f"pn532-emulator {self._pts}", daemon=True)
        self._thread.start()

    @property
    def port(self) -> str:
        """The path to give the driver (the symlink when one was asked for)."""
        return str(self._link) if self._link is not None else self._pts

    def present(self, uid: bytes, ndef: bytes | None = None, *, sak: int = 0x00) -> None:
        """Place a card on the antenna: NTAG213 for a 7-byte UID starting 04.

        ``ndef`` is an encoded NDEF message stored in the tag's data area.
        ``sak=0x08`` makes a MIFARE Classic, whose UID reads but memory does not.
        """
        card = Type2Card.with_ndef(uid, ndef, sak)
        with self._lock:
            self._model.place(card)

    def remove(self) -> None:
        """Take the card off the antenna."""
        with self._lock:
            self._model.place(None)

    def garble(self, count: int = 1, how: str = "dcs") -> None:
        """Corrupt the checksum (``lcs`` or ``dcs``) of the next ``count`` responses."""
        if how not in GARBLE_KINDS:
            raise ValueError(f"garble kind {how!r} is not one of {GARBLE_KINDS}")
        with self._lock:
            self._garble.extend([how] * count)

    def counts(self) -> dict[str, int]:
        """Commands answered, bad host frames ignored, responses garbled."""
        with self._lock:
            return dict(self._counts)

    def close(self) -> None:
        """Stop serving and remove the pty: to the driver it looks unplugged."""
        if self._stop.is_set():
            return
        self._stop.set()
        os.write(self._wake_w, b"x")
        self._thread.join(timeout=2)
        for fd in (self._master, self._slave, self._wake_r, self._wake_w):
            os.close(fd)
        if self._link is not None and self._link.is_symlink() and os.readlink(self._link) == self._pts:
            self._link.unlink()

    def __enter__(self) -> "Pn532Emulator":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _serve(self) -> None:
        pending = b""
        while not self._stop.is_set():
            readable, _, _ = select.select([self._master, self._wake_r], [], [])
            if self._wake_r in readable:
                return
            try:
                chunk = os.read(self._master, 4096)
            except OSError:
                return
            items, pending = split_host_frames(pending + chunk)
            for item in items:
                reply = self._reply_to(item)
                if reply:
                    os.write(self._master, reply)

    def _reply_to(self, item: object) -> bytes:
        with self._lock:
            if isinstance(item, Information):
                response = self._model.respond(item.payload)
                frame = ERROR_FRAME if response is None else encode_information(response)
                self._counts["commands"] += 1
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


def _corrupt(frame: bytes, how: str) -> bytes:
    corrupted = bytearray(frame)
    # frame = 00 00 FF LEN LCS ... DCS 00 (normal) or 00 00 FF FF FF LENM LENL LCS ... DCS 00
    index = (7 if corrupted[3:5] == b"\xff\xff" else 4) if how == "lcs" else len(corrupted) - 2
    corrupted[index] ^= 0x5A
    return bytes(corrupted)
