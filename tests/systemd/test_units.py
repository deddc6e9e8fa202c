"""The unit files in systemd/ are checked by systemd's own tools.

`systemd-analyze verify` resolves ExecStart= binaries and unit dependencies, so it runs
against a throwaway root holding the stock units ours name (pinned copies in
stock_units/, from Debian 12's systemd 252, the version the devices run) plus the paths
our units point at (the real binaries come from the app/ui roles on the device). The
host's own /usr/lib/systemd/system is never read: installing or upgrading a package on
the test machine cannot change what these tests see.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

UNITS_DIR = Path(__file__).resolve().parents[2] / "systemd"
UNITS = ["kiosk.service", "kiosk-ui.service"]
STOCK_UNITS = Path(__file__).resolve().parent / "stock_units"
# Every unit ours name in After=/Wants=/WantedBy=/Conflicts= that the device's systemd
# ships, and seatd.service from Debian's seatd package (the ui role installs it);
# plymouth-quit-wait.service is only ordered after, and absent on devices without plymouth.
PINNED = {"sysinit.target", "basic.target", "shutdown.target", "network.target", "time-sync.target",
          "multi-user.target", "graphical.target", "getty@.service", "systemd-user-sessions.service",
          "seatd.service"}

analyze = shutil.which("systemd-analyze")
# What the devices run (Debian 12). verify's warnings and security's exposure score change between
# systemd versions (new keys, new checks), so those figures are only compared against this one.
DEVICE_SYSTEMD = 252


def _analyze_version() -> int | None:
    if analyze is None:
        return None
    out = subprocess.run([analyze, "--version"], capture_output=True, text=True, timeout=30).stdout
    found = re.match(r"systemd (\d+)", out)
    return int(found.group(1)) if found else None


ANALYZE_VERSION = _analyze_version()
needs_analyze = pytest.mark.skipif(
    ANALYZE_VERSION != DEVICE_SYSTEMD,
    reason=(f"the unit checks are pinned to the devices' systemd {DEVICE_SYSTEMD}; this host has "
            f"{'no systemd-analyze' if analyze is None else f'systemd {ANALYZE_VERSION}'} (apt-get install systemd on Debian 12)"),
)


def _verify_root(tmp_path: Path, units: dict[str, str]) -> Path:
    root = tmp_path / "root"
    shutil.copytree(STOCK_UNITS, root / "usr/lib/systemd/system", symlinks=True)
    for executable in ["opt/kiosk/venv/bin/kiosk", "usr/bin/cage", "usr/bin/chromium", "sbin/agetty", "usr/sbin/seatd",
                       "lib/systemd/systemd-user-sessions", "bin/sh"]:
        path = root / executable
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("#!/bin/sh\n")
        path.chmod(0o755)
    (root / "etc/kiosk").mkdir(parents=True)
    (root / "etc/kiosk/kiosk.env").write_text("KIOSK_CONFIG=/etc/kiosk/kiosk.toml\n")
    unit_dir = root / "etc/systemd/system"
    unit_dir.mkdir(parents=True)
    for name, text in units.items():
        (unit_dir / name).write_text(text)
    return root


def _verify(root: Path, *names: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [analyze, "verify", f"--root={root}", "--man=no", *names],
        capture_output=True, text=True, timeout=60,
    )


def test_the_pinned_stock_units_are_exactly_the_ones_our_units_depend_on():
    assert {p.name for p in STOCK_UNITS.iterdir()} == PINNED
    named = set()
    for unit in UNITS:
        for key in ("After", "Wants", "WantedBy", "Conflicts", "Requires"):
            named.update(n.replace("@tty1", "@") for v in _settings(unit).get(key, []) for n in v.split())
    assert named - PINNED <= {"kiosk.service", "plymouth-quit-wait.service"}


@needs_analyze
def test_verify_fails_when_a_stock_unit_it_needs_is_missing(tmp_path):
    root = _verify_root(tmp_path, {name: (UNITS_DIR / name).read_text() for name in UNITS})
    (root / "usr/lib/systemd/system/sysinit.target").unlink()
    result = _verify(root, *UNITS)
    assert result.returncode != 0 and "sysinit.target not found" in result.stderr


@needs_analyze
def test_both_units_pass_systemd_analyze_verify_without_a_warning(tmp_path):
    root = _verify_root(tmp_path, {name: (UNITS_DIR / name).read_text() for name in UNITS})
    result = _verify(root, *UNITS)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "" and result.stdout == ""


@needs_analyze
def test_verify_catches_a_broken_unit_so_the_check_above_means_something(tmp_path):
    broken = (UNITS_DIR / "kiosk.service").read_text().replace(
        "ExecStart=/opt/kiosk/venv/bin/kiosk", "ExecStart=/opt/kiosk/venv/bin/kiosk-missing"
    ).replace("Type=notify", "Type=notify\nWatchdogSecs=30")
    root = _verify_root(tmp_path, {"kiosk.service": broken})
    result = _verify(root, "kiosk.service")
    assert result.returncode != 0
    assert "kiosk-missing" in result.stderr
    assert "Unknown key 'WatchdogSecs'" in result.stderr


def _exposure(unit: Path) -> float:
    result = subprocess.run(
        [analyze, "security", "--offline=yes", str(unit)],
        capture_output=True, text=True, timeout=60,
    )
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d)", result.stdout)
    assert match, result.stdout + result.stderr
    return float(match.group(1))


@needs_analyze
def test_the_kiosk_service_exposure_stays_below_three(tmp_path):
    assert _exposure(UNITS_DIR / "kiosk.service") < 3.0


@needs_analyze
def test_the_exposure_check_sees_a_unit_without_hardening_as_exposed(tmp_path):
    bare = tmp_path / "bare.service"
    bare.write_text("[Service]\nExecStart=/opt/kiosk/venv/bin/kiosk\n")
    assert _exposure(bare) > 9.0


def _settings(unit: str) -> dict[str, list[str]]:
    settings: dict[str, list[str]] = {}
    for line in (UNITS_DIR / unit).read_text().replace("\\\n", " ").splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def test_the_kiosk_service_runs_as_its_own_user_with_a_watchdog_and_only_reader_devices():
    s = _settings("kiosk.service")
    assert s["Type"] == ["notify"] and s["Restart"] == ["always"] and s["User"] == ["kiosk"]
    assert int(s["WatchdogSec"][0]) > 0
    assert s["SupplementaryGroups"] == ["dialout gpio input"]
    assert s["ReadWritePaths"] == ["/var/lib/kiosk"] and s["ProtectSystem"] == ["strict"]
    assert s["DevicePolicy"] == ["closed"]
    allowed = {v.split()[0] for v in s["DeviceAllow"]}
    assert {"char-ttyS", "char-ttyAMA", "char-ttyUSB", "char-gpiochip", "char-input"} <= allowed
    assert s["EnvironmentFile"] == ["/etc/kiosk/kiosk.env"]


def test_the_ui_service_restarts_chromium_in_kiosk_mode_on_the_local_url():
    s = _settings("kiosk-ui.service")
    assert s["Restart"] == ["always"]
    exec_start = s["ExecStart"][0]
    assert exec_start.startswith("/usr/bin/cage ") and "/usr/bin/chromium" in exec_start
    assert "--kiosk" in exec_start and exec_start.endswith("${KIOSK_URL}")
    assert "KIOSK_URL=http://127.0.0.1:8080/" in s["Environment"]


def test_the_kiosk_service_leaves_gpiozero_the_files_it_identifies_the_board_by():
    # ProcSubset=pid hides /proc/cpuinfo and /proc/device-tree: gpiozero then opens no pin.
    s = _settings("kiosk.service")
    assert "ProcSubset" not in s and s["ProtectProc"] == ["invisible"]
    # lgpio makes its notification pipe in LG_WD: a directory the service may write.
    assert "LG_WD=/run/kiosk" in s["Environment"] and s["RuntimeDirectory"] == ["kiosk"]


def test_the_ui_service_keeps_cage_and_chromium_in_its_own_cgroup_and_journal():
    s = _settings("kiosk-ui.service")
    # pam_systemd would move them into a session scope: logs not under -u kiosk-ui, and a
    # stop of the unit leaving them running. The seat comes from seatd instead.
    assert "PAMName" not in s and "TTYPath" not in s
    assert "LIBSEAT_BACKEND=seatd" in s["Environment"] and "seatd.service" in s["Wants"][0].split()
    assert s["StandardOutput"] == ["journal"] and s["StandardError"] == ["journal"]


def test_the_ui_sandbox_gives_cage_a_wayland_runtime_directory_of_its_own():
    s = _settings("kiosk-ui.service")
    assert s["RuntimeDirectory"] == ["kiosk-ui"] and "XDG_RUNTIME_DIR=/run/kiosk-ui" in s["Environment"]
    # With /run/user unused, the homes can be hidden wholesale.
    assert s["ProtectHome"] == ["yes"]


def test_a_cage_that_starts_no_browser_fails_the_unit_instead_of_hanging():
    s = _settings("kiosk-ui.service")
    (post,) = s["ExecStartPost"]
    assert "pgrep -u kiosk-ui -x chromium" in post and "exit 1" in post
    assert int(s["TimeoutStopSec"][0]) <= 15
