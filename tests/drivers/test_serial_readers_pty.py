"""Every emulated serial reader, end to end: real bytes on a pty, the real driver via open_reader."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import pytest

from drivers.card_formats import CardFormats
from drivers.digital_card import issue_token
from drivers.events import BadRead, CardRead, CardRefused, ReaderState
from drivers.magstripe import MagstripeFormat, format_swipe
from drivers.registry import open_reader

KEY = b"digital-card-key-for-tests-0001"
FORMATS = CardFormats(
    magstripe=MagstripeFormat(track=2, pattern=r"77(?P<id>\d{10})"),
    barcode_pattern=r"LC(?P<id>\d{8})",
    token_key=KEY,
)
PAN = "4111111111111111"
BANK_SWIPE = format_swipe(f"B{PAN}^DOE/JOHN^25121010000000000", f"{PAN}=25121010000000000000")


@pytest.fixture
def open_emulated(events):
    opened = []

    def _open(kind, **kwargs):
        reader = open_reader(f"emulated:{kind}", events, formats=FORMATS, **kwargs).start()
        opened.append(reader)
        events.wait_status(ReaderState.CONNECTED)
        return reader

    yield _open
    for reader in opened:
        reader.close()


@pytest.mark.parametrize(
    "kind, presented, uid, tech",
    [
        ("em4100-hex", "0a00b1c2d3", "0A00B1C2D3", "rfid125"),
        ("em4100-dec", "0012345678", "0012345678", "rfid125"),
        ("magstripe", format_swipe("LCHAIN^MEMBER^", "770012345678"), "0012345678", "magstripe"),
        ("barcode", "LC12345678", "12345678", "barcode"),
    ],
)
def test_a_card_presented_to_each_emulated_reader_arrives_as_a_card_read(open_emulated, events, kind, presented, uid, tech):
    reader = open_emulated(kind)
    reader.emulator.tap(presented)
    card = events.wait_card()
    assert (card.uid, card.tech, card.reader_id) == (uid, tech, f"emulated:{kind}")


def test_a_digital_card_on_the_phone_is_read_as_a_qr_token(open_emulated, events):
    reader = open_emulated("barcode")
    reader.emulator.tap(issue_token("M-42", KEY, expires_at=datetime.now(timezone.utc) + timedelta(minutes=1)))
    card = events.wait_card()
    assert (card.uid, card.tech) == ("M-42", "qrtoken")


@pytest.mark.parametrize(
    "token_key, expires_in, reason",
    [(b"another-key-not-the-kiosks-0001", 60, "not genuine"), (KEY, -600, "expired")],
)
def test_a_forged_or_expired_digital_card_is_refused_with_its_reason(open_emulated, events, token_key, expires_in, reason):
    reader = open_emulated("barcode")
    token = issue_token("M-42", token_key, expires_at=datetime.now(timezone.utc) + timedelta(seconds=expires_in))
    reader.emulator.tap(token)
    refused = events.wait_for(lambda e: isinstance(e, CardRefused))
    assert reason in refused.reason and refused.reader_id == "emulated:barcode"
    reader.emulator.tap("LC12345678")
    assert events.wait_card().uid == "12345678"  # the reader keeps going


def test_a_swiped_bank_card_is_refused_and_its_digits_are_nowhere_in_the_log_file(open_emulated, events, tmp_path):
    log_file = tmp_path / "kiosk.log"
    handler = logging.FileHandler(log_file)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        reader = open_emulated("magstripe", debounce_s=0.0)  # every swipe reported, none merged
        reader.emulator.tap(BANK_SWIPE)
        refused = events.wait_for(lambda e: isinstance(e, CardRefused))
        reader.emulator.tap(format_swipe(None, f"{PAN}=2512101"))  # track 2 only
        events.wait_for(lambda e: isinstance(e, CardRefused))
        reader.emulator.tap(f";{PAN}=25")  # a bank swipe cut off mid-track: a misread, swipe again
        events.wait_for(lambda e: isinstance(e, BadRead))
        reader.emulator.tap(format_swipe("LCHAIN^MEMBER^", "770012345678"))
        events.wait_card()
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
        handler.close()
    text = log_file.read_text()
    assert "refused a card" in text and "bank card" in text  # the log did record the events
    assert "bank card" in refused.reason
    for secret in (PAN, PAN[-4:] + "=", "DOE/JOHN", "2512101"):
        assert secret not in text
        assert secret not in repr(events.seen)
    assert not any(isinstance(e, CardRead) and PAN in e.uid for e in events.seen)


def test_a_bank_card_swiped_twice_in_quick_succession_is_one_refusal(open_emulated, events):
    reader = open_emulated("magstripe")
    reader.emulator.tap(BANK_SWIPE)
    reader.emulator.tap(BANK_SWIPE)
    reader.emulator.tap(format_swipe("LCHAIN^MEMBER^", "770012345678"))
    events.wait_card()
    assert sum(isinstance(e, CardRefused) for e in events.seen + events.drain(0.1)) == 1


def test_an_unknown_swipe_is_refused_as_not_a_loyalty_card(open_emulated, events):
    reader = open_emulated("magstripe")
    reader.emulator.tap(format_swipe(None, "990012345678"))
    refused = events.wait_for(lambda e: isinstance(e, CardRefused))
    assert "not a loyalty card" in refused.reason


def test_a_reader_that_sends_enter_after_each_track_gives_one_read_per_swipe(events):
    formats = CardFormats(magstripe=FORMATS.magstripe, magstripe_enter_per_track=True)
    with open_reader("emulated:magstripe", events, formats=formats).start() as reader:
        events.wait_status(ReaderState.CONNECTED)
        reader.emulator.write(b"%LCHAIN^MEMBER^?\r;770012345678?\r")
        card = events.wait_card()
        reader.emulator.write(f"%{BANK_SWIPE.split('?')[0][1:]}?\r;{PAN}=2512101?\r".encode())
        refused = events.wait_for(lambda e: isinstance(e, CardRefused))
    assert card.uid == "0012345678"
    assert "bank card" in refused.reason
    assert not [e for e in events.seen if isinstance(e, CardRefused) and "not a loyalty card" in e.reason]
