"""NFC reader URIs from kiosk.toml -> the path NfcReader opens."""
from __future__ import annotations

import os
import queue

import pytest

from drivers.emulated.pn532 import Pn532Emulator
from drivers.errors import ReaderURIError
from drivers.events import CardRead
from drivers.nfc.uri import nfc_reader_path
from drivers.registry import open_reader


@pytest.mark.parametrize(
    ("uri", "path"),
    [
        ("pn532:tty:/dev/ttyS0", "/dev/ttyS0"),
        ("pn532:tty:/dev/serial0", "/dev/serial0"),
        ("nfc:tty:S0:pn532", "tty:S0:pn532"),
        ("nfc:tty:AMA0:pn532", "tty:AMA0:pn532"),
        ("nfc:usb", "usb"),
        ("nfc:usb:072f:2200", "usb:072f:2200"),
        ("nfc:usb:001:023", "usb:001:023"),
        ("emulated:pn532", None),
    ],
)
def test_each_supported_uri_maps_to_the_nfcpy_or_serial_path(uri, path):
    assert nfc_reader_path(uri) == path


@pytest.mark.parametrize(
    ("uri", "hint"),
    [
        ("pn532:tty:ttyS0", "pn532:tty:/dev/ttyS0"),
        ("pn532:/dev/ttyS0", "pn532:tty:/dev/ttyS0"),
        ("nfc:tty:/dev/ttyS0:pn532", "nfc:tty:S0:pn532"),
        ("nfc:tty:S0", "nfc:tty:S0:pn532"),
        ("nfc:usb:acr122", "nfc:usb:072f:2200"),
        ("rdm6300:tty:/dev/ttyAMA0", "emulated:pn532"),
    ],
)
def test_a_malformed_uri_is_refused_with_the_accepted_forms(uri, hint):
    with pytest.raises(ReaderURIError, match=hint):
        nfc_reader_path(uri)


def test_other_readers_uris_are_refused_as_not_nfc():
    with pytest.raises(ReaderURIError, match="is not an NFC reader"):
        nfc_reader_path("rdm6300:tty:/dev/ttyAMA0")


def test_the_registry_builds_an_unstarted_reader_for_a_serial_pn532():
    handle = open_reader("pn532:tty:/dev/ttyS0", print, debounce_s=0.5)

    assert (handle.reader.path, handle.uri, handle.reader_id, handle.reader.tech) == (
        "/dev/ttyS0", "pn532:tty:/dev/ttyS0", "pn532:tty:/dev/ttyS0", "nfc"
    )
    assert not handle.running and handle.emulator is None


def test_the_registry_refuses_a_bad_nfc_uri_before_building_anything():
    with pytest.raises(ReaderURIError, match="pn532:tty:/dev/ttyS0"):
        open_reader("pn532:ttyS0", print)


def test_an_emulated_pn532_reader_brings_its_emulator_and_closes_it():
    events: queue.Queue = queue.Queue()
    handle = open_reader("emulated:pn532", events.put, reader_id="demo")
    assert isinstance(handle.emulator.device, Pn532Emulator)

    with handle.start():
        handle.emulator.device.tap("04A1B2C3D4E5F6 600123456789")
        read = _first_card_read(events)

    assert (read.uid, read.reader_id) == ("600123456789", "demo")
    assert not os.path.exists(handle.emulator.port)


def _first_card_read(events: queue.Queue) -> CardRead:
    while True:
        event = events.get(timeout=5)
        if isinstance(event, CardRead):
            return event
