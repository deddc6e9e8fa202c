"""The cloud's scheduled segment run: its unit and timer pass systemd's own checks, and name the real job."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.systemd.test_units import STOCK_UNITS, UNITS_DIR

analyze = shutil.which("systemd-analyze")
pytestmark = pytest.mark.skipif(analyze is None, reason="systemd-analyze not found: apt-get install systemd")
UNITS = ("kiosk-cloud-segments.service", "kiosk-cloud-segments.timer")
# Debian 12's timers.target, verbatim: the only stock unit the timer names beyond the pinned ones.
TIMERS_TARGET = """[Unit]
Description=Timer Units
Documentation=man:systemd.special(7)
DefaultDependencies=no
Wants=shutdown.target
Before=shutdown.target
"""


def _root(tmp_path: Path, units: dict[str, str]) -> Path:
    root = tmp_path / "root"
    shutil.copytree(STOCK_UNITS, root / "usr/lib/systemd/system", symlinks=True)
    (root / "usr/lib/systemd/system/timers.target").write_text(TIMERS_TARGET)
    binary = root / "opt/kiosk/.venv/bin/kiosk-cloud"
    binary.parent.mkdir(parents=True)
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    (root / "etc/kiosk-cloud").mkdir(parents=True)
    (root / "etc/kiosk-cloud/cloud.env").write_text("KIOSK_CLOUD_DB=/var/lib/kiosk-cloud/cloud.sqlite\n")
    (root / "etc/systemd/system").mkdir(parents=True)
    for name, text in units.items():
        (root / "etc/systemd/system" / name).write_text(text)
    return root


def _verify(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([analyze, "verify", f"--root={root}", "--man=no", *UNITS], capture_output=True, text=True,
                          timeout=60)


def test_the_segment_unit_and_its_timer_pass_systemd_analyze_verify(tmp_path):
    result = _verify(_root(tmp_path, {name: (UNITS_DIR / name).read_text() for name in UNITS}))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_verify_fails_when_the_job_binary_is_not_where_the_unit_says(tmp_path):
    root = _root(tmp_path, {name: (UNITS_DIR / name).read_text() for name in UNITS})
    (root / "opt/kiosk/.venv/bin/kiosk-cloud").unlink()
    result = _verify(root)
    assert result.returncode != 0 and "kiosk-cloud" in result.stderr


def test_the_unit_runs_the_segment_job_that_kiosk_cloud_offers():
    from cloud.cli import _parser

    exec_start = next(line for line in (UNITS_DIR / UNITS[0]).read_text().splitlines() if line.startswith("ExecStart="))
    args = exec_start.split()[1:]
    parsed = _parser().parse_args(["--db", "x.sqlite", *args])
    assert (parsed.command, parsed.jobs_command) == ("jobs", "segments")
