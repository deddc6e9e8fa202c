"""kioskctl doctor against real files, real device nodes and real loopback HTTP servers."""

from __future__ import annotations

import argparse
import os
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from appliance.cli.doctor import (
    CLOCK_FLOOR,
    CheckResult,
    DoctorSettings,
    check_clock,
    check_cloud,
    check_disk,
    check_file,
    check_readers,
    doctor,
    format_result,
    reader_device,
    run_checks,
    settings_from_toml,
)
from tests.support.ports import refusing_port


class CloudRootHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def cloud() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), CloudRootHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def silent_cloud() -> Iterator[str]:
    """Accepts the connection and never answers: a firewall that drops replies."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


@pytest.fixture
def refusing_cloud() -> Iterator[str]:
    """A port that refuses connections: bound and held for the whole test, never listening,
    so no other process can take it between choosing it and connecting to it."""
    with refusing_port() as port:
        yield f"http://127.0.0.1:{port}"


def access_as(uid: int, gids: set[int]):
    """The kernel's permission test on mode bits for another (non-root) user: what
    os.access would answer were the doctor run as that user."""

    def can_access(path: str, mode: int) -> bool:
        info = os.stat(path)
        if info.st_uid == uid:
            bits = info.st_mode >> 6
        elif info.st_gid in gids:
            bits = info.st_mode >> 3
        else:
            bits = info.st_mode
        wanted = (4 if mode & os.R_OK else 0) | (2 if mode & os.W_OK else 0)
        return bits & wanted == wanted

    return can_access


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("pn532:tty:/dev/ttyS0", ("/dev/ttyS0", "rw")),
        ("magstripe:hid:/dev/input/by-id/usb-MagTek-event-kbd", ("/dev/input/by-id/usb-MagTek-event-kbd", "r")),
        ("wiegand:gpio:D0=17,D1=27", ("/dev/gpiochip0", "rw")),
        ("wiegand:gpio:D0=17,D1=27,chip=4", ("/dev/gpiochip4", "rw")),
        ("rdm6300:tty:/dev/ttyAMA0?baud=9600", ("/dev/ttyAMA0", "rw")),
        ("nfc:tty:S0:pn532", ("/dev/ttyS0", "rw")),
        ("nfc:usb:072f:2200", (None, "usb")),
        ("emulated:rdm6300", (None, "emulated")),
    ],
)
def test_a_reader_uri_names_the_device_node_it_opens(uri, expected):
    assert reader_device(uri) == expected


def test_a_present_reader_passes_and_a_missing_one_says_to_plug_it_in(tmp_path):
    tty = tmp_path / "ttyS0"
    tty.write_bytes(b"")
    ok, missing, bad = check_readers(
        [f"pn532:tty:{tty}", "rdm6300:tty:/dev/ttyKIOSKMISSING", "pn532:tty:ttyS0"])
    assert ok.ok and str(tty) in ok.detail
    assert not missing.ok and "does not exist" in missing.detail and "plug the reader in" in missing.fix
    assert not bad.ok and "absolute device path" in bad.detail and "[[readers]]" in bad.fix


KIOSK_UID = 64000  # a user that is neither the file's owner (this test's user) nor root


def test_a_reader_the_user_cannot_open_points_at_the_group(tmp_path):
    tty = tmp_path / "ttyS0"
    tty.write_bytes(b"")
    tty.chmod(0o660)  # like /dev/ttyS0: its owner and its group (dialout on a device)
    gid = os.stat(tty).st_gid
    (refused,) = check_readers([f"pn532:tty:{tty}"], access_as(KIOSK_UID, set()))
    assert not refused.ok and "dialout" in refused.fix and "read/writable" in refused.detail
    (allowed,) = check_readers([f"pn532:tty:{tty}"], access_as(KIOSK_UID, {gid}))
    assert allowed.ok


def test_a_read_only_reader_needs_only_read_access(tmp_path):
    event = tmp_path / "event0"
    event.write_bytes(b"")
    event.chmod(0o604)  # readable by anyone, writable by nobody but the owner
    (result,) = check_readers([f"magstripe:hid:{event}"], access_as(KIOSK_UID, set()))
    assert result.ok
    (rw,) = check_readers([f"pn532:tty:{event}"], access_as(KIOSK_UID, set()))
    assert not rw.ok and "read/writable" in rw.detail


def test_run_checks_judges_readers_with_the_access_test_it_is_given(tmp_path, cloud):
    config = _write_config(tmp_path, cloud)
    settings = DoctorSettings(config_path=config, secrets_path=tmp_path / "secrets.toml",
                              data_dir=tmp_path / "data", cloud_url=cloud, min_free_bytes=1,
                              reader_uris=(f"pn532:tty:{tmp_path / 'ttyS0'}",))
    (tmp_path / "ttyS0").write_bytes(b"")
    results = {r.name: r for r in run_checks(settings, can_access=lambda path, mode: False)}
    assert not results[f"reader pn532:tty:{tmp_path / 'ttyS0'}"].ok


def test_disk_space_below_the_minimum_fails_with_how_to_free_it(tmp_path):
    assert check_disk(tmp_path, min_free_bytes=1).ok
    low = check_disk(tmp_path, min_free_bytes=1 << 60)
    assert not low.ok and "MB free" in low.detail and "journalctl --vacuum-size" in low.fix
    assert not check_disk(tmp_path / "missing").ok


def test_a_clock_before_any_kiosk_existed_is_a_pi_without_network_time():
    result = check_clock(CLOCK_FLOOR - 86400)
    assert not result.ok and "timedatectl" in result.fix
    assert check_clock(CLOCK_FLOOR + 86400).ok


def test_the_cloud_answering_with_any_status_is_reachable_and_gives_its_time(cloud):
    result, server_time = check_cloud(cloud, timeout_s=2)
    assert result.ok and "HTTP 404" in result.detail
    assert server_time is not None
    assert check_clock(server_time + 30, server_time).ok
    skewed = check_clock(server_time + 3600, server_time)
    assert not skewed.ok and "+3600 s" in skewed.detail and "set-ntp" in skewed.fix


def test_an_unreachable_cloud_fails_with_a_network_hint(refusing_cloud):
    result, server_time = check_cloud(refusing_cloud, timeout_s=1)
    assert not result.ok and server_time is None
    assert "cannot reach" in result.detail and "offline" in result.fix


def test_a_cloud_that_never_answers_fails_after_the_short_timeout(silent_cloud):
    result, _ = check_cloud(silent_cloud, timeout_s=0.3)
    assert not result.ok and "did not answer within 0.3 s" in result.detail


def test_secrets_readable_by_others_fail_and_the_fix_is_chmod_600(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('device_key = "k"\n')
    secrets.chmod(0o644)
    loose = check_file(secrets, "secrets", secret=True)
    assert not loose.ok and "0644" in loose.detail and loose.fix == f"chmod 600 {secrets}"
    secrets.chmod(0o600)
    assert check_file(secrets, "secrets", secret=True).ok


def test_secrets_owned_by_someone_else_than_the_service_user_fail(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text("")
    secrets.chmod(0o600)
    owner = "nobody" if os.geteuid() != 65534 else "root"
    result = check_file(secrets, "secrets", secret=True, owner=owner)
    assert not result.ok and f"chown {owner}:{owner}" in result.fix


def test_a_group_writable_config_fails(tmp_path):
    config = tmp_path / "kiosk.toml"
    config.write_text("")
    config.chmod(0o664)
    assert not check_file(config, "config", secret=False).ok
    config.chmod(0o640)
    assert check_file(config, "config", secret=False).ok


def _write_config(tmp_path: Path, cloud_url: str) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('chain_secret = "x"\n')
    secrets.chmod(0o600)
    tty = tmp_path / "ttyS0"
    tty.write_bytes(b"")
    config = tmp_path / "kiosk.toml"
    config.write_text(
        f'[device]\nid = "k1"\nbranch = "b1"\ndata_dir = "{data}"\nsecrets_file = "{secrets}"\n'
        f'[[readers]]\nuri = "pn532:tty:{tty}"\n[[readers]]\nuri = "emulated:rdm6300"\n'
        f'[cloud]\nurl = "{cloud_url}"\n'
    )
    config.chmod(0o640)
    credentials = data / "cloud-device.json"
    credentials.write_text('{"device_key": "k"}')
    credentials.chmod(0o600)
    return config


def test_settings_come_from_kiosk_toml(tmp_path, cloud):
    config = _write_config(tmp_path, cloud)
    settings = settings_from_toml(config)
    assert settings.data_dir == tmp_path / "data"
    assert settings.secrets_path == tmp_path / "secrets.toml"
    assert settings.reader_uris == (f"pn532:tty:{tmp_path / 'ttyS0'}", "emulated:rdm6300")
    assert settings.cloud_url == cloud and settings.problems == ()


def test_doctor_prints_one_line_per_check_and_exits_0_when_all_pass(tmp_path, cloud, capsys):
    config = _write_config(tmp_path, cloud)
    assert doctor(argparse.Namespace(config=str(config))) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "[ OK ] config file", "[ OK ] secrets file", "[ OK ] device key file",
        "[ OK ] reader pn532", "[ OK ] reader emulated",
        "[ OK ] disk", "[ OK ] cloud", "[ OK ] clock"]


def test_run_checks_takes_plain_values_and_an_injected_clock(tmp_path, cloud):
    config = _write_config(tmp_path, cloud)
    settings = DoctorSettings(config_path=config, secrets_path=tmp_path / "secrets.toml",
                              data_dir=tmp_path / "data", cloud_url=cloud, min_free_bytes=1)
    results = {r.name: r for r in run_checks(settings, now=lambda: CLOCK_FLOOR - 1)}
    assert not results["clock"].ok and results["cloud"].ok and results["disk"].ok


def test_doctor_exits_non_zero_and_prints_the_fix_for_each_failure(tmp_path, capsys, refusing_cloud):
    config = _write_config(tmp_path, refusing_cloud)
    (tmp_path / "secrets.toml").chmod(0o644)
    assert doctor(argparse.Namespace(config=str(config))) == 1
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("[FAIL] secrets file") and "chmod 600" in line for line in lines)
    assert any(line.startswith("[FAIL] cloud") and "-> fix:" in line for line in lines)
    assert any(line.startswith("[ OK ] reader pn532:tty:") for line in lines)


def test_a_missing_config_is_a_failed_check_not_a_traceback(tmp_path, capsys):
    assert doctor(argparse.Namespace(config=str(tmp_path / "nope.toml"))) == 1
    out = capsys.readouterr().out
    assert "[FAIL] config: " in out and "does not exist" in out


def test_a_config_the_kiosk_would_refuse_fails_naming_the_key_and_the_rest_still_runs(
        tmp_path, capsys, refusing_cloud):
    config = _write_config(tmp_path, refusing_cloud)
    config.write_text(config.read_text().replace('branch = "b1"', 'branch = "b1"\ncolour = "red"'))
    assert doctor(argparse.Namespace(config=str(config))) == 1
    out = capsys.readouterr().out
    assert "[FAIL] config: unknown key device.colour" in out
    assert "[ OK ] disk" in out and "[ OK ] secrets file" in out


def test_without_config_option_the_doctor_reads_kiosk_config_from_the_environment(
        tmp_path, cloud, capsys, monkeypatch):
    monkeypatch.setenv("KIOSK_CONFIG", str(_write_config(tmp_path, cloud)))
    assert doctor(argparse.Namespace(config=None)) == 0
    assert "[ OK ] cloud" in capsys.readouterr().out


def test_a_check_line_says_ok_or_fail_and_a_failure_ends_with_its_fix():
    assert format_result(CheckResult("disk", True, "900 MB free", "unused")) == "[ OK ] disk: 900 MB free"
    assert format_result(CheckResult("disk", False, "10 MB free", "free space")) == (
        "[FAIL] disk: 10 MB free -> fix: free space")


def test_an_unregistered_kiosk_with_a_cloud_fails_and_is_told_how_to_register(tmp_path, cloud, capsys):
    config = _write_config(tmp_path, cloud)
    (tmp_path / "data" / "cloud-device.json").unlink()
    assert doctor(argparse.Namespace(config=str(config))) == 1
    out = capsys.readouterr().out
    assert "[FAIL] device key file:" in out and "not registered" in out
    assert "kioskctl register --cloud URL --token TOKEN" in out


def test_a_kiosk_open_to_the_network_passes_with_a_warning_that_names_the_port(tmp_path, cloud, capsys):
    config = _write_config(tmp_path, cloud)
    config.write_text(config.read_text().replace(
        "[[readers]]", '[web]\nhost = "0.0.0.0"\nport = 8080\nopen_to_network = true\n[[readers]]', 1))
    assert doctor(argparse.Namespace(config=str(config))) == 0
    out = capsys.readouterr().out
    assert "[WARN] web listener: web.host = '0.0.0.0'" in out and "port 8080 is reachable" in out


def test_a_kiosk_on_loopback_has_no_listener_warning(tmp_path, cloud, capsys):
    config = _write_config(tmp_path, cloud)
    doctor(argparse.Namespace(config=str(config)))
    assert "web listener" not in capsys.readouterr().out
