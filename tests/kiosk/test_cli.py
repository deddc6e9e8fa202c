"""`kioskctl` run as a real child process against a real database."""
from __future__ import annotations

import sqlite3

import pytest

from appliance.cli.kioskctl import build_parser
from tests.conftest import kioskctl, wait_until

UID = "0A1B2C3D4E"


@pytest.fixture
def enrolled(config_file):
    kioskctl(config_file, "init-db")
    kioskctl(config_file, "member", "add", "--phone", "0912 123 4567", "--first-name", "Sara", "--last-name", "Ahmadi")
    kioskctl(config_file, "card", "bind", "--phone", "+989121234567", "--card", UID)
    return config_file


def test_every_command_has_help():
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # argparse keeps them here
    for name in ("init-db", "member", "card", "earn", "redeem", "balance", "verify", "tap", "register", "sync",
                 "outbox", "provision", "doctor"):
        assert name in commands
        assert commands[name].format_help().strip()


def test_enrol_bind_earn_and_balance_from_the_command_line(enrolled):
    out = kioskctl(enrolled, "earn", "--card", UID, "--amount", "2500000", "--receipt", "R1").stdout
    assert "earned 250 points" in out and "balance 350 points" in out
    again = kioskctl(enrolled, "earn", "--card", UID, "--amount", "2500000", "--receipt", "R1").stdout
    assert "already recorded" in again and "balance 350 points" in again
    balance = kioskctl(enrolled, "balance", "--card", UID).stdout
    assert "Sara" in balance and "350 points" in balance and "350000 rial" in balance and "bronze" in balance


def test_a_redemption_larger_than_the_balance_fails_with_a_clear_message(enrolled):
    proc = kioskctl(enrolled, "redeem", "--card", UID, "--points", "5000", check=False)
    assert proc.returncode == 2
    assert "not enough points: this needs 5000 points and the balance is 100" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "100 points" in kioskctl(enrolled, "balance", "--card", UID).stdout


def test_an_unknown_card_and_a_bad_phone_number_are_reported_plainly(enrolled):
    proc = kioskctl(enrolled, "balance", "--card", "FFFFFFFFFF", check=False)
    assert proc.returncode == 2 and "not a member card" in proc.stderr
    proc = kioskctl(enrolled, "member", "add", "--phone", "12", "--first-name", "X", check=False)
    assert proc.returncode == 2 and "not a valid phone number" in proc.stderr


def test_a_non_numeric_amount_is_refused_by_the_parser(enrolled):
    proc = kioskctl(enrolled, "earn", "--card", UID, "--amount", "12.5", check=False)
    assert proc.returncode == 2 and "not a whole number" in proc.stderr


def test_verify_exits_non_zero_when_a_balance_does_not_match_the_ledger(enrolled, settings):
    assert "ok: all 1 balances match" in kioskctl(enrolled, "verify").stdout
    conn = sqlite3.connect(settings.database_path)
    conn.execute("UPDATE balances SET points = points + 7")
    conn.commit()
    conn.close()
    proc = kioskctl(enrolled, "verify", check=False)
    assert proc.returncode == 1 and "MISMATCH" in proc.stdout and "ledger sums to 100" in proc.stdout


def test_a_bad_config_stops_the_command_naming_the_key(tmp_path):
    config = tmp_path / "kiosk.toml"
    config.write_text('[device]\nid = "k"\nbranch = "b"\n[web]\nport = "eighty"\n')
    proc = kioskctl(config, "verify", check=False)
    assert proc.returncode == 2 and "web.port = 'eighty'" in proc.stderr


def test_tap_reaches_the_emulated_reader_of_a_running_kiosk(runtime):
    service = runtime.service
    member = service.enroll("+989121234567", "Sara")
    service.bind(member.id, "rfid125", UID)
    seen = []
    service.subscribe(lambda name, payload: seen.append((name, payload)))
    kioskctl(runtime.settings.path, "tap", UID)
    wait_until(lambda: any(n == "member" for n, _ in seen), what="the tap to reach the service")


def test_tap_without_a_running_kiosk_says_so(config_file):
    proc = kioskctl(config_file, "tap", UID, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and proc.stderr.strip()
