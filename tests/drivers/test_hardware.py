"""Real readers on a Raspberry Pi. Off by default; run on the device with

    KIOSK_TEST_READER_URI=rdm6300:tty:/dev/ttyAMA0 python -m pytest tests/drivers -m hardware -s

and present a card (or swipe / scan) when the test asks for it.
"""
from __future__ import annotations

import os

import pytest

from drivers.events import CardRead, CardRefused, ReaderState
from drivers.registry import open_reader

pytestmark = pytest.mark.hardware

URI = os.environ.get("KIOSK_TEST_READER_URI", "")


@pytest.fixture
def hardware_uri():
    if not URI:
        pytest.fail("set KIOSK_TEST_READER_URI to the reader URI under test (see docs/wiring.md)")
    return URI


def test_the_real_reader_connects_and_reads_a_presented_card(hardware_uri, events):
    with open_reader(hardware_uri, events).start():
        events.wait_status(ReaderState.CONNECTED, timeout_s=10)
        print(f"\npresent a loyalty card to {hardware_uri} within 30 s")
        card = events.wait_for(lambda e: isinstance(e, (CardRead, CardRefused)), timeout_s=30)
    assert isinstance(card, CardRead), f"the reader refused the card: {card}"
    assert card.uid


def test_a_card_held_on_the_real_reader_for_three_seconds_is_one_tap(hardware_uri, events):
    with open_reader(hardware_uri, events).start():
        events.wait_status(ReaderState.CONNECTED, timeout_s=10)
        print("\nhold a card on the reader for 3 s, then take it away")
        events.wait_card(timeout_s=30)
        later = events.drain(settle_s=4.0)
    assert events.cards(later) == []


def test_unplugging_the_real_reader_reports_disconnected_and_replugging_reconnects(hardware_uri, events):
    if ":tty:/dev/ttyAMA" in hardware_uri or ":tty:/dev/serial0" in hardware_uri:
        pytest.skip("the Pi's own UART cannot be unplugged; run with a USB reader")
    with open_reader(hardware_uri, events).start():
        events.wait_status(ReaderState.CONNECTED, timeout_s=10)
        print("\nunplug the reader's USB cable")
        events.wait_status(ReaderState.DISCONNECTED, timeout_s=30)
        print("plug it back in")
        events.wait_status(ReaderState.CONNECTED, timeout_s=60)
