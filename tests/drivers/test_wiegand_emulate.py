"""The shipped virtual Wiegand reader that the demo taps through its control socket."""
from __future__ import annotations

import queue
import time

import pytest

from drivers.emulated.control import handle_request
from drivers.errors import DriverError
from drivers.events import BadRead, CardRead, ReaderState, ReaderStatus
from drivers.emulated.wiegand import FrameClock, WiegandEmulator, open_emulated_wiegand
from drivers.wiegand.reader import WiegandReader


def next_read(events, timeout=3.0):
    while True:
        event = events.get(timeout=timeout)
        if isinstance(event, CardRead):
            return event


@pytest.fixture
def emulated():
    events = queue.Queue()
    reader = open_emulated_wiegand(events, debounce_s=0)
    with reader:
        yield reader, events


@pytest.mark.parametrize("card, uid", [
    ("26:123:45678", "26:123:45678"),
    ("34:4660:22136", "34:4660:22136"),
    ("123:45678", "26:123:45678"),
])
def test_tapping_a_card_id_on_the_emulator_reads_that_card(emulated, card, uid):
    reader, events = emulated
    reader.emulator.tap(card)
    read = next_read(events)
    assert (read.uid, read.tech, read.reader_id) == (uid, "wiegand", "emulated:wiegand")


def test_the_demo_tap_socket_protocol_drives_the_wiegand_emulator(emulated):
    reader, events = emulated
    assert handle_request("TAP wiegand 26:1:2", {"wiegand": reader.emulator}) == "OK"
    assert next_read(events).uid == "26:1:00002"


@pytest.mark.parametrize("card, message", [
    ("abc", "expected <length>:<facility>:<card number>"),
    ("26:256:1", "facility code 256 does not fit 8 bits"),
    ("30:1:1", "length must be one of"),
    ("1:2:3:4", "expected <length>"),
])
def test_a_bad_card_to_tap_is_a_clear_error(emulated, card, message):
    reader, _ = emulated
    with pytest.raises(DriverError, match=message):
        reader.emulator.tap(card)
    reply = handle_request(f"TAP wiegand {card}", {"wiegand": reader.emulator})
    assert reply.startswith("ERR cannot tap Wiegand card")


def test_closing_the_emulated_reader_closes_its_pins():
    events = queue.Queue()
    reader = open_emulated_wiegand(events).start()
    reader.close()
    states = []
    while not events.empty():
        states.append(events.get().state)
    assert states == [ReaderState.CONNECTED, ReaderState.DISCONNECTED]
    assert reader.emulator.closed
    with pytest.raises(DriverError, match="emulator is closed"):
        reader.emulator.tap("26:1:1")


def stalling_sleep(stall_at: int, stall_s: float):
    """time.sleep, except that its stall_at-th call oversleeps by stall_s, as a descheduled thread does."""
    calls = []

    def sleep(seconds):
        calls.append(seconds)
        time.sleep(seconds + (stall_s if len(calls) == stall_at else 0.0))
    return sleep


def read_after_a_stall(on_emulator_clock: bool):
    from gpiozero.pins.mock import MockFactory

    events, factory = queue.Queue(), MockFactory()
    # The 20th sleep is the gap before bit 10: 0.4 s there is four of the reader's frame gaps.
    emulator = WiegandEmulator(factory, 17, 27, owns_factory=True, sleep=stalling_sleep(20, 0.4))
    clock = {"clock": emulator.clock} if on_emulator_clock else {}
    with WiegandReader(17, 27, events, reader_id="stall", pin_factory=factory, debounce_s=0,
                       frame_gap_s=0.1, **clock) as reader:
        emulator.tap("26:123:45678")
        assert reader.wait_for_frames(1, 5.0)
        reader.wait_for_frames(2, 0.5)  # a split frame's second half, if there is one
    emulator.close()
    return drain(events)


def drain(events):
    out = []
    while not events.empty():
        event = events.get_nowait()
        if not isinstance(event, ReaderStatus):
            out.append(event)
    return out


def test_a_stall_of_the_emulator_inside_a_frame_splits_it_for_a_reader_on_real_time():
    events = read_after_a_stall(on_emulator_clock=False)
    assert events and all(isinstance(e, BadRead) for e in events)
    assert "of 10 bits" in events[0].detail


def test_the_emulated_reader_reads_a_frame_whole_through_a_stall_of_the_emulator_on_its_clock():
    events = read_after_a_stall(on_emulator_clock=True)
    assert [(type(e), e.uid) for e in events] == [(CardRead, "26:123:45678")]


def test_the_frame_clock_moves_only_as_the_emulator_meant_inside_a_frame_and_never_backwards():
    now = [100.0]
    clock = FrameClock(source=lambda: now[0])
    with clock.frame():
        now[0] += 5.0  # the emulator's thread stalled for five seconds
        clock.advance(0.002)
        assert clock() == 100.002
    assert clock() == 105.0
    now[0] = 104.0  # a source that stepped back is not followed
    assert clock() == 105.0
