"""The generic reader loop: transport bytes -> decoder -> debounced events on a sink.

One thread per reader. It never raises out of the thread: a missing or vanished
device is reported as ``disconnected`` and reopened with capped exponential
backoff; a malformed frame is a bad read (the shopper taps again) and reading goes on;
only a device that keeps producing nothing but malformed frames is reported as ``error``.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable

from drivers.backoff import Backoff
from drivers.debounce import Debouncer
from drivers.decoding import Decoded, Decoder, Transport
from drivers.errors import DriverError, RefusedCardError, TransportError
from drivers.events import BadRead, CardRead, CardRefused, ReaderState, ReaderStatus
from drivers.misreads import GARBAGE_ERROR_AFTER, Misreads, Verdict

log = logging.getLogger(__name__)

Sink = Callable[[object], None]


class Reader:
    """A card reader running its loop in a background thread.

    ``open_transport`` is called (again after each failure) to get a fresh transport;
    ``make_decoder`` gives a fresh decoder per connection so a frame cut by an unplug
    cannot glue onto the first frame after replug. Not started until ``start()``.

    Status events: ``connected`` when the device opens; ``disconnected`` (once per
    outage) when it cannot be opened or goes away; ``error`` for an unexpected fault or
    after ``garbage_error_after`` malformed frames in a row with no good read, followed
    by ``connected`` again at the next good read. A malformed frame before that is a
    BadRead event (at most one per ``error_report_interval_s``, logged with a count of
    the rest): the reader works, the card was misread.
    Card refusals (bank cards, forged tokens) become CardRefused events, debounced
    like taps.
    """

    def __init__(
        self,
        *,
        reader_id: str,
        uri: str,
        tech: str,
        open_transport: Callable[[], Transport],
        make_decoder: Callable[[], Decoder],
        sink: Sink,
        debounce_s: float = 1.0,
        backoff: Backoff | None = None,
        clock: Callable[[], float] = time.monotonic,
        emulator: Any = None,
        error_report_interval_s: float = 1.0,
        garbage_error_after: int = GARBAGE_ERROR_AFTER,
    ) -> None:
        self.reader_id = reader_id
        self.uri = uri
        self.tech = tech
        #: The emulator feeding this reader when it was opened from an ``emulated:`` URI, else None.
        self.emulator = emulator
        self._open_transport = open_transport
        self._make_decoder = make_decoder
        self._sink = sink
        self._debouncer = Debouncer(debounce_s)
        self._backoff = backoff or Backoff()
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._state: ReaderState | None = None
        self._misreads = Misreads(error_after=garbage_error_after, report_interval_s=error_report_interval_s)

    def start(self) -> "Reader":
        if self._thread is not None:
            raise DriverError(f"reader {self.reader_id} is already started; a reader runs once")
        self._thread = threading.Thread(target=self._run, name=f"reader-{self.reader_id}", daemon=True)
        self._thread.start()
        return self

    def close(self, timeout_s: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)
        if self.emulator is not None:
            self.emulator.close()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> "Reader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Reader(reader_id={self.reader_id!r}, uri={self.uri!r}, running={self.running})"

    # -- the loop -----------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                transport = self._open_transport()
            except TransportError as error:
                self._wait_before_retry(str(error))
                continue
            except Exception as error:  # a bug or an odd OS error must not kill the reader
                log.exception("reader %s: unexpected error opening its device", self.reader_id)
                self._report(ReaderState.ERROR, f"unexpected error opening the device: {error!r}")
                self._wait_before_retry(f"unexpected error: {error!r}")
                continue
            self._report(ReaderState.CONNECTED, f"reading from {getattr(transport, 'path', self.uri)}")
            try:
                self._read_until_gone(transport)
            except TransportError as error:
                self._report(ReaderState.DISCONNECTED, f"{error}; reconnecting")
            except Exception as error:
                log.exception("reader %s: unexpected error while reading", self.reader_id)
                self._report(ReaderState.ERROR, f"unexpected error while reading: {error!r}; reconnecting")
            finally:
                transport.close()
            # Backoff also between a lost connection and the next open: a device that
            # opens and then fails at once (flapping USB, a decoder bug) must not spin.
            self._stop.wait(self._backoff.next_delay())
        log.debug("reader %s stopped", self.reader_id)

    def _read_until_gone(self, transport: Transport) -> None:
        decoder = self._make_decoder()
        idle = getattr(decoder, "idle", None)
        healthy = False
        while not self._stop.is_set():
            data = transport.read()
            if data:
                items = decoder.feed(data)
                if not healthy:
                    healthy = True
                    self._backoff.reset()  # only a connection that read and decoded bytes has recovered
            elif idle is not None:
                items = idle()
            else:
                continue
            now = self._clock()
            for item in items:
                self._handle(item, now)

    def _handle(self, item: object, now: float) -> None:
        if isinstance(item, RefusedCardError):
            # A refused card held in front of the reader (or a scanner re-reading a
            # forged code) is one refusal, like a held card is one tap.
            self._misreads.good()  # a well-formed read: the device works
            if self._debouncer.is_new_tap(f"refused:{item}", now):
                log.warning("reader %s refused a card: %s", self.reader_id, item)
                self._emit(CardRefused(self.reader_id, str(item)))
            return
        if isinstance(item, DriverError):
            self._report_malformed(item, now)
            return
        if isinstance(item, Decoded):
            uid, tech = item.uid, item.tech
        else:
            uid, tech = str(item), self.tech
        self._misreads.good()
        if self._state is not ReaderState.CONNECTED:
            self._report(ReaderState.CONNECTED, "reading again")
        if self._debouncer.is_new_tap(f"{tech}:{uid}", now):
            log.debug("reader %s: card read (%s)", self.reader_id, tech)
            self._emit(CardRead(uid=uid, tech=tech, reader_id=self.reader_id))

    def _report_malformed(self, error: DriverError, now: float) -> None:
        verdict, detail = self._misreads.bad(str(error), now, in_error=self._state is ReaderState.ERROR)
        if verdict is Verdict.ERROR:
            self._report(ReaderState.ERROR, detail)
        elif verdict is Verdict.BAD_READ:
            log.warning("reader %s: bad read: %s", self.reader_id, detail)
            self._emit(BadRead(self.reader_id, detail))

    def _wait_before_retry(self, reason: str) -> None:
        delay = self._backoff.next_delay()
        if self._state is not ReaderState.DISCONNECTED:
            self._report(ReaderState.DISCONNECTED, f"{reason}; retrying with backoff")
        log.debug("reader %s: %s; retrying in %.2f s", self.reader_id, reason, delay)
        self._stop.wait(delay)

    def _report(self, state: ReaderState, detail: str) -> None:
        self._state = state
        if state is ReaderState.CONNECTED:
            log.info("reader %s connected: %s", self.reader_id, detail)
        else:
            log.warning("reader %s %s: %s", self.reader_id, state.value, detail)
        self._emit(ReaderStatus(self.reader_id, state, detail))

    def _emit(self, event: object) -> None:
        try:
            self._sink(event)
        except Exception:  # the consumer's bug must not stop card reading
            log.exception("reader %s: the event sink raised; event dropped", self.reader_id)


class ReaderHandle:
    """A reader from another module, with the attributes open_reader promises."""

    def __init__(self, reader: Any, *, uri: str, emulator: Any = None) -> None:
        self.reader = reader
        self.reader_id: str = reader.reader_id
        self.uri = uri
        self.emulator = emulator
        self._started = False
        self._closed = False

    def start(self) -> "ReaderHandle":
        self.reader.start()
        self._started = True
        return self

    def close(self) -> None:
        self._closed = True
        try:
            self.reader.close()
        finally:
            if self.emulator is not None:
                self.emulator.close()

    @property
    def running(self) -> bool:
        running = getattr(self.reader, "running", None)
        return bool(running) if running is not None else self._started and not self._closed

    def __enter__(self) -> "ReaderHandle":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ReaderHandle({self.reader!r}, uri={self.uri!r})"
