"""The message benchmark still runs on a small size; its figures come from the full run only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_message_benchmark_sends_a_small_queue_and_runs_the_birthday_job_twice():
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "messages.py"), "--messages", "50",
                           "--members", "3000"], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    figures = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
    assert figures["queue_sent"] == "50" and figures["queue_sent_concurrency_8"] == "50"
    assert int(figures["birthday_queued"]) > 0 and figures["birthday_rerun_queued"] == "0"
    for key in ("queue_send_per_s", "queue_send_per_s_concurrency_8", "birthday_job_s"):
        float(figures[key])
