"""The sync worker beyond faults: clock skew, config pulls, corrections, parked events, the thread."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone

import pytest

from kiosk import protocol
from tests.conftest import wait_until
from tests.support import faultproxy
from kiosk.errors import KioskError
from kiosk.rules.config import LoyaltyRules
from kiosk.store import Store
from kiosk.sync.worker import SyncWorker
from kiosk.sync.client import CloudClient
from kiosk.sync.files import ConfigCache, StatusFile
from kiosk.sync.policy import LinkState
from kiosk.rules.cloud_config import rules_from_cloud

from .conftest import FAST_BACKOFF, assert_cloud_holds_exactly_the_kiosk_events, drain_to_empty, past_retry, seed

GOOD_CONFIG = {
    "rules": {"rial_per_point": 5_000, "enrollment_bonus": 150},
    "tiers": [
        {"name": "bronze", "min_points": 0, "multiplier_percent": 100},
        {"name": "gold", "min_points": 3_000, "multiplier_percent": 120},
    ],
    "rewards": [{"id": "coffee", "name": "Coffee", "cost_points": 200}],
    "campaigns": [],
}


# -- clock skew -----------------------------------------------------------------------


def test_a_device_clock_hours_behind_is_reported_and_syncs_once_set_right(cloud, device, tmp_path):
    offset = [timedelta(hours=-3)]

    def device_clock() -> datetime:
        return cloud.clock() + offset[0]

    with Store(tmp_path / "skewed.db", device_id="test-kiosk", clock=device_clock) as store:
        seed(store, members=1, earns=2)
        client = CloudClient(cloud.url, device_id=device.device_id, device_key=device.device_key, clock=device_clock)
        with client, SyncWorker(store, client, clock=device_clock, rng=random.Random(1), backoff=FAST_BACKOFF) as worker:
            result = worker.drain()
            status = worker.status
            assert result.failed and result.delivered == 0
            assert status.clock_error is True
            assert status.clock_skew_seconds == pytest.approx(-3 * 3600, abs=5)
            assert status.link is LinkState.DEGRADED
            assert "behind" in status.last_error and "NTP" in status.last_error
            assert cloud.store.event_ids() == []
            offset[0] = timedelta(0)  # staff (or NTP) set the clock
            past_retry(cloud.clock, result.retry_in)  # the device clock is the cloud's plus the offset
            drain_to_empty(worker, store)
            assert worker.status.clock_error is False
            assert worker.status.clock_skew_seconds == pytest.approx(0, abs=5)
            assert_cloud_holds_exactly_the_kiosk_events(cloud, store, device)


# -- config ---------------------------------------------------------------------------


def test_config_is_pulled_on_start_cached_and_not_downloaded_again_while_unchanged(
    cloud, proxy, device, make_worker, tmp_path
):
    cloud.store.set_config("tehran-01", GOOD_CONFIG)
    applied = []
    cache = ConfigCache(tmp_path / "cloud-config.json")
    proxy.match = "/config"
    worker = make_worker(proxy.url, config_cache=cache, config_validator=rules_from_cloud, on_config=applied.append)
    assert worker.pull_config() is True
    assert applied == [GOOD_CONFIG]
    assert cache.load() == (GOOD_CONFIG, worker.status.config_etag)
    assert worker.pull_config() is False  # 304
    assert len(applied) == 1
    statuses = [s.upstream_status for s in proxy.seen if "/config" in s.path]
    assert statuses == [200, 304]


def test_a_bad_config_from_the_cloud_is_refused_and_the_last_good_one_kept(cloud, device, make_worker, tmp_path):
    cloud.store.set_config("tehran-01", GOOD_CONFIG)
    applied = []
    cache = ConfigCache(tmp_path / "cloud-config.json")
    worker = make_worker(config_cache=cache, config_validator=rules_from_cloud, on_config=applied.append)
    worker.pull_config()
    good_etag = worker.status.config_etag
    # Right shape, wrong meaning: the first tier must start at 0 points.
    cloud.store.set_config("tehran-01", {**GOOD_CONFIG, "tiers": [{"name": "gold", "min_points": 10, "multiplier_percent": 120}]})
    assert worker.pull_config() is False
    assert "refused the cloud's config" in worker.status.config_error
    assert "first tier must start at 0" in worker.status.config_error
    assert applied == [GOOD_CONFIG]
    assert cache.load() == (GOOD_CONFIG, good_etag)
    assert worker.status.config_etag == good_etag


def test_the_last_good_config_is_used_at_start_while_the_cloud_is_unreachable(tmp_path, store, make_worker):
    cache = ConfigCache(tmp_path / "cloud-config.json")
    cache.save(GOOD_CONFIG, '"abc"')
    applied = []
    worker = make_worker("http://127.0.0.1:9", config_cache=cache, on_config=applied.append)
    assert worker.load_cached_config() == GOOD_CONFIG
    assert worker.pull_config() is False
    assert "cannot reach" in worker.status.config_error
    assert applied == [GOOD_CONFIG]


def test_rules_from_cloud_builds_loyalty_rules_and_names_a_bad_key():
    rules = rules_from_cloud(GOOD_CONFIG)
    assert isinstance(rules, LoyaltyRules)
    assert rules.rial_per_point == 5_000 and [t.name for t in rules.tiers] == ["bronze", "gold"]
    with pytest.raises(KioskError, match="rial_per_pont"):
        rules_from_cloud({**GOOD_CONFIG, "rules": {"rial_per_pont": 1}})
    with pytest.raises(KioskError, match="cost_points"):
        rules_from_cloud({**GOOD_CONFIG, "rewards": [{"id": "x", "name": "X"}]})


# -- corrections ----------------------------------------------------------------------


def test_a_difference_the_cloud_reports_becomes_one_adjust_event_and_never_counts_twice(
    cloud, store, device, make_worker
):
    (member_id,) = seed(store, members=1, earns=1)
    worker = make_worker()
    drain_to_empty(worker, store)
    local_before = store.balance(member_id).points
    # The same member shopped at another branch: the cloud has 70 more points.
    with cloud.registered_client("shiraz-02") as other_branch:
        other_branch.send_batch([json.dumps(protocol.make_event("earn", member_id, cloud.clock(), points=70))])
    # A local earn that has not reached the cloud yet must not be "corrected" away.
    store.record(member_id, "earn", 5, amount=50_000)
    worker.request_reconcile(member_id)
    assert worker.reconcile_pending() == 1
    history = store.history(member_id, limit=1)
    assert history[0].kind == "adjust" and history[0].points == 70
    assert history[0].reason.startswith(protocol.CLOUD_CORRECTION_REASON)
    assert store.balance(member_id).points == local_before + 5 + 70
    assert store.outbox_depth() == 0  # the correction (and the earn) went out right away
    assert cloud.store.lookup(member_id=member_id)["balance"] == local_before + 5 + 70
    worker.request_reconcile(member_id)
    assert worker.reconcile_pending() == 0
    assert store.verify() == []


def test_reconcile_of_a_member_the_cloud_has_not_seen_changes_nothing(cloud, store, make_worker):
    (member_id,) = seed(store, members=1, earns=1)
    worker = make_worker()
    worker.request_reconcile(member_id)
    assert worker.reconcile_pending() == 0
    assert all(row.kind != "adjust" for row in store.history(member_id))


# -- refused events -------------------------------------------------------------------


def test_an_event_the_cloud_rejects_is_parked_with_its_reason_and_the_rest_delivered(
    cloud, store, device, make_worker
):
    (member_id,) = seed(store, members=1, earns=1)
    sneaky = protocol.make_event("earn", member_id, cloud.clock(), points=1)
    with cloud.registered_client() as other:
        other.send_batch([json.dumps(sneaky)])
    # The kiosk happens to use the same event id for a different event.
    store.record(member_id, "earn", 9, amount=90_000, event_id=sneaky["event_id"])
    worker = make_worker(batch_events=10)
    drain_to_empty(worker, store)
    parked = store.outbox_parked()
    assert [p["event_id"] for p in parked] == [sneaky["event_id"]]
    assert "different event" in parked[0]["last_error"]
    assert worker.status.rejected_total == 1
    assert store.outbox_depth() == 0


def test_an_outbox_row_that_breaks_the_protocol_is_parked_without_blocking_the_queue(
    cloud, store, device, make_worker
):
    (member_id,) = seed(store, members=1, earns=1)
    bad_id = "00000000-0000-4000-8000-000000000001"
    store.write(lambda db: db.execute(
        "INSERT INTO outbox (event_id, payload, attempts, next_attempt_at, created_at) VALUES (?, ?, 0, ?, ?)",
        [bad_id, '{"event_id": "%s", "kind": "gift"}' % bad_id, "2000-01-01T00:00:00.000000Z",
         "2000-01-01T00:00:00.000000Z"],
    ))
    worker = make_worker()
    drain_to_empty(worker, store)
    parked = store.outbox_parked()
    assert [p["event_id"] for p in parked] == [bad_id]
    assert "unknown kind 'gift'" in parked[0]["last_error"]
    assert len(cloud.store.event_ids(device.device_id)) == 4  # enrol, bind, bonus, earn


# -- the thread -----------------------------------------------------------------------


def test_the_worker_thread_sends_new_events_when_woken_and_writes_its_status_file(
    cloud, store, device, make_worker, tmp_path
):
    status_file = StatusFile(tmp_path / "sync-status.json")
    seen = []
    worker = make_worker(idle_poll=30.0, status_file=status_file, on_status=seen.append).start()
    (member_id,) = seed(store, members=1, earns=0)
    worker.wake()
    wait_until(lambda: store.outbox_depth() == 0, timeout_s=10, what="the woken worker to send the enrolment")
    store.record(member_id, "earn", 3, amount=30_000)
    worker.wake()
    wait_until(lambda: store.outbox_depth() == 0, timeout_s=10, what="the woken worker to send the earn")
    worker.close()
    assert store.outbox_depth() == 0
    assert_cloud_holds_exactly_the_kiosk_events(cloud, store, device)
    written = status_file.read()
    assert written["link"] == "online" and written["outbox_depth"] == 0
    assert protocol.parse_time(written["last_success_at"]) <= datetime.now(timezone.utc)
    assert seen and seen[-1].link is LinkState.ONLINE


def test_batches_respect_the_byte_bound(cloud, proxy, store, device, make_worker):
    seed(store, members=2, earns=4)
    largest = max(len(item.payload) for item in store.outbox_batch(100, 10**9, cloud.clock()))
    worker = make_worker(proxy.url, batch_events=100, batch_bytes=largest * 2)
    drain_to_empty(worker, store)
    batches = [s for s in proxy.seen if "/events" in s.path]
    assert len(batches) > 1
    envelope = len(protocol.encode_batch([]))
    assert all(s.body_bytes <= largest * 2 + envelope + 100 for s in batches)
    assert_cloud_holds_exactly_the_kiosk_events(cloud, store, device)


def test_out_of_range_batch_bounds_are_refused_with_the_range(store, make_worker):
    with pytest.raises(KioskError, match="batch_events must be"):
        make_worker(batch_events=0)
    with pytest.raises(KioskError, match="batch_bytes must be"):
        make_worker(batch_bytes=protocol.MAX_BATCH_BYTES)


def test_the_fault_proxy_match_can_target_config_pulls(cloud, proxy, make_worker):
    cloud.store.set_config("tehran-01", GOOD_CONFIG)
    proxy.match = "/config"
    proxy.plan(faultproxy.status(500))
    worker = make_worker(proxy.url)
    assert worker.pull_config() is False
    assert "500" in worker.status.config_error
    assert worker.pull_config() is True


def test_the_chains_brand_is_pulled_with_the_config_and_checked_like_the_rules(cloud, device, make_worker, tmp_path):
    from kiosk.rules.cloud_config import branch_config_from_cloud
    from tests.support.brand_kit import branding

    cloud.store.set_config("tehran-01", {**GOOD_CONFIG, "branding": branding()})
    applied = []
    worker = make_worker(config_cache=ConfigCache(tmp_path / "cloud-config.json"),
                         config_validator=branch_config_from_cloud, on_config=applied.append)
    assert worker.pull_config() is True
    assert branch_config_from_cloud(applied[0]).branding.name_in("ar") == "متجر كلستان"
    # A brand the kiosk refuses (set past the cloud's own check) leaves the last good config in force.
    cloud.store.set_config("tehran-01", {**GOOD_CONFIG, "branding": branding(colors={"accent": "red"})})
    assert worker.pull_config() is False
    assert "colors.accent" in worker.status.config_error
    assert len(applied) == 1
