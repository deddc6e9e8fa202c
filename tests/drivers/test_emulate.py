"""The pty emulator and the tap control socket that lets another process tap a running demo."""
from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from drivers.emulated.control import TapControlServer, send_tap
from drivers.emulated.pty import PtyEmulator
from drivers.errors import DriverError, EmulatorControlError
from drivers.events import ReaderState
from drivers import rdm6300
from drivers.registry import open_reader
from tests.support.branches import Branches

UID = "0A00B1C2D3"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def demo(events, tmp_path):
    """A running 'demo': an emulated reader plus the tap control server on a socket."""
    reader = open_reader("emulated:rdm6300", events).start()
    events.wait_status(ReaderState.CONNECTED)
    server = TapControlServer({"rdm6300": reader.emulator}, tmp_path / "tap.sock").start()
    yield server
    server.close()
    reader.close()


def test_the_emulator_port_is_a_tty_the_driver_can_open_and_the_bytes_are_the_real_frame():
    with PtyEmulator() as emulator:
        fd = os.open(emulator.port, os.O_RDONLY | os.O_NOCTTY)
        try:
            assert os.isatty(fd)
            emulator.tap("0a00b1c2d3")
            assert os.read(fd, 64) == b"\x020A00B1C2D3AA\x03"
        finally:
            os.close(fd)


def test_an_unplugged_emulator_has_no_port_and_refuses_to_send():
    with PtyEmulator() as emulator:
        emulator.unplug()
        assert not os.path.exists(emulator.port)
        with pytest.raises(DriverError, match="unplugged"):
            emulator.tap(UID)
        emulator.replug()
        assert os.path.exists(emulator.port)


def test_an_unknown_emulator_kind_is_refused_with_the_known_kinds():
    with pytest.raises(DriverError, match="known kinds: .*rdm6300"):
        PtyEmulator("nosuchreader")


def test_a_tap_sent_to_the_control_socket_reaches_the_reader_as_a_card_read(demo, events):
    send_tap(demo.socket_path, UID)
    assert events.wait_card().uid == UID


def test_a_separate_process_can_tap_the_running_demo(demo, events):
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from drivers.emulated.control import send_tap; send_tap(sys.argv[1], sys.argv[2])",
         str(demo.socket_path), "1F2E3D4C5B"],
        cwd=ROOT, capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert events.wait_card().uid == "1F2E3D4C5B"


def test_the_control_socket_is_private_to_the_demo_user(demo):
    assert stat.S_IMODE(demo.socket_path.stat().st_mode) == 0o600


def test_a_tap_on_a_kind_the_demo_does_not_run_is_refused_naming_the_running_kinds(demo):
    with pytest.raises(EmulatorControlError, match=r"'magstripe'.*running: rdm6300"):
        send_tap(demo.socket_path, UID, kind="magstripe")


def test_a_tap_with_a_malformed_card_id_is_refused_with_the_reason(demo):
    with pytest.raises(EmulatorControlError, match="10 hex digits"):
        send_tap(demo.socket_path, "XYZ")


def test_a_tap_without_a_running_demo_says_to_start_the_demo(tmp_path):
    with pytest.raises(EmulatorControlError, match="no demo is running.*start the demo"):
        send_tap(tmp_path / "tap.sock", UID)


def test_an_unknown_command_gets_an_error_line_and_the_connection_stays_usable(demo):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect(str(demo.socket_path))
        reply = sock.makefile("rwb")
        reply.write(b"HELLO\nPING\n")
        reply.flush()
        assert reply.readline().startswith(b"ERR unknown command")
        assert reply.readline() == b"OK\n"


def test_a_socket_left_by_a_crashed_demo_is_replaced(tmp_path, events):
    path = tmp_path / "tap.sock"
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(path))
    stale.close()  # the file stays, nobody listens
    with PtyEmulator() as emulator, TapControlServer({"rdm6300": emulator}, path):
        fd = os.open(emulator.port, os.O_RDONLY | os.O_NOCTTY)
        try:
            send_tap(path, UID)
            assert os.read(fd, 64) == rdm6300.encode_frame(UID)
        finally:
            os.close(fd)


def test_a_second_demo_on_the_same_socket_is_refused(demo):
    with pytest.raises(EmulatorControlError, match="already listening"):
        TapControlServer({}, demo.socket_path).start()
    send_tap(demo.socket_path, UID)  # the first demo still answers


def test_a_swipe_with_spaces_and_a_scan_can_be_sent_through_the_control_socket(events, tmp_path):
    from drivers.card_formats import CardFormats
    from drivers.magstripe import MagstripeFormat, format_swipe

    formats = CardFormats(magstripe=MagstripeFormat(2, r"77(?P<id>\d{10})"))
    with open_reader("emulated:magstripe", events, formats=formats).start() as swiper, \
            open_reader("emulated:barcode", events, formats=formats).start() as scanner:
        events.wait_status(ReaderState.CONNECTED)
        events.wait_status(ReaderState.CONNECTED)
        emulators = {"magstripe": swiper.emulator, "barcode": scanner.emulator}
        with TapControlServer(emulators, tmp_path / "tap.sock") as server:
            send_tap(server.socket_path, format_swipe("LCHAIN^JANE DOE^", "770012345678"), kind="magstripe")
            swiped = events.wait_card()
            send_tap(server.socket_path, "12345678", kind="barcode")
            scanned = events.wait_card()
    assert (swiped.uid, swiped.tech) == ("0012345678", "magstripe")
    assert (scanned.uid, scanned.tech) == ("12345678", "barcode")


def test_writing_to_an_emulator_nobody_reads_fails_clearly_instead_of_hanging():
    with PtyEmulator("barcode") as emulator:
        with pytest.raises(DriverError, match="no reader is reading"):
            for _ in range(10_000):  # far more than a pty buffers
                emulator.tap("1234567890" * 3)


class RecordingRdm6300:
    """An emulated reader that keeps the frames it was asked to send (the real RDM6300 encoding)."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def tap(self, data: str) -> None:
        self.sent.append(rdm6300.encode_frame(data))


request_lines = st.one_of(
    st.sampled_from(["PING", "PING\n", "PING\r\n"]),  # a branch of three lines: too few to ask a share of
    st.builds(lambda tail: f"PING {tail}", st.text(min_size=1, max_size=10)),  # PING takes no arguments
    st.builds(lambda uid: f"TAP rdm6300 {uid}", st.text("0123456789ABCDEFabcdef", min_size=10, max_size=10)),
    st.builds(lambda data: f"TAP rdm6300 {data}", st.text(max_size=20)),
    st.builds(lambda kind, data: f"TAP {kind} {data}", st.sampled_from(["magstripe", "", "RDM6300"]), st.text(max_size=10)),
    st.text(max_size=60),
)


def test_any_request_line_is_answered_ok_or_err_and_an_ok_tap_sent_exactly_that_card():
    from drivers.emulated.control import handle_request

    branches = Branches()

    @settings(max_examples=300, deadline=None)
    @given(request_lines)
    def example(line):
        reader = RecordingRdm6300()
        answer = handle_request(line, {"rdm6300": reader})
        verb = line.strip("\r\n").split(" ", 1)[0]
        if answer == "OK" and verb == "PING":
            branches.took("ping")
            assert reader.sent == [] and not line.strip("\r\n").partition(" ")[2], line
        elif answer == "OK":
            branches.took("tapped")
            assert reader.sent == [rdm6300.encode_frame(line.strip("\r\n").split(" ", 2)[2])]
        else:
            branches.took("refused")
            assert answer.startswith("ERR ") and reader.sent == []

    example()
    branches.require(tapped=0.12, refused=0.3)
