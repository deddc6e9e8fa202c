"""The database, its WAL and SHM, and the log are 0600 whatever the umask; `doctor` names a looser one."""
from __future__ import annotations

import argparse
import os
import stat
import subprocess
import sys
from pathlib import Path

from appliance.cli.doctor import doctor
from appliance.cli.doctor_files import check_private_files
from kiosk.store import Store
from tests.systemd.test_doctor import _write_config, refusing_cloud  # noqa: F401 (a fixture)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_database_and_its_wal_and_shm_are_created_0600_under_a_umask_of_022(tmp_path):
    old = os.umask(0o022)
    try:
        with Store(tmp_path / "data" / "kiosk.db", device_id="k1") as store:
            store.add_member("+989121234567", "Sara", "Ahmadi")
            files = [tmp_path / "data" / name for name in ("kiosk.db", "kiosk.db-wal", "kiosk.db-shm")]
            modes = {path.name: mode(path) for path in files}
    finally:
        os.umask(old)
    assert modes == {"kiosk.db": 0o600, "kiosk.db-wal": 0o600, "kiosk.db-shm": 0o600}


def test_the_daemons_log_file_is_created_0600_under_a_umask_of_022(tmp_path):
    log = tmp_path / "logs" / "kiosk.log"
    script = ("import logging, os, sys; os.umask(0o022); from appliance.daemon import configure_logging; "
              "configure_logging(__import__('pathlib').Path(sys.argv[1])); logging.getLogger('t').warning('hello')")
    subprocess.run([sys.executable, "-c", script, str(log)], check=True, capture_output=True, timeout=60,
                   cwd=Path(__file__).resolve().parents[2])
    assert "hello" in log.read_text() and mode(log) == 0o600


def test_an_existing_database_is_not_loosened_or_replaced(tmp_path):
    with Store(tmp_path / "kiosk.db", device_id="k1") as store:
        store.add_member("+989121234567", "Sara", "Ahmadi")
    with Store(tmp_path / "kiosk.db", device_id="k1") as store:
        assert store.member_by_phone("+989121234567").first_name == "Sara"
    assert mode(tmp_path / "kiosk.db") == 0o600


def test_doctor_names_a_database_or_log_open_to_others_with_its_chmod_fix(tmp_path, capsys, refusing_cloud):
    config = _write_config(tmp_path, refusing_cloud)
    data = tmp_path / "data"
    with Store(data / "kiosk.db", device_id="k1"):
        pass
    (data / "kiosk.log").write_text("")
    (data / "kiosk.log").chmod(0o644)
    (data / "kiosk.db").chmod(0o640)
    assert doctor(argparse.Namespace(config=str(config))) == 1
    lines = [line for line in capsys.readouterr().out.splitlines() if "private files" in line]
    assert lines == [
        f"[FAIL] private files: {data / 'kiosk.db'} is 0640, open to other users (it holds members' data)"
        f" -> fix: chmod 600 {data / 'kiosk.db'}",
        f"[FAIL] private files: {data / 'kiosk.log'} is 0644, open to other users (it holds members' data)"
        f" -> fix: chmod 600 {data / 'kiosk.log'}",
    ]


def test_private_files_at_0600_pass_in_one_line_and_a_fresh_data_dir_has_nothing_to_check(tmp_path):
    assert check_private_files(tmp_path) == []
    with Store(tmp_path / "kiosk.db", device_id="k1"):
        pass
    (result,) = check_private_files(tmp_path)
    assert result.ok and "kiosk.db" in result.detail
