"""NFC reader URIs from kiosk.toml -> the path NfcReader opens."""
from __future__ import annotations

import pytest

from drivers.errors import ReaderURIError
from drivers.nfc_uri import is_nfc_uri, nfc_reader_path


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
    assert is_nfc_uri(uri)
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


def test_other_readers_uris_are_not_claimed():
    assert not is_nfc_uri("rdm6300:tty:/dev/ttyAMA0")
    assert not is_nfc_uri("emulated:pty")
