"""An NFC reader (PN532 on a UART, or an ACR122U on USB) driven by nfcpy.

:class:`NfcReader` polls with nfcpy's ContactlessFrontend for ISO 14443-A
cards (NTAG, MIFARE Ultralight, MIFARE Classic, ...) and puts one
:class:`~drivers.events.CardRead` per tap on ``sink``; the identifier is the
chain card number from the card's NDEF record when it has one, else the UID
(see :mod:`drivers.nfc.card_number`). A card held on the antenna is one tap;
it is a new tap only after it has been away for ``debounce_s``.

A reader that cannot be opened or stops answering reports
:class:`~drivers.events.ReaderStatus` ``disconnected`` (or ``error`` for a
glitch it recovers from) and reopens with capped exponential backoff. Nothing
raises out of the thread, and no UID or card number is ever logged.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Self

import nfc
import nfc.clf
import nfc.tag
from nfc.clf import RemoteTarget

from drivers.backoff import Backoff
from drivers.errors import TransportError
from drivers.events import CardRead, CardRefused, ReaderState, ReaderStatus, Tech
from drivers.nfc.card_number import (
    CARD_RECORD_TYPE,
    CardNumberError,
    card_identity,
    is_random_uid,
)
from drivers.nfc.frontend import OpenFrontend, open_frontend

log = logging.getLogger(__name__)

Sink = Callable[[object], None]

CLOSED_DETAIL = "reader closed"
RANDOM_UID_KEY = b"random-uid"
RANDOM_UID_REASON = (
    "this card shows a new random ID on every tap (bank cards and phones do), so it cannot be "
    "a loyalty card; tap the loyalty card instead"
)


class TapDebouncer:
    """Decides whether a card seen in the field still needs to be read.

    A sighting of the same key less than ``debounce_s`` after the last one
    belongs to the same tap; anything else starts a new tap. A tap needs
    reading until :meth:`delivered` is called for it, so a card that slipped
    away half-way through a read is read again on its next sighting.
    """

    def __init__(self, debounce_s: float) -> None:
        if debounce_s < 0:
            raise ValueError("debounce_s must be zero or more seconds")
        self._debounce_s = debounce_s
        self._key: bytes | None = None
        self._last_seen = 0.0
        self._delivered = False

    def observe(self, key: bytes, now: float) -> bool:
        """Note a sighting of ``key``; True when the tap still has to be read."""
        if key != self._key or now - self._last_seen >= self._debounce_s:
            self._key, self._delivered = key, False
        self._last_seen = now
        return not self._delivered

    def delivered(self) -> None:
        """The current tap produced its event; later sightings are the same tap."""
        self._delivered = True


class NfcReader:
    """One NFC reader on its own thread; a device noun with start() and close().

    ``path`` is an nfcpy path (``tty:S0:pn532``, ``usb:072f:2200``) or the
    filesystem path of a serial port with a PN532 (``/dev/ttyS0``, an emulator
    pty). ``open_frontend`` is injectable so tests and other transports can
    supply the ContactlessFrontend.
    """

    def __init__(
        self,
        path: str,
        sink: Sink,
        *,
        reader_id: str = "nfc",
        debounce_s: float = 1.0,
        poll_interval_s: float = 0.1,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 10.0,
        card_record_type: str = CARD_RECORD_TYPE,
        open_frontend: Callable[[str], OpenFrontend] = open_frontend,
        clock: Callable[[], float] = time.monotonic,
        uri: str | None = None,
    ) -> None:
        if not 0 < backoff_initial_s <= backoff_max_s:
            raise ValueError("backoff needs 0 < backoff_initial_s <= backoff_max_s")
        if poll_interval_s < 0:
            raise ValueError("poll_interval_s must be zero or more seconds")
        self.path = path
        self.reader_id = reader_id
        self.uri = uri or path
        self.tech = Tech.NFC.value
        self._sink = sink
        self._debouncer = TapDebouncer(debounce_s)
        self._poll_interval_s = poll_interval_s
        self._sensed_ok = False
        self._retry = Backoff(backoff_initial_s, backoff_max_s)
        self._record_type = card_record_type
        self._open_frontend = open_frontend
        self._clock = clock
        self._stop = threading.Event()
        self._state: ReaderState | None = None
        self._thread = threading.Thread(target=self._run, name=f"nfc-reader {reader_id}", daemon=True)

    def start(self) -> Self:
        """Start polling on the reader's thread (idempotent)."""
        if self._thread.ident is None and not self._stop.is_set():
            self._thread.start()
        return self

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop polling, release the device and wait for the thread to end."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.warning("NFC reader %s did not stop within %.1f s", self.reader_id, timeout_s)

    @property
    def closed(self) -> bool:
        """close() was called."""
        return self._stop.is_set()

    @property
    def running(self) -> bool:
        """The polling thread is alive."""
        return self._thread.is_alive()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"NfcReader(reader_id={self.reader_id!r}, uri={self.uri!r}, running={self.running})"

    # -- the thread ---------------------------------------------------------

    def _run(self) -> None:
        failures = 0  # in a row, without one good sense in between
        while not self._stop.is_set():
            try:
                frontend = self._open_frontend(self.path)
            except TransportError as error:
                failures += 1
                self._report(ReaderState.DISCONNECTED, str(error))
                self._stop.wait(self._backoff(failures))
                continue
            except Exception as error:
                failures += 1
                log.exception("opening NFC reader %s failed unexpectedly", self.reader_id)
                self._report(ReaderState.ERROR, f"opening the reader failed: {type(error).__name__}")
                self._stop.wait(self._backoff(failures))
                continue
            self._report(ReaderState.CONNECTED, frontend.description)
            self._sensed_ok = False
            try:
                self._poll(frontend.clf)
            except Exception as error:  # noqa: BLE001 - the thread must survive anything nfcpy raises
                # A reader that worked until now gets one immediate reopen (a
                # garbled frame, a glitch); one that keeps failing backs off.
                failures = 1 if self._sensed_ok else failures + 1
                self._report(
                    ReaderState.ERROR,
                    f"lost contact with the reader ({type(error).__name__}: {error}); reopening it",
                )
            finally:
                frontend.close()
            self._stop.wait(self._backoff(failures))
        self._report(ReaderState.DISCONNECTED, CLOSED_DETAIL)

    def _backoff(self, failures: int) -> float:
        """No wait after the first failure (a glitch), then the readers' capped doubling backoff."""
        if failures <= 1:
            self._retry.reset()
            return 0.0
        return self._retry.next_delay()

    def _poll(self, clf: nfc.ContactlessFrontend) -> None:
        """Sense, read each new tap, repeat until closed; I/O errors propagate.

        Presence is judged by sensing again every ``poll_interval_s`` rather
        than by a tag-specific presence check, so cards nfcpy cannot read
        (MIFARE Classic, random-ID cards) are debounced the same way.
        """
        while not self._stop.is_set():
            target = clf.sense(RemoteTarget("106A"))
            self._sensed_ok = True
            uid = bytes(target.sdd_res) if target is not None and target.sdd_res else b""
            if uid:
                # Random IDs change on every activation; debounce them as one card.
                key = RANDOM_UID_KEY if is_random_uid(uid) else uid
                if self._debouncer.observe(key, self._clock()) and self._read_tap(clf, target, uid):
                    self._debouncer.delivered()
            self._stop.wait(self._poll_interval_s)

    def _read_tap(self, clf: nfc.ContactlessFrontend, target: RemoteTarget, uid: bytes) -> bool:
        """Emit the event for a new tap; False when the card left before it was read."""
        if is_random_uid(uid):
            self._emit(CardRefused(self.reader_id, RANDOM_UID_REASON))
            return True
        tag = nfc.tag.activate(clf, target)
        if tag is None:
            return False  # gone during activation, or a peer-to-peer phone
        message = _ndef_octets(tag)
        if message is None and clf.sense(RemoteTarget("106A", sel_req=bytearray(uid))) is None:
            # Pulled away mid-read: the NDEF we missed may hold the card
            # number, and reading the card by UID could name the wrong account.
            return False
        try:
            identity = card_identity(uid, message, self._record_type)
        except CardNumberError as error:
            self._emit(CardRefused(self.reader_id, str(error)))
            return True
        self._emit(CardRead(uid=identity, tech=Tech.NFC.value, reader_id=self.reader_id))
        return True

    # -- events -------------------------------------------------------------

    def _report(self, state: ReaderState, detail: str) -> None:
        if state is self._state and state is not ReaderState.ERROR:
            return  # one event per change, not one per retry
        self._state = state
        level = logging.INFO if state is ReaderState.CONNECTED or detail == CLOSED_DETAIL else logging.WARNING
        log.log(level, "NFC reader %s %s: %s", self.reader_id, state.value, detail)
        self._emit(ReaderStatus(self.reader_id, state, detail))

    def _emit(self, event: object) -> None:
        try:
            self._sink(event)
        except Exception:
            log.exception("the sink of NFC reader %s raised; event dropped", self.reader_id)


def _ndef_octets(tag: nfc.tag.Tag) -> bytes | None:
    """The tag's NDEF message, b"" when empty, None when absent or unreadable."""
    try:
        ndef = tag.ndef
        return bytes(ndef.octets) if ndef is not None else None
    except (nfc.tag.TagCommandError, nfc.clf.CommunicationError):
        return None
