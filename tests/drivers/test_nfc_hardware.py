"""NfcReader against real readers on a Raspberry Pi (run with ``-m hardware``).

Set ``KIOSK_NFC_PN532`` (default ``/dev/serial0``) and ``KIOSK_NFC_USB``
(default ``usb:072f:2200``, an ACR122U) to the readers attached. The tap tests
wait up to 20 s for a person to put a card on the reader.
"""
from __future__ import annotations

import os
import queue

import pytest

from drivers.events import CardRead, ReaderState, ReaderStatus
from drivers.nfc.reader import NfcReader

pytestmark = pytest.mark.hardware

READERS = {
    "pn532-uart": os.environ.get("KIOSK_NFC_PN532", "/dev/serial0"),
    "acr122u-usb": os.environ.get("KIOSK_NFC_USB", "usb:072f:2200"),
}


def _first(events: queue.Queue, kind: type, timeout: float, **fields: object) -> object:
    while True:
        event = events.get(timeout=timeout)  # queue.Empty fails the test
        if isinstance(event, kind) and all(getattr(event, k) == v for k, v in fields.items()):
            return event


@pytest.mark.parametrize("name", sorted(READERS))
def test_the_real_reader_connects(name):
    events: queue.Queue = queue.Queue()
    with NfcReader(READERS[name], events.put, reader_id=name):
        status = _first(events, ReaderStatus, 10)

    assert status.state is ReaderState.CONNECTED, status.detail


@pytest.mark.parametrize("name", sorted(READERS))
def test_a_card_tapped_on_the_real_reader_is_one_card_read(name):
    events: queue.Queue = queue.Queue()
    with NfcReader(READERS[name], events.put, reader_id=name):
        _first(events, ReaderStatus, 10, state=ReaderState.CONNECTED)
        print(f"\ntap and hold a card on {name} ({READERS[name]}) now")
        read = _first(events, CardRead, 20)
        held = [e for e in _drain_for(events, 2.0) if isinstance(e, CardRead)]

    assert read.tech == "nfc" and read.uid
    assert held == [], "a card held on the reader must be one tap"


def _drain_for(events: queue.Queue, seconds: float) -> list[object]:
    seen = []
    try:
        while True:
            seen.append(events.get(timeout=seconds))
    except queue.Empty:
        return seen
