"""The tap latency benchmark still runs (small size); figures come only from running it on demand."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_tap_latency_benchmark_runs_every_emulated_serial_reader_and_prints_name_value_lines():
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "tap_latency.py"), "--taps", "20"],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    figures = dict(line.split("=", 1) for line in proc.stdout.splitlines() if line.strip())
    for kind in ("rdm6300", "em4100_hex", "em4100_dec", "magstripe", "barcode"):
        assert figures[f"tap_latency_{kind}_taps"] == "20"
        assert float(figures[f"tap_latency_{kind}_p99_ms"]) >= float(figures[f"tap_latency_{kind}_p50_ms"]) > 0
