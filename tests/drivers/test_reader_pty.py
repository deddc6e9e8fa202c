"""The real RDM6300 driver reading real frame bytes through pyserial from a pseudo-terminal."""
from __future__ import annotations

import logging
import threading
import time

import pytest

from drivers import rdm6300
from drivers.backoff import Backoff
from drivers.errors import DriverError
from drivers.events import BadRead, CardRead, ReaderState, ReaderStatus, Tech
from drivers.misreads import GARBAGE_ERROR_AFTER
from drivers.reader import Reader
from drivers.serial_transport import SerialTransport
from tests.conftest import wait_until

UID = "0A00B1C2D3"
OTHER_UID = "1F2E3D4C5B"


class ManualClock:
    """The reader's monotonic clock, moved only by the test: debounce decisions do not depend on load."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_reader(emulator, events, *, debounce_s=1.0, sink=None, clock=time.monotonic, open_transport=None):
    return Reader(
        reader_id="door",
        uri=f"rdm6300:tty:{emulator.port}",
        tech=Tech.RFID_125K.value,
        open_transport=open_transport or (lambda: SerialTransport(emulator.port, baudrate=rdm6300.BAUDRATE)),
        make_decoder=rdm6300.Rdm6300Decoder,
        sink=sink or events,
        debounce_s=debounce_s,
        backoff=Backoff(initial_s=0.02, cap_s=0.2),
        clock=clock,
    )


def test_a_tap_reaches_the_sink_as_a_card_read(emulator, events):
    with make_reader(emulator, events).start():
        events.wait_status(ReaderState.CONNECTED)
        emulator.tap(UID.lower())
        card = events.wait_card()
    assert (card.uid, card.tech, card.reader_id) == (UID, "rfid125", "door")


def test_a_frame_with_a_bad_checksum_is_a_bad_read_not_a_reader_error_and_the_loop_keeps_reading(emulator, events):
    with make_reader(emulator, events).start():
        events.wait_status(ReaderState.CONNECTED)
        emulator.write(b"\x020A00B1C2D3AB\x03")
        bad = events.wait_for(lambda e: isinstance(e, BadRead))
        emulator.tap(OTHER_UID)
        card = events.wait_card()
    assert "checksum" in bad.detail and UID not in bad.detail and bad.reader_id == "door"
    assert card.uid == OTHER_UID
    # The reader never stopped working: no status change at all between the misread and the good read.
    assert [e.state for e in events.seen if isinstance(e, ReaderStatus)] == [ReaderState.CONNECTED]


def test_a_run_of_garbage_past_the_threshold_is_a_reader_error_until_the_next_good_read(emulator, events):
    clock = ManualClock()
    with make_reader(emulator, events, clock=clock).start():
        events.wait_status(ReaderState.CONNECTED)
        # One short of the threshold, in one burst: misreads (one reported, the rest counted), not an error.
        emulator.write(b"\x020A00B1C2D3AB\x03" * (GARBAGE_ERROR_AFTER - 1))
        events.wait_for(lambda e: isinstance(e, BadRead))
        emulator.tap(UID)  # a good read resets the count
        events.wait_card()
        emulator.write(b"\x020A00B1C2D3AB\x03" * (GARBAGE_ERROR_AFTER - 1))
        emulator.write(b"\xfe\xfd noise")  # the threshold's frame: any malformed read counts
        error = events.wait_status(ReaderState.ERROR)
        emulator.write(b"\xff" * 3 + b"\x020A00B1C2D3AB\x03")  # more garbage while in error: no more reports
        emulator.tap(OTHER_UID)
        back = events.wait_status(ReaderState.CONNECTED)
        card = events.wait_card()
    before_error = events.seen[:events.seen.index(error)]
    assert not any(isinstance(e, ReaderStatus) and e.state is ReaderState.ERROR for e in before_error)
    assert f"{GARBAGE_ERROR_AFTER} malformed reads in a row" in error.detail and UID not in error.detail
    after_error = events.seen[events.seen.index(error):events.seen.index(back)]
    assert not any(isinstance(e, BadRead) for e in after_error)
    assert back.detail == "reading again" and card.uid == OTHER_UID


def test_a_threshold_below_one_bad_frame_is_refused_with_the_reason(emulator, events):
    with pytest.raises(DriverError, match="at least 1"):
        Reader(reader_id="door", uri="emulated:rdm6300", tech=Tech.RFID_125K.value, open_transport=lambda: None,
               make_decoder=rdm6300.Rdm6300Decoder, sink=events, garbage_error_after=0)


def test_garbage_and_a_cut_off_frame_between_taps_lose_neither_tap(emulator, events):
    with make_reader(emulator, events).start():
        events.wait_status(ReaderState.CONNECTED)
        emulator.write(rdm6300.encode_frame(UID) + b"\xffnoise\x00" + b"\x021F2E" + rdm6300.encode_frame(OTHER_UID))
        first, second = events.wait_card(), events.wait_card()
    assert [first.uid, second.uid] == [UID, OTHER_UID]
    misreads = [e for e in events.seen if isinstance(e, BadRead)]
    assert len(misreads) == 1  # two bad stretches within a second: one report, the rest counted
    assert not any(isinstance(e, ReaderStatus) and e.state is ReaderState.ERROR for e in events.seen)


def test_a_card_held_on_the_reader_is_one_tap_and_the_same_card_after_a_gap_is_a_new_tap(emulator, events):
    clock = ManualClock()
    markers = iter(f"F{n:09X}" for n in range(1000))

    def frame_then_marker(uid: str) -> None:
        """Frames are handled in order on one thread: once a never-seen marker card's read arrives, the
        frame before it has been handled too, so nothing late can follow (no drain-and-hope)."""
        marker = next(markers)
        emulator.write(rdm6300.encode_frame(uid) + rdm6300.encode_frame(marker))
        events.wait_for(lambda e: isinstance(e, CardRead) and e.uid == marker)

    with make_reader(emulator, events, debounce_s=0.5, clock=clock).start():
        events.wait_status(ReaderState.CONNECTED)
        for _ in range(20):  # held for 1 s, the reader repeating the frame every 50 ms like a real RDM6300
            frame_then_marker(UID)
            clock.now += 0.05
        clock.now += 0.5  # lifted: more than the debounce window since its last frame
        frame_then_marker(UID)
    reads = [e for e in events.seen if isinstance(e, CardRead) and e.uid == UID]
    assert len(reads) == 2  # the held card once, the card presented again once more


def test_an_unplugged_reader_reports_disconnected_then_connected_after_replug(emulator, events):
    opens = []

    def open_transport():
        opens.append(emulator.plugged)
        return SerialTransport(emulator.port, baudrate=rdm6300.BAUDRATE)

    reader = make_reader(emulator, events, open_transport=open_transport)
    with reader.start():
        events.wait_status(ReaderState.CONNECTED)
        emulator.unplug()
        gone = events.wait_status(ReaderState.DISCONNECTED)
        # Several failed reopen attempts while the device is gone, counted, not slept through.
        wait_until(lambda: opens.count(False) >= 4, what="four reopen attempts while unplugged")
        assert reader.running
        emulator.replug()
        events.wait_status(ReaderState.CONNECTED)
        emulator.tap(UID)
        card = events.wait_card()
        assert reader.running
    assert "went away" in gone.detail
    assert card.uid == UID
    statuses = [e.state for e in events.seen if isinstance(e, ReaderStatus)]
    assert statuses.count(ReaderState.DISCONNECTED) == 1  # one report per outage, not per retry


def test_a_reader_started_before_its_device_appears_connects_when_it_does(emulator, events):
    emulator.unplug()
    with make_reader(emulator, events).start():
        missing = events.wait_status(ReaderState.DISCONNECTED)
        emulator.replug()
        events.wait_status(ReaderState.CONNECTED)
        emulator.tap(UID)
        assert events.wait_card().uid == UID
    assert "cannot open serial device" in missing.detail and emulator.port in missing.detail


def test_a_sink_that_raises_does_not_stop_the_reader(emulator, events):
    calls = []

    def flaky_sink(event):
        calls.append(event)
        if isinstance(event, CardRead) and len(calls) < 3:
            raise RuntimeError("consumer bug")
        events(event)

    with make_reader(emulator, events, debounce_s=0.0, sink=flaky_sink).start():
        events.wait_status(ReaderState.CONNECTED)
        emulator.tap(UID)
        wait_until(lambda: any(isinstance(c, CardRead) for c in calls), what="the sink to raise on the first read")
        emulator.tap(OTHER_UID)
        assert events.wait_card().uid == OTHER_UID


def test_card_ids_never_appear_in_the_log(emulator, events, caplog):
    caplog.set_level(logging.DEBUG)
    with make_reader(emulator, events).start():
        events.wait_status(ReaderState.CONNECTED)
        emulator.tap(UID)
        events.wait_card()
        emulator.write(b"\x020A00B1C2D3AB\x03")
        events.wait_for(lambda e: isinstance(e, BadRead))
    assert "card read" in caplog.text and "checksum" in caplog.text
    assert UID not in caplog.text.upper()
    assert UID not in repr(events.seen)


def test_close_stops_the_reader_thread_and_releases_the_port(emulator, events):
    reader = make_reader(emulator, events).start()
    events.wait_status(ReaderState.CONNECTED)
    reader.close()
    assert not reader.running
    assert not [t for t in threading.enumerate() if t.name == "reader-door"]
    with SerialTransport(emulator.port):  # exclusive lock released
        pass


def test_a_reader_cannot_be_started_twice(emulator, events):
    from drivers.errors import DriverError

    with make_reader(emulator, events) as reader:
        reader.start()
        with pytest.raises(DriverError, match="already started"):
            reader.start()


def test_an_unexpected_error_opening_the_device_is_reported_and_the_reader_retries(emulator, events):
    attempts = []

    def open_transport():
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("driver bug on first open")
        return SerialTransport(emulator.port)

    reader = Reader(reader_id="door", uri="test", tech="rfid125", open_transport=open_transport,
                    make_decoder=rdm6300.Rdm6300Decoder, sink=events, backoff=Backoff(0.02, cap_s=0.1))
    with reader.start():
        error = events.wait_status(ReaderState.ERROR)
        events.wait_status(ReaderState.CONNECTED)
        emulator.tap(UID)
        assert events.wait_card().uid == UID
    assert "driver bug on first open" in error.detail


def test_a_decoder_that_crashes_is_reported_and_reopening_backs_off_instead_of_spinning(emulator, events):
    opens = []

    class CrashingDecoder:
        def feed(self, data):
            raise ValueError("decoder bug")

    class RecordingBackoff(Backoff):
        def __init__(self) -> None:
            super().__init__(0.05, cap_s=0.4)
            self.delays: list[float] = []

        def next_delay(self) -> float:
            self.delays.append(super().next_delay())
            return self.delays[-1]

    def open_transport():
        transport = SerialTransport(emulator.port)
        opens.append(1)
        emulator.write(b"\x02")  # a byte waiting on every connection, so every connection crashes
        return transport

    backoff = RecordingBackoff()
    reader = Reader(reader_id="door", uri="test", tech="rfid125", open_transport=open_transport,
                    make_decoder=CrashingDecoder, sink=events, backoff=backoff)
    with reader.start():
        wait_until(lambda: len(opens) >= 4, what="four connections, each crashing")
        assert reader.running
    errors = [e for e in events.drain() + events.seen if isinstance(e, ReaderStatus) and e.state is ReaderState.ERROR]
    assert errors and "decoder bug" in errors[0].detail
    # Between every crashed connection and the next open it waited, each wait longer: no spinning.
    assert backoff.delays[:3] == [0.05, 0.1, 0.2]
    assert len(backoff.delays) >= len(opens) - 1
