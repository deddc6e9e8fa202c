"""The drain benchmark still runs (on a small backlog); figures come from the full run only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_sync_drain_benchmark_drains_a_small_backlog_and_prints_its_figures():
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "sync_drain.py"), "--events", "2000", "--members", "50"],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    figures = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
    assert figures["drained_events"] == "2000" and figures["cloud_events"] == "2000"
    assert figures["left_in_outbox"] == "0"
    for key in ("events_per_s", "kiosk_peak_rss_mb", "drain_s"):
        float(figures[key])
