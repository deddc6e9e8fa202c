"""Crash test: a real kiosk process earning and syncing is SIGKILLed at random moments.

Every earn the process reported as done must end up in the cloud exactly once, the
outbox must drain, and `kioskctl verify` must pass. KIOSK_CRASH_KILLS sets the number of
kills (default 20 for CI; the full run uses 200).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from appliance.cli import kioskctl as cli
from kiosk.config import load
from kiosk.store import Store
from kiosk.sync.setup import worker_from_settings
from tests.conftest import write_config

from .conftest import drain_to_empty
from .test_sync_cli import run

KILLS = int(os.environ.get("KIOSK_CRASH_KILLS", "20"))
SCRIPT = Path(__file__).with_name("crash_kiosk.py")
ROOT = Path(__file__).resolve().parents[2]


def read_lines(stream, sink: list[str], ready_or_gone: threading.Event) -> None:
    """Collect the child's lines; ``ready_or_gone`` is set at its READY line or when its output ends."""
    try:
        for line in stream:
            sink.append(line.strip())
            if sink[-1] == "READY":
                ready_or_gone.set()
    finally:
        ready_or_gone.set()


def test_every_earn_that_reported_success_survives_sigkill_and_reaches_the_cloud_once(cloud, tmp_path):
    # A generous read timeout: on a loaded machine a PostgreSQL batch can take seconds, and a timed-out
    # batch is only resent (this test is about surviving kills, not about latency).
    config = write_config(tmp_path / "kiosk", f'[cloud]\nurl = "{cloud.url}"\nsync_interval_s = 0.2\n'
                                             f'read_timeout_s = 10.0\nconnect_timeout_s = 1.0\n')
    settings = load(config)
    assert run(settings, "register", "--token", cloud.store.create_token("test-branch")) == 0
    with Store(settings.database_path, device_id=settings.device.id) as store:
        member_id = store.add_member("+989121110000", "Crash", "Test").id
    rng = random.Random(int(os.environ.get("KIOSK_CRASH_SEED", "6")))
    confirmed: list[str] = []
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    killed_after_ready = 0
    for _ in range(KILLS):
        lines: list[str] = []
        process = subprocess.Popen([sys.executable, str(SCRIPT), str(config), member_id], cwd=ROOT, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        ready_or_gone = threading.Event()
        reader = threading.Thread(target=read_lines, args=(process.stdout, lines, ready_or_gone), daemon=True)
        reader.start()
        # A quarter of the kills land anywhere in start-up (migrations, config pull); the
        # rest at a random moment of earning and syncing. The random sleeps pick the moment of
        # the kill: they are what this test is about, not a wait for something to happen.
        if rng.random() < 0.25:
            time.sleep(rng.uniform(0.0, 0.8))
        else:
            ready_or_gone.wait(timeout=20)
            time.sleep(rng.uniform(0.0, 0.8))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        reader.join(timeout=10)
        process.stdout.close()
        killed_after_ready += "READY" in lines
        confirmed += [line.split()[1] for line in lines if line.startswith("OK ")]
    assert killed_after_ready >= KILLS // 2, "most kills should land while earning and syncing"
    assert confirmed, "no earn completed; the kills came too early to prove anything"

    with Store(settings.database_path, device_id=settings.device.id) as store:
        worker = worker_from_settings(settings, store)
        with worker, worker.client:
            drain_to_empty(worker, store)
        local = {row["event_id"] for row in store.query("SELECT event_id FROM ledger")}
        balance = store.balance(member_id).points
        assert store.outbox_depth() == 0
    remote = cloud.store.event_ids()
    assert len(remote) == len(set(remote))
    assert set(confirmed) <= set(remote), "an earn that reported success never reached the cloud"
    assert set(confirmed) <= local
    assert local <= set(remote)
    assert cloud.store.lookup(member_id=member_id)["balance"] == balance
    assert cli.main(["--config", str(config), "verify"]) == 0
    print(f"crash test: kills={KILLS} confirmed_earns={len(confirmed)} ledger_events={len(local)} "
          f"cloud_events={len(remote)}")
