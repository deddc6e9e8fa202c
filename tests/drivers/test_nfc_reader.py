"""NfcReader end to end: nfcpy's real PN532 driver against the emulator on a pty."""
from __future__ import annotations

import queue
import threading
import time

import pytest

from drivers.emulated.pn532 import Pn532Emulator
from drivers.errors import TransportError
from drivers.events import CardRead, CardRefused, ReaderState, ReaderStatus
from drivers.nfc.card_number import CARD_RECORD_TYPE, card_number_message
from drivers.nfc.frontend import open_frontend
from drivers.nfc.reader import NfcReader, TapDebouncer

NTAG_UID = bytes.fromhex("04a1b2c3d4e5f6")
OTHER_UID = bytes.fromhex("04112233445566")
DEBOUNCE_S = 0.5
WAIT_S = 10.0  # a deadline for a condition, never a duration the test needs
HELD_POLLS = 5  # turns of the reader's poll loop while a card stays on it, each a sighting


class ManualClock:
    """The reader's debounce clock, moved only by the test: a stalled poll on a loaded
    machine cannot look like the card was lifted."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def answered(emulator, count: int = HELD_POLLS) -> None:
    """Wait until the reader polled ``count`` more times: each poll starts a new turn of
    its loop, so whatever it did with the sightings before has finished."""
    target = emulator.counts()["polls"] + count
    deadline = time.monotonic() + WAIT_S
    while emulator.counts()["polls"] < target:
        assert time.monotonic() < deadline, f"the reader stopped polling: {emulator.counts()}"
        time.sleep(0.005)  # polling the chip's poll count; the condition ends the wait


class Events:
    """A sink that lets a test wait for the event it expects."""

    def __init__(self) -> None:
        self._queue: queue.Queue[object] = queue.Queue()
        self.seen: list[object] = []

    def __call__(self, event: object) -> None:
        self._queue.put(event)

    def wait_for(self, kind: type, timeout: float = 5.0, **fields: object) -> object:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = self._queue.get(timeout=left)
            except queue.Empty:
                break
            self.seen.append(event)
            if isinstance(event, kind) and all(getattr(event, k) == v for k, v in fields.items()):
                return event
        raise AssertionError(f"no {kind.__name__} {fields} within {timeout} s; saw {self.seen}")

    def drain(self) -> list[object]:
        drained = []
        while True:
            try:
                drained.append(self._queue.get_nowait())
            except queue.Empty:
                self.seen.extend(drained)
                return drained


def reads(events: list[object]) -> list[CardRead]:
    return [e for e in events if isinstance(e, CardRead)]


@pytest.fixture
def link(tmp_path):
    return tmp_path / "pn532"


@pytest.fixture
def emulator(link):
    with Pn532Emulator(link=link) as emulator:
        yield emulator


@pytest.fixture
def events():
    return Events()


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def make_reader(events, clock):
    readers = []

    def make(path, sink=events, **options) -> NfcReader:
        options = {"reader_id": "front", "debounce_s": DEBOUNCE_S, "poll_interval_s": 0.02,
                   "backoff_initial_s": 0.05, "backoff_max_s": 0.2, "clock": clock, **options}
        reader = NfcReader(str(path), sink, **options)
        readers.append(reader)
        return reader.start()

    yield make
    for reader in readers:
        reader.close()


@pytest.fixture
def reader(emulator, make_reader, events):
    reader = make_reader(emulator.port)
    events.wait_for(ReaderStatus, state=ReaderState.CONNECTED)
    return reader


def test_a_card_held_on_the_reader_gives_exactly_one_card_read_with_its_uid(emulator, reader, events):
    emulator.present(NTAG_UID)

    read = events.wait_for(CardRead)
    answered(emulator)

    assert (read.uid, read.tech, read.reader_id) == ("04A1B2C3D4E5F6", "nfc", "front")
    assert reads(events.drain()) == []


def test_the_ndef_card_number_wins_over_the_uid(emulator, reader, events):
    emulator.present(NTAG_UID, card_number_message("600123456789"))

    assert events.wait_for(CardRead).uid == "600123456789"


def test_a_card_removed_and_presented_again_after_the_gap_is_a_new_tap(emulator, reader, events, clock):
    emulator.present(NTAG_UID)
    events.wait_for(CardRead)

    emulator.remove()
    answered(emulator, 2)
    clock.advance(DEBOUNCE_S + 0.1)
    emulator.present(NTAG_UID)

    assert events.wait_for(CardRead).uid == "04A1B2C3D4E5F6"


def test_a_card_lifted_and_put_back_within_the_debounce_time_is_the_same_tap(emulator, reader, events, clock):
    emulator.present(NTAG_UID)
    events.wait_for(CardRead)

    emulator.remove()
    answered(emulator, 2)
    clock.advance(DEBOUNCE_S / 4)
    emulator.present(NTAG_UID)
    answered(emulator)

    assert reads(events.drain()) == []


def test_a_card_swiped_away_before_its_ndef_was_read_yields_nothing_until_it_is_read(
    emulator, reader, events
):
    # GET_VERSION and the first READ are answered, the READ of the NDEF TLV is not.
    emulator.present(NTAG_UID, card_number_message("600123456789"), leaves_after=2)
    answered(emulator)
    assert reads(events.drain()) == []

    emulator.present(NTAG_UID, card_number_message("600123456789"))

    assert events.wait_for(CardRead).uid == "600123456789"


def test_another_card_is_a_new_tap_at_once(emulator, reader, events):
    emulator.present(NTAG_UID)
    events.wait_for(CardRead)

    emulator.present(OTHER_UID)

    assert events.wait_for(CardRead).uid == "04112233445566"


def test_a_mifare_classic_is_read_by_its_uid_once_while_held(emulator, reader, events):
    emulator.present(bytes.fromhex("a1b2c3d4"), sak=0x08)

    assert events.wait_for(CardRead).uid == "A1B2C3D4"
    answered(emulator)
    assert reads(events.drain()) == []


def test_a_card_with_a_random_id_is_refused_once_per_tap(emulator, reader, events):
    emulator.present(bytes.fromhex("08a1b2c3"))

    refused = events.wait_for(CardRefused)
    emulator.present(bytes.fromhex("08d4e5f6"))  # a bank card picks a new ID on each activation
    answered(emulator)

    assert "random ID" in refused.reason
    later = events.drain()
    assert [e for e in later if isinstance(e, (CardRead, CardRefused))] == []


def test_a_card_with_a_malformed_card_number_is_refused_not_read_by_uid(emulator, reader, events):
    import ndef

    message = b"".join(ndef.message_encoder([ndef.Record(CARD_RECORD_TYPE, "", "número".encode())]))
    emulator.present(NTAG_UID, message)

    refused = events.wait_for(CardRefused)

    assert "rewrite the card" in refused.reason
    assert reads(events.drain()) == []


@pytest.mark.parametrize("how", ["lcs", "dcs"])
def test_garbled_frames_from_the_chip_are_reported_and_the_reader_recovers_and_keeps_reading(
    emulator, reader, events, how
):
    emulator.garble(2, how)

    error = events.wait_for(ReaderStatus, state=ReaderState.ERROR)
    events.wait_for(ReaderStatus, state=ReaderState.CONNECTED)
    emulator.present(NTAG_UID)

    assert "Input/output error" in error.detail
    assert events.wait_for(CardRead).uid == "04A1B2C3D4E5F6"
    assert reader.running


def test_a_garbled_frame_while_a_card_is_held_does_not_make_a_second_tap(emulator, reader, events):
    emulator.present(NTAG_UID)
    events.wait_for(CardRead)

    emulator.garble(1, "dcs")
    events.wait_for(ReaderStatus, state=ReaderState.CONNECTED)
    answered(emulator)  # the clock has not moved: still inside the debounce window after the reopen

    assert reads(events.drain()) == []


def test_an_unplugged_reader_reports_disconnected_and_reconnects_when_plugged_back(
    emulator, reader, events
):
    emulator.unplug()
    gone = events.wait_for(ReaderStatus, state=ReaderState.DISCONNECTED)
    emulator.replug()
    events.wait_for(ReaderStatus, state=ReaderState.CONNECTED)
    emulator.present(NTAG_UID)

    assert events.wait_for(CardRead).uid == "04A1B2C3D4E5F6"
    assert "does not exist" in gone.detail and emulator.port in gone.detail


def test_a_new_emulator_on_the_same_port_is_found_again_after_the_old_one_closed(
    link, make_reader, events
):
    emulator = Pn532Emulator(link=link)
    make_reader(link)
    events.wait_for(ReaderStatus, state=ReaderState.CONNECTED)

    emulator.close()
    gone = events.wait_for(ReaderStatus, state=ReaderState.DISCONNECTED)
    with Pn532Emulator(link=link) as replugged:
        events.wait_for(ReaderStatus, state=ReaderState.CONNECTED)
        replugged.present(NTAG_UID)

        assert events.wait_for(CardRead).uid == "04A1B2C3D4E5F6"
    assert "does not exist" in gone.detail and str(link) in gone.detail


def test_a_reader_missing_at_start_says_what_to_check_and_retries_without_flooding(link, make_reader, events):
    attempts = threading.Semaphore(0)

    def counted(path: str):
        attempts.release()
        return open_frontend(path)

    make_reader(link, open_frontend=counted)

    missing = events.wait_for(ReaderStatus, state=ReaderState.DISCONNECTED)
    for _ in range(5):  # several capped retries; the fifth began after the fourth was reported
        assert attempts.acquire(timeout=WAIT_S)

    assert "check the reader URI" in missing.detail
    assert [e for e in events.drain() if isinstance(e, ReaderStatus)] == []


def test_a_port_without_a_pn532_on_it_is_reported_as_no_answer(tmp_path, make_reader, events):
    import os
    import tty

    master, slave = os.openpty()  # a serial port where nothing answers
    tty.setraw(slave)
    try:
        make_reader(os.ttyname(slave))
        silent = events.wait_for(ReaderStatus, state=ReaderState.DISCONNECTED)
    finally:
        os.close(master)
        os.close(slave)

    assert "no PN532 answered" in silent.detail and "check wiring" in silent.detail


def test_retries_back_off_and_report_one_status_per_change(make_reader, events):
    attempts: list[float] = []
    enough = threading.Event()

    def unavailable(path: str):
        attempts.append(time.monotonic())
        if len(attempts) >= 5:
            enough.set()
        raise TransportError(f"nothing on {path}")

    make_reader("/dev/nothing", open_frontend=unavailable, backoff_initial_s=0.01, backoff_max_s=0.04)

    assert enough.wait(5)
    statuses = [e for e in events.drain() if isinstance(e, ReaderStatus)]
    assert [(s.state, s.detail) for s in statuses] == [(ReaderState.DISCONNECTED, "nothing on /dev/nothing")]


def test_an_unexpected_exception_while_opening_is_reported_and_the_thread_lives_on(make_reader, events):
    calls = []

    def broken(path: str):
        calls.append(path)
        raise RuntimeError("bug")

    reader = make_reader("/dev/x", open_frontend=broken)

    status = events.wait_for(ReaderStatus, state=ReaderState.ERROR)
    events.wait_for(ReaderStatus, state=ReaderState.ERROR)

    assert status.detail == "opening the reader failed: RuntimeError"
    assert reader.running and len(calls) >= 2


def test_a_sink_that_raises_does_not_stop_the_reader(emulator, make_reader, events):
    def fussy(event: object) -> None:
        events(event)
        raise RuntimeError("sink bug")

    make_reader(emulator.port, sink=fussy)
    events.wait_for(ReaderStatus, state=ReaderState.CONNECTED)
    emulator.present(NTAG_UID)

    assert events.wait_for(CardRead).uid == "04A1B2C3D4E5F6"


def test_close_stops_the_thread_releases_the_port_and_says_so(emulator, make_reader, events):
    reader = make_reader(emulator.port)
    events.wait_for(ReaderStatus, state=ReaderState.CONNECTED)
    commands_before = emulator.counts()["commands"]

    reader.close()

    last = events.drain()[-1]
    assert not reader.running and reader.closed
    assert (last.state, last.detail) == (ReaderState.DISCONNECTED, "reader closed")
    assert emulator.counts()["commands"] > commands_before  # nfcpy put the chip to sleep
    with NfcReader(emulator.port, events, reader_id="again") as again:  # the port is free again
        events.wait_for(ReaderStatus, state=ReaderState.CONNECTED, reader_id="again")
        assert again.path == emulator.port


@pytest.mark.parametrize(
    ("sightings", "new_taps"),
    [
        ([(b"A", 0.0), (b"A", 0.5), (b"A", 1.2)], [True, False, False]),  # held: each sighting < 1 s apart
        ([(b"A", 0.0), (b"A", 1.0)], [True, True]),  # away for the whole debounce time
        ([(b"A", 0.0), (b"B", 0.1), (b"A", 0.2)], [True, True, True]),  # another card in between
    ],
)
def test_the_debouncer_treats_a_held_card_as_one_tap(sightings, new_taps):
    debouncer = TapDebouncer(1.0)
    results = []
    for key, now in sightings:
        new = debouncer.observe(key, now)
        results.append(new)
        if new:
            debouncer.delivered()

    assert results == new_taps


def test_a_tap_that_was_not_delivered_is_tried_again_on_the_next_sighting():
    debouncer = TapDebouncer(1.0)

    assert debouncer.observe(b"A", 0.0)
    assert debouncer.observe(b"A", 0.1)  # the first read failed: still to be read
    debouncer.delivered()
    assert not debouncer.observe(b"A", 0.2)


def test_nonsense_settings_are_refused_with_the_reason(events):
    with pytest.raises(ValueError, match="debounce_s"):
        NfcReader("/dev/x", events, debounce_s=-1)
    with pytest.raises(ValueError, match="backoff"):
        NfcReader("/dev/x", events, backoff_initial_s=5, backoff_max_s=1)
