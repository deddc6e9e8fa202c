"""WiegandReader on gpiozero MockFactory pins, driven with real-like pulse timing."""
from __future__ import annotations

import queue
import threading
import time

import pytest
from hypothesis import given, settings, strategies as st
from gpiozero import BadPinFactory, DigitalInputDevice
from gpiozero.pins.mock import MockFactory, MockPin

from drivers.errors import DriverError, TransportError
from drivers.events import BadRead, CardRead, ReaderState, ReaderStatus
from drivers.misreads import GARBAGE_ERROR_AFTER
from drivers.gpio.pins import GpioConfigError
from drivers.wiegand.frames import encode_frame
from drivers.emulated.wiegand import WiegandEmulator
from drivers.wiegand.reader import WiegandReader
from tests.support.branches import Branches
from tests.support.waiting import wait_past

D0_PIN, D1_PIN = 17, 27
WAIT_S = 10.0  # a deadline for a condition, never a duration the test needs
HELD_S = 60.0  # a debounce no delay under load can outlast: a repeat is a repeat
# The emulator times its bits with sleeps on a real clock; on a loaded machine its thread
# can stall for tens of milliseconds between two bits, which the 25 ms default frame gap
# would take for the end of a frame. A frame gap no stall outlasts keeps a frame whole.
LOADED = {"frame_gap_s": 0.5, "stuck_low_s": 2.0}


@pytest.fixture
def factory():
    f = MockFactory()
    yield f
    f.reset()
    f.close()


@pytest.fixture
def events():
    return queue.Queue()


@pytest.fixture
def reader(factory, events):
    with WiegandReader(D0_PIN, D1_PIN, events, reader_id="door",
                       pin_factory=factory, **LOADED, debounce_s=HELD_S) as r:
        yield r


@pytest.fixture
def card(factory, reader):
    return WiegandEmulator(factory, D0_PIN, D1_PIN)


def next_event(events, kind=None, timeout=WAIT_S):
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no {kind.__name__ if kind else 'event'} within {timeout} s")
        ev = events.get(timeout=left)
        if kind is None or isinstance(ev, kind):
            return ev


def drain(events):
    """Everything emitted so far; wait for the reader first (wait_for_frames) so nothing is still to come."""
    out = []
    while True:
        try:
            out.append(events.get_nowait())
        except queue.Empty:
            return out


def processed(reader, count):
    assert reader.wait_for_frames(count, WAIT_S), f"the reader processed {reader.frames_processed} of {count} frames"


def test_starting_reports_the_reader_connected_on_its_pins(events, reader):
    status = next_event(events)
    assert status == ReaderStatus("door", ReaderState.CONNECTED, status.detail, status.at)
    assert "GPIO17" in status.detail and "GPIO27" in status.detail


def test_a_26_bit_card_is_read_as_a_wiegand_card_read(events, card):
    next_event(events)  # connected
    card.present(123, 45678, 26)
    read = next_event(events)
    assert isinstance(read, CardRead)
    assert (read.uid, read.tech, read.reader_id) == ("26:123:45678", "wiegand", "door")


def test_a_34_bit_card_is_read_with_its_16_bit_facility(events, card):
    next_event(events)
    card.present(4660, 22136, 34)
    read = next_event(events, CardRead)
    assert read.uid == "34:4660:22136"


def test_a_frame_with_a_bad_parity_is_a_bad_read_and_the_loop_keeps_reading(events, card):
    next_event(events)
    bits = list(encode_frame(1, 2, 26))
    bits[5] ^= 1
    card.send_bits(bits)
    misread = next_event(events)
    assert isinstance(misread, BadRead)
    assert "parity" in misread.detail and "Tap the card again" in misread.detail
    card.present(1, 3, 26)
    assert next_event(events).uid == "26:1:00003"  # no status in between: the reader never failed


def test_a_run_of_bad_frames_past_the_threshold_is_a_reader_error_until_a_good_read(events, card, reader):
    next_event(events)
    for n in range(1, GARBAGE_ERROR_AFTER + 1):
        card.send_bits("1" * 37)
        processed(reader, n)  # one frame at a time: frames sent back to back would run into one
    status = next_event(events, ReaderStatus)
    assert status.state is ReaderState.ERROR and f"{GARBAGE_ERROR_AFTER} malformed reads in a row" in status.detail
    card.present(1, 3, 26)
    recovered = next_event(events, ReaderStatus)
    assert (recovered.state, recovered.detail) == (ReaderState.CONNECTED, "reading")
    assert next_event(events, CardRead).uid == "26:1:00003"


def test_a_frame_of_the_wrong_length_is_reported_with_its_length(events, card):
    next_event(events)
    card.send_bits("1" * 37)
    misread = next_event(events)
    assert isinstance(misread, BadRead)
    assert "37 bits" in misread.detail
    card.present(9, 9, 26)
    assert next_event(events, CardRead).uid == "26:9:00009"


def test_real_timing_jitter_between_bits_does_not_break_frames(factory, events, reader):
    next_event(events)
    jittery = WiegandEmulator(factory, D0_PIN, D1_PIN, pulse_s=40e-6,
                              interval_s=0.0005, jitter_s=0.006, seed=7)
    for count, number in enumerate((100, 200, 300), start=1):
        jittery.present(50, number, 26)
        assert next_event(events, CardRead).uid == f"26:50:{number:05d}"
        processed(reader, count)


def test_a_card_held_on_the_reader_is_read_once_within_the_debounce_time(events, reader, card):
    next_event(events)
    card.present(7, 77, 26)
    assert next_event(events, CardRead).uid == "26:7:00077"
    card.present(7, 77, 26)  # the reader repeats while the card is held
    processed(reader, 2)
    assert [e for e in drain(events) if isinstance(e, CardRead)] == []


def test_the_same_card_after_the_debounce_time_is_a_new_tap(factory, events):
    with WiegandReader(D0_PIN, D1_PIN, events, reader_id="door", pin_factory=factory, **LOADED,
                       debounce_s=0.3) as reader:
        card = WiegandEmulator(factory, D0_PIN, D1_PIN)
        next_event(events)
        card.present(7, 77, 26)
        assert next_event(events, CardRead).uid == "26:7:00077"
        wait_past(time.monotonic(), 0.3)  # the reader saw the card before the read reached us
        card.present(7, 77, 26)
        assert next_event(events, CardRead).uid == "26:7:00077"
        processed(reader, 2)


def test_a_different_card_inside_the_debounce_time_is_still_read(events, reader, card):
    next_event(events)
    card.present(7, 77, 26)
    next_event(events, CardRead)
    card.present(7, 78, 26)
    assert next_event(events, CardRead).uid == "26:7:00078"
    card.present(7, 77, 26)  # the first card, still held: remembered per card
    processed(reader, 3)
    assert [e for e in drain(events) if isinstance(e, CardRead)] == []


def test_d0_and_d1_low_together_is_reported_as_a_wiring_problem_on_a_bad_read(factory, events, reader):
    next_event(events)
    d0, d1 = factory.pin(D0_PIN), factory.pin(D1_PIN)
    d0.drive_low()
    d1.drive_low()
    time.sleep(0.0001)  # the width of the bad pulse, not a wait for the reader
    d0.drive_high()
    d1.drive_high()
    misread = next_event(events)
    # Once is noise (tap again); only a run of them makes the reader `error` (the threshold test above).
    assert isinstance(misread, BadRead) and "both low" in misread.detail


def test_a_line_held_low_is_reported_and_recovery_is_reported_too(factory, events):
    with WiegandReader(D0_PIN, D1_PIN, events, reader_id="door", pin_factory=factory,
                       frame_gap_s=0.5, stuck_low_s=1.0) as _reader:
        emu = WiegandEmulator(factory, D0_PIN, D1_PIN)
        next_event(events)
        emu.hold_low("D1")
        status = next_event(events)
        assert status.state is ReaderState.ERROR
        assert "D1 (GPIO27) held low" in status.detail
        emu.release("D1")
        released = next_event(events)
        assert (released.state, released.detail) == (ReaderState.CONNECTED, "lines released")
        emu.present(5, 5, 26)
        read = next_event(events)  # the very next event: no second status came between
        assert isinstance(read, CardRead) and read.uid == "26:5:00005"


class ShortedToGround(MockPin):
    """A line shorted to ground (a cut cable, an unpowered reader): the pull-up the reader sets cannot raise it."""

    def _set_pull(self, value):
        self._pull = value  # no drive_high: the short wins


def test_lines_already_held_low_when_the_reader_starts_are_reported_though_they_never_fall():
    shorted = MockFactory(pin_class=ShortedToGround)
    events = queue.Queue()
    try:
        with WiegandReader(D0_PIN, D1_PIN, events, reader_id="door", pin_factory=shorted,
                           frame_gap_s=0.5, stuck_low_s=1.0):
            assert next_event(events).state is ReaderState.CONNECTED
            # No falling edge ever comes: only the reader's look at the lines as it starts can see them low.
            status = next_event(events)
            assert status.state is ReaderState.ERROR
            assert f"D0 (GPIO{D0_PIN}) and D1 (GPIO{D1_PIN}) held low" in status.detail
    finally:
        shorted.reset()
        shorted.close()


def test_a_failing_sink_does_not_stop_the_reader(factory):
    got = []

    def sink(event):
        got.append(event)
        if len(got) == 2:
            raise RuntimeError("consumer broke")

    with WiegandReader(D0_PIN, D1_PIN, sink, reader_id="door", pin_factory=factory, **LOADED,
                       debounce_s=0) as reader:
        emu = WiegandEmulator(factory, D0_PIN, D1_PIN)
        emu.present(1, 1, 26)
        processed(reader, 1)
        emu.present(1, 2, 26)
        processed(reader, 2)
    reads = [e.uid for e in got if isinstance(e, CardRead)]
    assert reads == ["26:1:00001", "26:1:00002"]


def test_a_plain_callable_sink_gets_the_same_events_as_a_queue(factory):
    got = []
    with WiegandReader(D0_PIN, D1_PIN, got.append, reader_id="r2", pin_factory=factory, **LOADED) as reader:
        WiegandEmulator(factory, D0_PIN, D1_PIN).present(2, 2, 34)
        processed(reader, 1)
    assert [e.uid for e in got if isinstance(e, CardRead)] == ["34:2:00002"]
    assert got[-1].state is ReaderState.DISCONNECTED


def test_close_releases_the_pins_and_reports_disconnected(factory, events):
    reader = WiegandReader(D0_PIN, D1_PIN, events, reader_id="door", pin_factory=factory)
    reader.start()
    reader.close()
    reader.close()  # idempotent
    states = [e.state for e in drain(events)]
    assert states == [ReaderState.CONNECTED, ReaderState.DISCONNECTED]
    DigitalInputDevice(D0_PIN, pin_factory=factory).close()  # pin is free again
    with pytest.raises(DriverError, match="closed"):
        reader.start()


def test_a_pin_already_in_use_is_a_transport_error_and_an_error_status(factory, events):
    busy = DigitalInputDevice(D1_PIN, pin_factory=factory)
    try:
        reader = WiegandReader(D0_PIN, D1_PIN, events, reader_id="door", pin_factory=factory)
        with pytest.raises(TransportError, match=r"GPIO27 for D1.*group 'gpio'"):
            reader.start()
        status = next_event(events)
        assert status.state is ReaderState.ERROR and "GPIO27" in status.detail
        # D0 was opened before D1 failed; it must have been released
        DigitalInputDevice(D0_PIN, pin_factory=factory).close()
    finally:
        busy.close()


@pytest.mark.parametrize("d0, d1, message", [
    (17, 17, "D0 and D1 are both set to GPIO17"),
    (17, 40, "D1 pin 40 is not a header GPIO"),
    ("17", 27, "must be a BCM GPIO number"),
])
def test_impossible_pin_assignments_are_refused_before_touching_gpio(d0, d1, message):
    with pytest.raises(GpioConfigError, match=message):
        WiegandReader(d0, d1, print, reader_id="door")


def test_the_uri_pin_spec_builds_a_reader_on_those_pins(factory):
    reader = WiegandReader.from_pin_spec("D0=5,d1=6", print, reader_id="x", pin_factory=factory)
    assert (reader.d0, reader.d1) == (5, 6)


@pytest.mark.parametrize("spec, message", [
    ("D0=17", "missing D1"),
    ("D0=17,D1=x", "D1 must be a BCM GPIO number"),
    ("D0=17,D2=27", "got 'D2=27'"),
    ("D0=17,D0=18,D1=27", "D0 is given twice"),
])
def test_a_bad_uri_pin_spec_names_what_is_wrong(spec, message):
    with pytest.raises(GpioConfigError, match=message):
        WiegandReader.from_pin_spec(spec, print, reader_id="x")


def test_the_reader_thread_ends_with_close(factory, events):
    before = {t.name for t in threading.enumerate()}
    with WiegandReader(D0_PIN, D1_PIN, events, reader_id="t", pin_factory=factory):
        assert "wiegand-t" in {t.name for t in threading.enumerate()}
    assert {t.name for t in threading.enumerate()} <= before


def test_any_bits_on_the_wire_give_a_read_or_an_error_status_and_reading_goes_on():
    branches = Branches()

    @settings(max_examples=12, deadline=None)
    @given(st.one_of(
        st.lists(st.integers(0, 1), min_size=1, max_size=40),
        st.builds(lambda f, n: list(encode_frame(f, n, 26)), st.integers(0, 255), st.integers(0, 0xFFFF)),
    ))
    def example(bits):
        factory = MockFactory()
        events = queue.Queue()
        try:
            with WiegandReader(D0_PIN, D1_PIN, events, reader_id="fuzz", pin_factory=factory, **LOADED,
                               debounce_s=0) as reader:
                next_event(events)  # connected
                emu = WiegandEmulator(factory, D0_PIN, D1_PIN, interval_s=0.0003)
                emu.send_bits(bits)
                outcome = next_event(events)
                if isinstance(outcome, CardRead):
                    assert len(bits) in (26, 34)
                    branches.took("read")
                else:
                    assert isinstance(outcome, BadRead) and outcome.detail
                    branches.took("error")
                processed(reader, 1)
                emu.present(3, 4, 26)
                assert next_event(events, CardRead).uid == "26:3:00004"
        finally:
            factory.reset()
            factory.close()

    example()
    branches.require(read=0.25, error=0.2)


class NoBackendFactory(MockFactory):
    """What gpiozero does on a machine where no pin library can be loaded."""

    def pin(self, name, pin_class=None, **kwargs):
        raise BadPinFactory("Unable to load any default pin factory!")


def test_a_missing_gpio_backend_says_how_to_install_one(events):
    factory = NoBackendFactory()
    try:
        reader = WiegandReader(D0_PIN, D1_PIN, events, reader_id="door", pin_factory=factory)
        with pytest.raises(TransportError, match=r"no GPIO backend.*python3-lgpio.*MockFactory"):
            reader.start()
    finally:
        factory.close()


def test_the_reader_has_the_same_surface_as_the_generic_readers(factory, events):
    reader = WiegandReader.from_pin_spec("D0=17,D1=27", events, reader_id="w", pin_factory=factory)
    assert (reader.uri, reader.tech, reader.running) == ("wiegand:gpio:D0=17,D1=27", "wiegand", False)
    assert reader.start() is reader and reader.running
    assert reader.start() is reader  # already running: nothing happens
    reader.close(timeout_s=1.0)
    assert not reader.running


def test_a_negative_debounce_is_refused(factory):
    with pytest.raises(ValueError, match="debounce"):
        WiegandReader(D0_PIN, D1_PIN, print, reader_id="w", debounce_s=-1)
