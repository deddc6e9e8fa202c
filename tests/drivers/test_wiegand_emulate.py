"""The shipped virtual Wiegand reader that the demo taps through its control socket."""
from __future__ import annotations

import queue

import pytest

from drivers.emulated.control import handle_request
from drivers.errors import DriverError
from drivers.events import CardRead, ReaderState
from drivers.emulated.wiegand import open_emulated_wiegand


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
