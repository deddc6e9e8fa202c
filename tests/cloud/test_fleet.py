"""The fleet page: each kiosk's heartbeat (version, outbox backlog, readers) reaches the console, which flags a
failing reader and an old backlog, on both engines.

End to end: a real kiosk (its RDM6300 driver on a pty, its sync thread) and a real cloud on loopback; the pty is
closed (the reader unplugged) and the console's overview says so, then reopened and the flag goes.
"""
from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from cloud import fleet
from drivers.events import ReaderState
from drivers.misreads import GARBAGE_ERROR_AFTER
from kiosk.sync.errors import CloudRefused
from kiosk.sync.fleet import HeartbeatSender, software_version
from tests.conftest import wait_until

CONFIG = {"rules": {"expiry_days": 0}, "tiers": [{"name": "bronze", "min_points": 0, "multiplier_percent": 100}],
          "rewards": [], "campaigns": []}
GOOD = {"version": "0.1.0", "outbox": {"count": 0, "oldest_age_s": None}, "readers": {"counter": "connected"}}


def device_row(html: str, device_id: str) -> str:
    match = re.search(r'<tr[^>]*data-device="' + re.escape(device_id) + r'".*?</tr>', html, flags=re.S)
    assert match, f"no row for {device_id} on the overview"
    return match.group(0)


def readers_of(cloud, device_id: str) -> dict[str, str]:
    health = fleet.latest(cloud.store.db, [device_id]).get(device_id)
    return dict(health.readers) if health else {}


@pytest.fixture
def kiosk(cloud, tmp_path: Path):
    rt, _ = cloud.start_kiosk(tmp_path / "kiosk", {"chain_secret": "cd" * 32}, config=CONFIG)
    try:
        yield rt
    finally:
        rt.close()


def test_a_kiosk_with_an_unplugged_reader_shows_as_such_in_the_console_and_clears_when_replugged(kiosk, cloud, console):
    device_id = kiosk.sync.client.device_id
    wait_until(lambda: readers_of(cloud, device_id) == {"counter": "connected"}, timeout_s=15,
               what="the kiosk's first heartbeat with its reader working")
    admin = console("admin")
    row = device_row(admin.get("/").text, device_id)
    assert software_version() in row and 'data-state="connected"' in row and "flagged" not in row

    kiosk.emulators["counter"].unplug()
    wait_until(lambda: kiosk.service.reader_status["counter"].state is ReaderState.DISCONNECTED, what="the unplug")
    # Sent on the next round, not after the minute's interval: the reader's change makes the heartbeat due.
    wait_until(lambda: readers_of(cloud, device_id) == {"counter": "disconnected"}, timeout_s=15,
               what="the heartbeat to carry the unplugged reader")
    page = admin.get("/").text
    row = device_row(page, device_id)
    assert 'data-state="disconnected"' in row and "flagged" in row
    assert 'data-alert="reader"' in page and 'data-alert="backlog"' not in page

    kiosk.emulators["counter"].replug()
    wait_until(lambda: readers_of(cloud, device_id) == {"counter": "connected"}, timeout_s=15,
               what="the heartbeat to carry the replugged reader")
    page = admin.get("/").text
    assert 'data-alert="reader"' not in page and "flagged" not in device_row(page, device_id)


def test_a_misread_leaves_the_heartbeat_connected_and_a_run_of_garbage_reports_the_reader_in_error(kiosk, cloud, console):
    device_id = kiosk.sync.client.device_id
    wait_until(lambda: readers_of(cloud, device_id) == {"counter": "connected"}, timeout_s=15,
               what="the kiosk's first heartbeat with its reader working")
    heard: list[str] = []
    kiosk.service.subscribe(lambda name, payload: heard.append(name))
    garbled = b"\x020A1B2C3D4E00\x03"  # a real frame's shape with a wrong checksum
    kiosk.emulators["counter"].write(garbled)
    wait_until(lambda: "bad_read" in heard, what="the misread to reach the service")
    assert kiosk.service.reader_status["counter"].state is ReaderState.CONNECTED and "reader_status" not in heard

    kiosk.emulators["counter"].write(garbled * GARBAGE_ERROR_AFTER)
    wait_until(lambda: kiosk.service.reader_status["counter"].state is ReaderState.ERROR, what="the run of garbage")
    wait_until(lambda: readers_of(cloud, device_id) == {"counter": "error"}, timeout_s=15,
               what="the heartbeat to carry the failing reader")
    row = device_row(console("admin").get("/").text, device_id)
    assert 'data-state="error"' in row and "flagged" in row


def test_a_backlog_older_than_the_limit_flags_the_device_and_a_younger_one_does_not(cloud, console):
    admin = console("admin")
    with cloud.registered_client("tehran-01") as client:
        client.heartbeat({**GOOD, "outbox": {"count": 12, "oldest_age_s": 10 * 60}})
        row = device_row(admin.get("/?lang=en").text, client.device_id)
        assert ">12 · oldest 10 min<" in row.replace("\n", "") and "flagged" not in row
        # The backlog keeps ageing while its kiosk says nothing more: measured against the console's now.
        cloud.clock.advance(timedelta(minutes=25))
        page = admin.get("/?lang=en").text
        assert 'data-alert="backlog"' in page and "flagged" in device_row(page, client.device_id)


def test_a_branch_manager_sees_the_fleet_status_of_their_branch_only(cloud, console):
    with cloud.registered_client("tehran-01") as tehran, cloud.registered_client("shiraz-02") as shiraz:
        tehran.heartbeat({**GOOD, "readers": {"door": "error"}})
        shiraz.heartbeat({**GOOD, "readers": {"counter": "disconnected"}})
        page = console("tehran-manager").get("/").text
        assert 'data-reader="door"' in page and shiraz.device_id not in page
        assert "۱ دستگاه کارت‌خوانشان کار نمی‌کند" in page  # one device of theirs, in Persian digits


@pytest.mark.parametrize("body, says", [
    ({**GOOD, "readers": {"counter": "on fire"}}, "state must be one of"),
    ({**GOOD, "outbox": {"count": -1, "oldest_age_s": None}}, "outbox.count"),
    ({**GOOD, "outbox": {"count": 3, "oldest_age_s": None}}, "null exactly when"),
    ({**GOOD, "version": ""}, "version"),
    ({**GOOD, "readers": {f"r{n}": "connected" for n in range(17)}}, "at most 16"),
    ([1, 2], "send JSON"),
])
def test_a_heartbeat_that_does_not_hold_together_is_refused_and_the_last_good_one_kept(cloud, body, says):
    with cloud.registered_client("tehran-01") as client:
        client.heartbeat(GOOD)
        with pytest.raises(CloudRefused) as refused:
            client.heartbeat(body)
        assert refused.value.status == 400 and refused.value.code == "bad_heartbeat" and says in str(refused.value)
        assert readers_of(cloud, client.device_id) == {"counter": "connected"}


def test_an_unsigned_heartbeat_is_refused(cloud):
    with cloud.registered_client("tehran-01") as client:
        reply = requests.post(f"{cloud.url}/v1/devices/{client.device_id}/heartbeat", json=GOOD, timeout=5)
        assert reply.status_code == 401
        assert readers_of(cloud, client.device_id) == {}


def test_the_sender_reports_the_outbox_backlog_and_waits_its_interval_unless_a_reader_changed(cloud, store):
    from tests.cloud.conftest import seed

    seed(store, members=1, earns=2)
    ticks = [1000.0]
    readers = {"counter": "connected"}
    with cloud.registered_client("tehran-01") as client:
        sender = HeartbeatSender(store, client, lambda: dict(readers), "9.9.9", clock=cloud.clock,
                                 interval_s=60, monotonic=lambda: ticks[0])
        sender()
        health = fleet.latest(cloud.store.db, [client.device_id])[client.device_id]
        assert (health.version, health.outbox_count) == ("9.9.9", store.outbox_depth()) and health.outbox_count > 0
        assert health.outbox_oldest_at is not None and health.outbox_oldest_at <= cloud.clock()
        readers["counter"] = "disconnected"
        ticks[0] += 30
        sender()  # within the interval and nothing said it changed: no request
        assert readers_of(cloud, client.device_id) == {"counter": "connected"}
        sender.due_now()
        sender()
        assert readers_of(cloud, client.device_id) == {"counter": "disconnected"}


def test_a_backlog_the_drain_cannot_send_is_still_reported_before_each_drain(cloud, proxy, make_worker, store, console):
    from tests.cloud.conftest import seed
    from tests.support import faultproxy

    seed(store, members=1, earns=2)
    worker = make_worker(proxy.url)
    sender = HeartbeatSender(store, worker.client, lambda: {"counter": "connected"}, "9.9.9", clock=cloud.clock,
                             interval_s=0)
    worker.before_drain.append(sender)
    proxy.plan(*[faultproxy.status(503, 0)] * 3)  # the cloud refuses the batches (only /events), not the heartbeat
    worker.step()
    assert worker.store.outbox_depth() > 0 and proxy.faults_applied
    health = fleet.latest(cloud.store.db, [worker.client.device_id])[worker.client.device_id]
    assert health.outbox_count == store.outbox_depth()
    cloud.clock.advance(timedelta(minutes=31))
    page = console("admin").get("/").text
    assert 'data-alert="backlog"' in page and "flagged" in device_row(page, worker.client.device_id)


@pytest.mark.browser
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_console_in_chromium_shows_the_kiosk_with_its_reader_unplugged(kiosk, cloud, console, page):
    from tests.cloud.test_console_browser import log_in
    from tests.conftest import save_screenshot

    device_id = kiosk.sync.client.device_id
    kiosk.emulators["counter"].unplug()
    wait_until(lambda: readers_of(cloud, device_id) == {"counter": "disconnected"}, timeout_s=15,
               what="the heartbeat to carry the unplugged reader")
    log_in(page, cloud, "admin")
    row = page.locator(f'tr[data-device="{device_id}"]')
    assert "flagged" in row.get_attribute("class")
    assert row.locator('.reader[data-reader="counter"]').inner_text() == "counter جدا شده"
    assert page.locator('[data-alert="reader"]').inner_text() == "۱ دستگاه کارت‌خوانشان کار نمی‌کند."
    save_screenshot(page, "console-fleet-reader-unplugged-fa")
