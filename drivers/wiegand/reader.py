"""A Wiegand card reader on two GPIO inputs (URI ``wiegand:gpio:D0=17,D1=27``).

gpiozero delivers the edges; a :class:`~drivers.wiegand.frames.BitAccumulator` turns
them into frames; one worker thread cuts frames on silence, decodes them and
hands :class:`CardRead` / :class:`ReaderStatus` events to the sink. The pin
callbacks only record an edge and return, so a slow sink cannot make us miss
bits of the next frame.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from gpiozero import DigitalInputDevice

from drivers.debounce import Debouncer
from drivers.errors import DriverError, FrameError, TransportError
from drivers.events import BadRead, CardRead, ReaderState, ReaderStatus, Tech
from drivers.gpio.pins import check_pins, close_all, open_device, parse_pin_spec
from drivers.misreads import Misreads, Verdict
from drivers.wiegand.frames import D0, D1, DEFAULT_FRAME_GAP_S, BitAccumulator, RawFrame, decode_raw

log = logging.getLogger(__name__)

Event = CardRead | ReaderStatus | BadRead
Sink = Callable[[Event], Any]

#: A Wiegand pulse lasts ~100 us; a line low for this long is not a pulse.
DEFAULT_STUCK_LOW_S = 0.5


def _sink_callable(sink: Any) -> Sink:
    # The kiosk hands readers either its queue or a callable; accept both.
    put = getattr(sink, "put", None)
    if callable(put):
        return put
    if callable(sink):
        return sink
    raise TypeError(f"sink must be callable or have put(), not {type(sink).__name__}")


class WiegandReader:
    """Reads 26/34-bit Wiegand frames from D0/D1 and emits kiosk events.

    ``d0``/``d1`` are BCM GPIO numbers. The lines idle high and pulse low, so
    the inputs use the Pi's pull-ups (the level shifter's own pull-ups on the
    3.3 V side are fine alongside). ``debounce_s`` drops repeats of the same
    card within that many seconds of its previous sighting (readers repeat
    while a card is held). ``sink`` is a callable taking one event, or a queue.
    Same surface as :class:`drivers.reader.Reader`: ``start()`` (returns self),
    ``close(timeout_s)``, ``running``, ``reader_id``, ``uri``, ``tech``;
    entering the context manager starts it. ``clock`` times edges and gaps
    (monotonic seconds); the emulated reader passes its emulator's clock.
    """

    def __init__(self, d0: int, d1: int, sink: Any, *, reader_id: str,
                 pin_factory: Any = None, debounce_s: float = 1.0,
                 frame_gap_s: float = DEFAULT_FRAME_GAP_S,
                 stuck_low_s: float = DEFAULT_STUCK_LOW_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._pins = check_pins(f"Wiegand reader {reader_id!r}", {"D0": d0, "D1": d1})
        if not stuck_low_s > frame_gap_s:
            raise ValueError("stuck_low_s must be longer than frame_gap_s")
        self.reader_id = reader_id
        self.uri = f"wiegand:gpio:D0={d0},D1={d1}"
        self.tech = Tech.WIEGAND.value
        #: The emulator driving this reader's pins (``emulated:wiegand``), else None.
        self.emulator: Any = None
        self._debouncer = Debouncer(debounce_s)
        # A frame with a bad parity or length is a misread (tap again); a run of them is a failed reader.
        self._misreads = Misreads()
        self._emit_to = _sink_callable(sink)
        self._pin_factory = pin_factory
        self._clock = clock
        self._stuck_low_s = stuck_low_s
        self._acc = BitAccumulator(frame_gap_s=frame_gap_s)
        self._cond = threading.Condition()
        self._devices: list[DigitalInputDevice] = []
        self._worker: threading.Thread | None = None
        self._stopping = False
        self._closed = False
        self._in_error = False
        self._stuck_reported: frozenset[int] = frozenset()
        # Its own condition: the worker waits on _cond, and a notify() meant for it
        # must never wake a caller of wait_for_frames() instead.
        self._frames_cond = threading.Condition()
        self._frames_done = 0

    @classmethod
    def from_pin_spec(cls, spec: str, sink: Any, *, reader_id: str,
                      **kwargs: Any) -> WiegandReader:
        """Build from the URI tail ``"D0=17,D1=27"``."""
        pins = parse_pin_spec(spec, ("D0", "D1"))
        return cls(pins["D0"], pins["D1"], sink, reader_id=reader_id, **kwargs)

    @property
    def d0(self) -> int:
        return self._pins["D0"]

    @property
    def d1(self) -> int:
        return self._pins["D1"]

    def __repr__(self) -> str:
        return (f"<WiegandReader {self.reader_id!r} D0=GPIO{self.d0} "
                f"D1=GPIO{self.d1} {'running' if self._worker else 'stopped'}>")

    # --- lifecycle ------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._worker is not None and self._worker.is_alive()

    def start(self) -> WiegandReader:
        """Open both pins and start reading; returns self, and does nothing if running.

        Raises TransportError (after an ``error`` status) if a pin cannot be opened.
        """
        if self._closed:
            raise DriverError(f"Wiegand reader {self.reader_id!r} is closed; make a new one")
        if self._worker is not None:
            return self
        owner = f"Wiegand reader {self.reader_id!r}"
        try:
            for line, role in ((D0, "D0"), (D1, "D1")):
                pin = self._pins[role]
                dev = open_device(owner, role, pin, partial(
                    DigitalInputDevice, pin, pull_up=True, pin_factory=self._pin_factory))
                self._devices.append(dev)
                dev.when_activated = partial(self._on_edge, line, True)
                dev.when_deactivated = partial(self._on_edge, line, False)
        except TransportError as exc:
            close_all(self._devices)
            self._emit(ReaderStatus(self.reader_id, ReaderState.ERROR, str(exc)))
            raise
        now = self._clock()
        with self._cond:
            # A line already low at start never produces an activation edge;
            # record it so the stuck-line check sees it.
            for line, dev in enumerate(self._devices):
                if dev.is_active:
                    self._acc.edge(line, True, now)
        self._stopping = False
        self._worker = threading.Thread(
            target=self._run, name=f"wiegand-{self.reader_id}", daemon=True)
        self._worker.start()
        self._emit(ReaderStatus(
            self.reader_id, ReaderState.CONNECTED,
            f"Wiegand 26/34-bit on GPIO{self.d0} (D0) and GPIO{self.d1} (D1)"))
        return self

    def close(self, timeout_s: float = 2.0) -> None:
        """Stop reading and release both pins. Safe to call more than once."""
        if self._closed:
            return
        self._closed = True
        worker = self._worker
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        # Release pins first so no callback arrives after the worker ends.
        close_all(self._devices)
        if worker is not None:
            if worker is not threading.current_thread():
                worker.join(timeout=timeout_s)
            self._worker = None
            self._emit(ReaderStatus(self.reader_id, ReaderState.DISCONNECTED, "closed"))
        if self.emulator is not None:
            self.emulator.close()

    @property
    def frames_processed(self) -> int:
        """Frames the worker has finished with: read, refused as noise, or dropped as a repeat."""
        with self._frames_cond:
            return self._frames_done

    def wait_for_frames(self, count: int, timeout_s: float) -> bool:
        """Block until ``count`` frames have been processed (True) or ``timeout_s`` passed (False).

        Lets a caller know a repeat was seen and dropped, which no event reports.
        """
        with self._frames_cond:
            return self._frames_cond.wait_for(lambda: self._frames_done >= count, timeout_s)

    def __enter__(self) -> WiegandReader:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- edges (gpiozero's callback thread) -----------------------------------

    def _on_edge(self, line: int, active: bool) -> None:
        at = self._clock()
        with self._cond:
            self._acc.edge(line, active, at)
            self._cond.notify()

    # --- worker ---------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stopping:
                    return
                now = self._clock()
                raw = self._acc.poll(now)
                stuck = frozenset(self._acc.held_low(now, self._stuck_low_s))
                if stuck - self._stuck_reported:
                    # The long "pulse" that started the stuck line was not a bit.
                    self._acc.discard()
                if raw is None and stuck == self._stuck_reported:
                    self._cond.wait(self._wait_time(now))
                    continue
            if stuck != self._stuck_reported:
                self._report_stuck(stuck)
            if raw is not None:
                self._handle_frame(raw)
                with self._frames_cond:
                    self._frames_done += 1
                    self._frames_cond.notify_all()

    def _wait_time(self, now: float) -> float | None:
        # Called with the lock held.
        if self._acc.any_low:
            # Wake up to check for a stuck line; a release edge wakes us sooner.
            return self._stuck_low_s / 4
        deadline = self._acc.next_deadline()
        if deadline is None:
            return None  # idle: only an edge or close() can change anything
        return max(deadline - now, 0.0) + 0.001

    def _report_stuck(self, stuck: frozenset[int]) -> None:
        self._stuck_reported = stuck
        if stuck:
            names = " and ".join(
                f"{'D0' if line == D0 else 'D1'} (GPIO{self._pins['D0' if line == D0 else 'D1']})"
                for line in sorted(stuck))
            self._error(
                f"{names} held low for more than {self._stuck_low_s:g} s: the reader "
                "is unpowered or the line is shorted to ground. Check the reader's "
                "supply and the D0/D1 wiring.")
        else:
            self._recovered("lines released")

    def _handle_frame(self, raw: RawFrame) -> None:
        try:
            card_id = decode_raw(raw)
        except FrameError as exc:
            verdict, detail = self._misreads.bad(str(exc), self._clock(), in_error=self._in_error)
            if verdict is Verdict.ERROR:
                self._error(detail)
            elif verdict is Verdict.BAD_READ:
                log.warning("Wiegand reader %s: bad read: %s", self.reader_id, detail)
                self._emit(BadRead(self.reader_id, detail))
            return
        self._misreads.good()
        if not self._debouncer.is_new_tap(card_id, self._clock()):
            return  # the reader repeating a card that is still held
        self._recovered("reading")
        self._emit(CardRead(uid=card_id, tech=self.tech, reader_id=self.reader_id))

    def _error(self, detail: str) -> None:
        self._in_error = True
        log.warning("Wiegand reader %s: %s", self.reader_id, detail)
        self._emit(ReaderStatus(self.reader_id, ReaderState.ERROR, detail))

    def _recovered(self, detail: str) -> None:
        if self._in_error and not self._stuck_reported:
            self._in_error = False
            self._emit(ReaderStatus(self.reader_id, ReaderState.CONNECTED, detail))

    def _emit(self, event: Event) -> None:
        try:
            self._emit_to(event)
        except Exception:  # noqa: BLE001 - a failing consumer must not stop the reader
            log.exception("Wiegand reader %s: the event sink failed", self.reader_id)
