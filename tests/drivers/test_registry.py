"""Reader URIs from the config -> readers."""
from __future__ import annotations

import os
import re

import pytest

from drivers.emulated.pty import PtyEmulator
from drivers.errors import DriverError, ReaderURIError
from drivers.events import ReaderState
from drivers.registry import open_reader


def test_an_emulated_rdm6300_uri_gives_a_reader_tapped_through_its_emulator(events):
    reader = open_reader("emulated:rdm6300", events, debounce_s=0.5)
    assert isinstance(reader.emulator, PtyEmulator)
    assert (reader.uri, reader.reader_id) == ("emulated:rdm6300", "emulated:rdm6300")
    assert not reader.running  # the caller starts it
    with reader.start():
        events.wait_status(ReaderState.CONNECTED)
        reader.emulator.tap("0A00B1C2D3")
        card = events.wait_card()
    assert (card.uid, card.tech, card.reader_id) == ("0A00B1C2D3", "rfid125", "emulated:rdm6300")
    assert not os.path.exists(reader.emulator.port)  # closing the reader closed its emulator


def test_an_rdm6300_tty_uri_opens_that_device_and_reports_when_it_is_missing(events, tmp_path):
    missing = tmp_path / "ttyAMA9"
    reader = open_reader(f"rdm6300:tty:{missing}", events, reader_id="door")
    assert (reader.reader_id, reader.uri, reader.emulator) == ("door", f"rdm6300:tty:{missing}", None)
    with reader.start():
        status = events.wait_status(ReaderState.DISCONNECTED)
    assert str(missing) in status.detail


def test_an_rdm6300_tty_uri_reads_a_real_serial_device(events):
    with PtyEmulator() as emulator, open_reader(f"rdm6300:tty:{emulator.port}", events).start():
        events.wait_status(ReaderState.CONNECTED)
        emulator.tap("1F2E3D4C5B")
        assert events.wait_card().uid == "1F2E3D4C5B"


@pytest.mark.parametrize(
    "uri", ["", "rdm6300", "nfc:foo", "rdm6300:/dev/ttyAMA0", "rdm6300:usb:/dev/x", "rdm6300:tty:", "emulated:pn999"]
)
def test_an_unknown_uri_is_refused_naming_it_and_listing_the_accepted_forms(uri, events):
    with pytest.raises(ReaderURIError) as caught:
        open_reader(uri, events)
    message = str(caught.value)
    assert repr(uri) in message
    assert "rdm6300:tty:/dev/ttyAMA0" in message and "emulated:rdm6300" in message


def test_a_tty_uri_may_set_the_baud_rate(events):
    with PtyEmulator("barcode") as emulator:
        with open_reader(f"barcode:tty:{emulator.port}?baud=115200", events).start():
            events.wait_status(ReaderState.CONNECTED)
            emulator.tap("123456789")
            assert events.wait_card().uid == "123456789"


@pytest.mark.parametrize(
    "uri, hint",
    [
        ("rdm6300:hid:/dev/input/event3", "rdm6300:tty:/dev/..."),
        ("barcode:tty:/dev/ttyACM0?speed=fast", "?baud=N"),
        ("magstripe:usb:/dev/x", "magstripe:hid:/dev/... or magstripe:tty:/dev/..."),
    ],
)
def test_a_uri_with_a_transport_its_reader_cannot_use_says_which_it_can(uri, hint, events):
    with pytest.raises(ReaderURIError, match=re.escape(hint)):
        open_reader(uri, events)


def test_a_keyboard_wedge_uri_whose_device_is_missing_reports_disconnected(events, tmp_path):
    with open_reader(f"magstripe:hid:{tmp_path}/usb-reader-event-kbd", events).start():
        status = events.wait_status(ReaderState.DISCONNECTED)
    assert "cannot open input device" in status.detail and "'input' group" in status.detail


def test_an_emulated_nfc_reader_is_tapped_by_uid_through_its_emulator(events):
    with open_reader("emulated:pn532", events, reader_id="nfc-front").start() as reader:
        assert (reader.uri, reader.reader_id, reader.emulator.kind) == ("emulated:pn532", "nfc-front", "pn532")
        events.wait_status(ReaderState.CONNECTED, timeout_s=10)
        reader.emulator.tap("04A1B2C3D4E5F6")
        card = events.wait_card(timeout_s=10)
        assert reader.running
    assert (card.uid, card.tech, card.reader_id) == ("04A1B2C3D4E5F6", "nfc", "nfc-front")
    assert not reader.running


def test_an_emulated_wiegand_reader_reads_back_the_card_id_it_was_tapped_with(events):
    with open_reader("emulated:wiegand", events).start() as reader:
        assert reader.emulator.kind == "wiegand"
        reader.emulator.tap("34:4660:22136")
        card = events.wait_card()
    assert (card.uid, card.tech, card.reader_id) == ("34:4660:22136", "wiegand", "emulated:wiegand")


def test_a_malformed_wiegand_tap_is_refused_with_the_expected_form(events):
    with open_reader("emulated:wiegand", events) as reader:
        with pytest.raises(DriverError, match="<length>:<facility>:<card number>"):
            reader.emulator.tap("not-a-card")


@pytest.mark.parametrize(
    "uri, hint",
    [("nfc:foo", "nfc:usb:072f:2200"), ("pn532:usb", "pn532:tty:"), ("wiegand:gpio:D0=17", "D1"),
     ("wiegand:spi:D0=17,D1=27", "wiegand:gpio:D0=")],
)
def test_a_malformed_nfc_or_wiegand_uri_is_refused_with_its_own_hint(uri, hint, events):
    with pytest.raises(ReaderURIError, match=re.escape(hint)):
        open_reader(uri, events)


def test_a_tap_through_the_control_socket_reaches_an_emulated_nfc_reader(events, tmp_path):
    from drivers.emulated.control import TapControlServer, send_tap

    with open_reader("emulated:pn532", events).start() as reader:
        events.wait_status(ReaderState.CONNECTED, timeout_s=10)
        with TapControlServer({"pn532": reader.emulator}, tmp_path / "tap.sock") as server:
            with pytest.raises(DriverError, match="4, 7 or 10 bytes"):
                send_tap(server.socket_path, "XYZ", kind="pn532")
            send_tap(server.socket_path, "04A1B2C3D4E5F6", kind="pn532")
            assert events.wait_card(timeout_s=10).uid == "04A1B2C3D4E5F6"


def test_the_accepted_forms_name_every_emulated_kind_the_registry_opens():
    from drivers.registry import DEVICE_KINDS, OTHER_READERS
    from drivers.uri import ACCEPTED_FORMS

    named = {form.removeprefix("emulated:") for form in ACCEPTED_FORMS if form.startswith("emulated:")}
    opened = set(DEVICE_KINDS) | {uri.removeprefix("emulated:") for uri in OTHER_READERS if uri.startswith("emulated:")}
    assert named == opened
