"""The PN532 emulator, driven by nfcpy's real pn532 driver over a real pty."""
from __future__ import annotations

import os
import time

import ndef
import nfc.tag
import pytest
import serial
from hypothesis import example, given, settings
from hypothesis import strategies as st
from nfc.clf import RemoteTarget

from drivers.emulated.pn532 import Pn532Emulator
from drivers.errors import DriverError, TransportError
from drivers.nfc.card_number import card_number_message
from drivers.nfc.frontend import open_frontend
from drivers.nfc.pn532_frames import ACK, ERROR_FRAME, NACK, encode_information
from drivers.emulated.pn532_model import Pn532Model, Type2Card
from tests.conftest import wait_until
from tests.support.branches import Branches

NTAG_UID = bytes.fromhex("04a1b2c3d4e5f6")


@pytest.fixture(autouse=True)
def patient_acks(monkeypatch):
    """nfcpy gives the chip 100 ms to ACK each command and raises EIO after it; the emulator ACKs at once, but
    its thread can wait longer than that for the CPU on a loaded machine. These tests drive nfcpy's commands
    directly (the product's reader reconnects on such an error, a test has no second try), so here an ACK may
    take up to 2 s; every answer after the ACK keeps nfcpy's own timeout."""
    from nfc.clf import pn53x

    read_frame = pn53x.Chipset.read_frame

    def read_frame_patiently(self, timeout):
        return read_frame(self, 2000 if timeout == 100 else timeout)

    monkeypatch.setattr(pn53x.Chipset, "read_frame", read_frame_patiently)


@pytest.fixture
def emulator(tmp_path):
    with Pn532Emulator(link=tmp_path / "pn532") as emulator:
        yield emulator


def open_when_answering(port, timeout_s=10.0):
    """Open the emulated reader as NfcReader does: again after a failed try, until a deadline.
    nfcpy's start-up waits only milliseconds for each ACK, which a loaded machine can miss."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return open_frontend(port)
        except TransportError:
            if time.monotonic() > deadline:
                raise


@pytest.fixture
def frontend(emulator):
    frontend = open_when_answering(emulator.port)
    yield frontend
    frontend.close()


@pytest.fixture
def line(emulator):
    """The host end of the pty, for sending hand-made frames."""
    with serial.Serial(emulator.port, 115200, timeout=0.3) as port:
        yield port


def test_nfcpys_pn532_driver_initialises_on_the_emulator(frontend):
    assert frontend.clf.device.chipset_name == "PN532v1.6"


def test_no_card_on_the_antenna_senses_nothing(frontend):
    assert frontend.clf.sense(RemoteTarget("106A")) is None


def test_an_ntag213_is_sensed_activated_and_its_ndef_message_read(emulator, frontend):
    emulator.present(NTAG_UID, card_number_message("600123456789"))

    target = frontend.clf.sense(RemoteTarget("106A"))
    tag = nfc.tag.activate(frontend.clf, target)

    assert bytes(target.sdd_res) == NTAG_UID and bytes(target.sens_res) == b"\x44\x00"
    assert tag.product == "NXP NTAG213"
    assert tag.identifier == NTAG_UID
    assert tag.ndef.records == [ndef.Record("urn:nfc:ext:kiosk:card", "", b"600123456789")]


def test_a_message_nfcpy_writes_to_the_emulated_tag_reads_back(emulator, frontend):
    emulator.present(NTAG_UID, b"")
    tag = nfc.tag.activate(frontend.clf, frontend.clf.sense(RemoteTarget("106A")))

    tag.ndef.records = [ndef.TextRecord("written by nfcpy")]
    again = nfc.tag.activate(frontend.clf, frontend.clf.sense(RemoteTarget("106A")))

    assert again.ndef.records == [ndef.TextRecord("written by nfcpy")]


def test_a_four_byte_uid_type2_tag_is_a_generic_type2_tag(emulator, frontend):
    emulator.present(bytes.fromhex("11223344"), card_number_message("4444"))

    tag = nfc.tag.activate(frontend.clf, frontend.clf.sense(RemoteTarget("106A")))

    assert tag.type == "Type2Tag" and tag.identifier == bytes.fromhex("11223344")
    assert tag.ndef.octets == card_number_message("4444")


def test_a_mifare_classic_shows_its_uid_but_no_ndef(emulator, frontend):
    emulator.present(bytes.fromhex("a1b2c3d4"), sak=0x08)

    target = frontend.clf.sense(RemoteTarget("106A"))
    tag = nfc.tag.activate(frontend.clf, target)

    assert bytes(target.sel_res) == b"\x08" and bytes(target.sdd_res) == bytes.fromhex("a1b2c3d4")
    assert tag.ndef is None


def test_a_removed_card_is_no_longer_present(emulator, frontend):
    emulator.present(NTAG_UID)
    tag = nfc.tag.activate(frontend.clf, frontend.clf.sense(RemoteTarget("106A")))
    assert tag.is_present

    emulator.remove()

    assert not tag.is_present
    assert frontend.clf.sense(RemoteTarget("106A")) is None


def test_a_host_frame_with_a_bad_checksum_gets_no_answer(emulator, line):
    bad = bytearray(encode_information(b"\xd4\x02"))
    bad[-2] ^= 0xFF

    line.write(bytes(bad))

    assert line.read(6) == b""
    assert emulator.counts()["bad_frames"] == 1


def test_a_command_is_acknowledged_then_answered_and_a_nack_repeats_the_answer(line):
    line.write(encode_information(b"\xd4\x02"))
    answer = encode_information(bytes.fromhex("d50332010607"))
    assert line.read(len(ACK) + len(answer)) == ACK + answer

    line.write(NACK)

    assert line.read(len(answer)) == answer


def test_an_unknown_command_gets_the_syntax_error_frame(line):
    line.write(encode_information(b"\xd4\xfe"))

    assert line.read(len(ACK) + len(ERROR_FRAME)) == ACK + ERROR_FRAME


@pytest.mark.parametrize("how", ["lcs", "dcs"])
def test_a_garbled_response_is_an_io_error_for_nfcpy(emulator, frontend, how):
    emulator.garble(1, how)

    with pytest.raises(OSError):
        frontend.clf.sense(RemoteTarget("106A"))
    assert emulator.counts()["garbled"] == 1


@pytest.mark.parametrize(
    ("uid", "ndef_message", "sak", "message"),
    [
        (b"\x04\x01", None, 0, "4, 7 or 10 bytes"),
        (NTAG_UID, bytes(200), 0, "does not fit"),
        (b"\x01\x02\x03\x04", b"", 0x08, "MIFARE Classic"),
    ],
)
def test_a_card_that_cannot_exist_is_refused_with_a_reason(emulator, uid, ndef_message, sak, message):
    with pytest.raises(ValueError, match=message):
        emulator.present(uid, ndef_message, sak=sak)


def test_a_card_that_leaves_after_some_commands_stops_answering(emulator, frontend):
    emulator.present(bytes.fromhex("11223344"), card_number_message("4444"), leaves_after=1)
    tag = nfc.tag.activate(frontend.clf, frontend.clf.sense(RemoteTarget("106A")))

    assert tag.read(0)[:4] == bytes.fromhex("11223344")
    assert not tag.is_present


def test_an_unknown_garble_kind_is_refused(emulator):
    with pytest.raises(ValueError, match="not one of"):
        emulator.garble(1, "crc")


def test_the_link_points_at_the_pty_and_goes_away_on_close(tmp_path):
    link = tmp_path / "reader"
    emulator = Pn532Emulator(link=link)
    assert emulator.port == str(link) and link.resolve().as_posix().startswith("/dev/pts/")

    emulator.close()

    assert not link.exists() and not link.is_symlink()


COMMAND_CODES = [0x00, 0x02, 0x04, 0x06, 0x08, 0x0C, 0x0E, 0x10, 0x12, 0x14, 0x16, 0x32, 0x4A, 0x40, 0x42, 0x44,
                 0x52, 0x54]
ALWAYS_ANSWERED = {0x02, 0x04, 0x0C, 0x0E, 0x12, 0x16, 0x42, 0x44, 0x52, 0x54}  # commands with no parameters to check
READ_PAGE = b"\xd4\x40\x01\x30"  # InDataExchange to target 1: Type 2 READ of the page that follows
WELL_FORMED = [b"\xd4\x00\x00echo", b"\xd4\x02", b"\xd4\x04", b"\xd4\x06\x63\x02", b"\xd4\x08\x63\x02\x80",
               b"\xd4\x10\x04", b"\xd4\x14\x01", b"\xd4\x16", b"\xd4\x32\x01\x01", b"\xd4\x4a\x01\x00",
               b"\xd4\x44\x01", b"\xd4\x54\x01"]
host_payloads = st.one_of(
    st.sampled_from(WELL_FORMED),
    st.builds(lambda code, data: b"\xd4" + bytes([code]) + data, st.sampled_from(COMMAND_CODES), st.binary(max_size=12)),
    st.integers(0, 44).map(lambda page: READ_PAGE + bytes([page])),
    st.integers(0, 44).map(lambda page: READ_PAGE + bytes([page])),
    st.sampled_from([45, 46, 63, 255]).map(lambda page: READ_PAGE + bytes([page])),  # past the last page
    st.binary(max_size=40).map(lambda data: b"\xd4" + data),
    st.binary(max_size=10),
)


def test_the_emulated_chip_answers_any_command_with_its_response_or_the_error_frame():
    branches = Branches()

    @settings(max_examples=300, deadline=None)
    @given(host_payloads, st.sampled_from([None, NTAG_UID, bytes.fromhex("11223344")]))
    @example(READ_PAGE + bytes([44]), NTAG_UID)  # the last page, and the first past it: always tried
    @example(READ_PAGE + bytes([45]), NTAG_UID)
    def example_(payload, uid):
        model = Pn532Model()
        model.place(None if uid is None else Type2Card.with_ndef(uid, card_number_message("1234")))
        model.respond(b"\xd4\x4a\x01\x00")  # select the card, if there is one

        response = model.respond(payload)

        if response is None:
            branches.took("error frame")
            assert len(payload) < 2 or payload[0] != 0xD4 or payload[1] not in ALWAYS_ANSWERED
            return
        assert len(payload) >= 2 and response[:2] == bytes([0xD5, payload[1] + 1])
        if payload[:4] != READ_PAGE or len(payload) != 5:
            branches.took("answered")
            return
        if uid is None or payload[4] >= 45:
            branches.took("read refused")
            assert response[2:] in (b"\x01", b"\x00\x00")  # no card: timeout; past the end: NAK
            return
        branches.took("page read")
        assert response[2] == 0x00 and len(response) == 19
        if payload[4] == 0:
            assert response[3:6] == uid[:3]

    example_()
    branches.require(**{"error frame": 0.1, "answered": 0.15, "page read": 0.1, "read refused": 0.04})


def test_a_tap_holds_the_card_on_the_antenna_then_lifts_it(tmp_path):
    with Pn532Emulator(link=tmp_path / "tap", tap_hold_s=1.0) as emulator:
        tapper = open_when_answering(emulator.port)
        try:
            emulator.tap("04A1B2C3D4E5F6 600123456789")
            tag = nfc.tag.activate(tapper.clf, tapper.clf.sense(RemoteTarget("106A")))
            assert tag.ndef.octets == card_number_message("600123456789")

            # The hold is the emulator's own timer; what is waited on is the condition, a sense that finds nothing.
            wait_until(lambda: tapper.clf.sense(RemoteTarget("106A")) is None, timeout_s=5,
                       what="the tapped card to be lifted")
        finally:
            tapper.close()


def test_a_tap_waits_on_the_antenna_for_a_reader_that_polls_late_then_is_held_from_that_poll(tmp_path):
    with Pn532Emulator(link=tmp_path / "tap", tap_hold_s=0.2) as emulator:
        tapper = open_when_answering(emulator.port)
        try:
            emulator.tap("04A1B2C3D4E5F6")
            time.sleep(0.6)  # the subject: three holds pass with no poll, as while a loaded reader starts
            assert tapper.clf.sense(RemoteTarget("106A")).sdd_res == bytes.fromhex("04A1B2C3D4E5F6")
            wait_until(lambda: tapper.clf.sense(RemoteTarget("106A")) is None, timeout_s=5,
                       what="the card to be lifted once polled")
        finally:
            tapper.close()


@pytest.mark.parametrize("data", ["", "xyz", "04A1 600123", "04A1B2C3D4E5F6 6001 2345", "04A1B2C3D4E5F6 12"])
def test_a_tap_with_unusable_data_says_what_to_send(emulator, data):
    with pytest.raises(DriverError, match="send '<uid hex> \\[<card number>\\]'"):
        emulator.tap(data)


def test_unplug_removes_the_port_and_replug_brings_a_fresh_chip_back_at_the_same_path(emulator):
    port = emulator.port
    emulator.present(NTAG_UID)

    emulator.unplug()
    assert not os.path.exists(port) and not emulator.plugged

    emulator.replug()
    frontend = open_when_answering(port)
    try:
        assert bytes(frontend.clf.sense(RemoteTarget("106A")).sdd_res) == NTAG_UID  # the card stayed
    finally:
        frontend.close()


def test_a_closed_emulator_cannot_be_replugged(emulator):
    emulator.close()

    with pytest.raises(DriverError, match="closed"):
        emulator.replug()


def test_the_default_port_is_a_private_symlink_removed_on_close():
    emulator = Pn532Emulator()
    port = emulator.port
    assert os.path.realpath(port).startswith("/dev/pts/")

    emulator.close()

    assert not os.path.exists(os.path.dirname(port))
