"""Benchmarks are run on demand for figures; the suite only checks that they still run on a small size."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_benchmark(name: str, *args: str) -> dict[str, str]:
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / name), *args], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    pairs = dict(line.split("=", 1) for line in lines)
    assert all(key and value for key, value in pairs.items())
    return pairs


def test_the_lookup_benchmark_runs_on_a_small_database_and_prints_its_figures():
    figures = run_benchmark("lookup.py", "--members", "300", "--ledger", "3000", "--lookups", "300", "--earns", "10")
    for key in ("lookup_p50_ms", "lookup_p99_ms", "earn_tx_per_s", "db_size_mb", "balance_screen_p99_ms"):
        float(figures[key])
    assert figures["ledger_rows"] == "3000"


def test_the_tap_to_paint_benchmark_runs_a_few_taps_in_chromium_over_both_transports():
    from tests.conftest import CHROMIUM

    if not CHROMIUM.exists():
        import pytest

        pytest.skip("Debian chromium is not installed at /usr/bin/chromium")
    figures = run_benchmark("tap_to_paint.py", "--taps", "5")
    assert figures["polling_transport_used"] == "polling"
    assert figures["websocket_transport_used"] == "websocket"
    for key in ("polling_paint_p99_ms", "websocket_paint_p99_ms"):
        float(figures[key])
    # The page's own main-thread time per tap, from DevTools: every tap runs script and lays the screen out.
    for transport in ("polling", "websocket"):
        assert float(figures[f"{transport}_page_script_ms"]) > 0
        assert float(figures[f"{transport}_page_layout_ms"]) > 0 and float(figures[f"{transport}_page_task_ms"]) > 0


def test_the_rules_benchmark_runs_on_a_short_ledger():
    figures = run_benchmark("rules.py", "--entries", "50", "--repeat", "2")
    assert figures and all(float(v) >= 0 for v in figures.values())


def test_the_tap_reads_benchmark_counts_the_reads_of_a_member_tap_and_a_till_tap():
    figures = run_benchmark("tap_reads.py", "--history", "20", "--rewards", "3")
    assert int(figures["sql_reads_per_member_tap"]) >= 1
    assert int(figures["sql_reads_per_till_tap"]) >= 1


def test_the_till_benchmark_quotes_and_commits_for_a_long_ledger_and_the_ledger_still_verifies():
    figures = run_benchmark("till.py", "--entries", "200", "--campaigns", "10", "--rounds", "10")
    for key in ("quote_p50_ms", "quote_p99_ms", "commit_p50_ms", "commit_p99_ms"):
        float(figures[key])
    assert figures["active_campaigns"] == "10" and figures["verify_ok"] == "1"
    assert "commit_with_cloud_p99_ms" not in figures  # no cloud unless asked


def test_the_till_benchmark_with_a_cloud_holds_every_credit_spend_there_and_prints_its_figures():
    figures = run_benchmark("till.py", "--entries", "50", "--campaigns", "2", "--rounds", "5", "--cloud")
    for key in ("quote_p99_ms", "commit_p99_ms", "quote_with_cloud_p99_ms", "commit_with_cloud_p50_ms",
                "commit_with_cloud_p99_ms", "loadavg"):
        float(figures[key])
    assert figures["verify_ok"] == "1"


def test_the_cloud_scale_benchmark_runs_small_on_its_own_postgresql_and_prints_every_figure():
    from tests.support.postgres import pg_bindir

    if pg_bindir() is None:
        import pytest

        pytest.skip("PostgreSQL is not installed (make system-deps)")
    figures = run_benchmark("cloud_scale.py", "--members", "500", "--ledger-rows", "5000", "--kiosks", "4",
                            "--batches", "2", "--batch-events", "20", "--lookups", "20", "--searches", "1")
    assert figures["members"] == "500" and figures["ledger_rows"] == "5000"
    assert figures["segments_members"] == "500"
    for key in ("ingest_events_per_s", "ingest_wire_events_per_s", "sqlite_ingest_events_per_s", "member_lookup_p99_ms",
                "member_lookup_db_p99_ms", "console_search_p99_ms"):
        assert float(figures[key]) > 0
    assert float(figures["segments_recompute_s"]) >= 0 and float(figures["weekly_report_s"]) > 0
    # A year's weeks, each per branch (the bench's 200) and in total.
    assert figures["weekly_report_weeks"] == "52" and int(figures["weekly_report_rows"]) == 52 * 201


def test_the_cloud_scale_benchmark_loads_a_kept_cluster_once_and_then_only_measures_it():
    import shutil
    import tempfile

    from tests.support.postgres import pg_bindir

    if pg_bindir() is None:
        import pytest

        pytest.skip("PostgreSQL is not installed (make system-deps)")
    # Not under pytest's tmp_path: its parents are closed to the postgres user the server runs as under root.
    kept = Path(tempfile.mkdtemp(prefix="cloud-scale-kept-"))
    try:
        check_a_kept_cluster(kept)
    finally:
        shutil.rmtree(kept, ignore_errors=True)


def check_a_kept_cluster(kept: Path) -> None:
    small = ("--members", "300", "--ledger-rows", "3000", "--data-dir", str(kept))
    loaded = run_benchmark("cloud_scale.py", *small, "--load-only")
    assert int(loaded["bulk_load_s"]) >= 0 and "ingest_events_per_s" not in loaded
    again = run_benchmark("cloud_scale.py", *small, "--kiosks", "2", "--batches", "1", "--batch-events", "10",
                          "--lookups", "10", "--searches", "1", "--no-sqlite", "--report-weeks", "2")
    assert "bulk_load_s" not in again and again["segments_members"] == "300"  # the ingest's rows were deleted
    report = run_benchmark("cloud_scale.py", *small, "--only", "report", "--report-weeks", "3")
    assert "ingest_events_per_s" not in report and "segments_recompute_s" not in report
    assert "member_lookup_p99_ms" not in report and "console_search_p99_ms" not in report
    assert int(report["weekly_report_rows"]) == 3 * 201 and float(report["weekly_report_tiers_s"]) > 0
    lookup = run_benchmark("cloud_scale.py", *small, "--only", "lookup", "--lookups", "10")
    assert set(lookup) >= {"member_lookup_db_p50_ms", "member_lookup_p99_ms", "member_lookup_wire_p99_ms"}
    # CPU per call of each part; /proc counts in ticks, so ten calls may read as 0 for a part, never below.
    for part in ("client", "wire", "server", "database"):
        assert float(lookup[f"member_lookup_{part}_cpu_ms"]) >= 0
    assert "weekly_report_s" not in lookup
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "cloud_scale.py"), *small, "--only", "lookups"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode != 0 and "unknown phase lookups" in proc.stderr
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "cloud_scale.py"), "--members", "301",
                           "--ledger-rows", "3000", "--data-dir", str(kept), "--load-only"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode != 0 and "holds 300 members and 3000 ledger rows" in proc.stderr
