"""Answers that are not protocol answers (a captive portal, a broken proxy, a wrong URL) never fool the sync.

Each is a failed attempt: the events stay queued, the link is not online, the next try waits its backoff,
and the log has one line per attempt rather than a traceback.
"""

from __future__ import annotations

import json
import logging

import pytest

from kiosk import protocol
from drivers.backoff import Backoff
from kiosk.sync.policy import LinkState
from tests.conftest import wait_until
from tests.support import faultproxy
from tests.support.faultproxy import FaultProxy

from .conftest import assert_cloud_holds_exactly_the_kiosk_events, drain_to_empty, seed

NONSENSE = {
    "reply cut short": (faultproxy.TRUNCATED, "cut short"),
    "a captive portal's HTML page": (faultproxy.HTML, "HTML page"),
    "JSON of the wrong shape": (faultproxy.WRONG_SHAPE, "not an object"),
    "a redirect": (faultproxy.REDIRECT, "redirect (HTTP 302) to http://portal.example/login"),
    "results without event ids": (faultproxy.NO_EVENT_IDS, "names no event"),
    "results with a status the protocol lacks": (faultproxy.UNKNOWN_STATUS, "status the protocol does not have"),
    "an HTTP status the protocol never sends": (faultproxy.status(299), "HTTP 299"),
}


@pytest.mark.parametrize(("fault", "reason"), NONSENSE.values(), ids=NONSENSE.keys())
def test_a_nonsense_answer_is_a_failed_attempt_that_keeps_the_events_and_degrades_the_link(
    cloud, proxy, store, device, make_worker, fault, reason
):
    members = seed(store, members=1, earns=1)
    worker = make_worker(proxy.url, batch_events=10)
    drain_to_empty(worker, store)
    assert worker.status.link is LinkState.ONLINE
    store.record(members[0], "earn", 5, amount=50_000)
    proxy.plan(fault)
    before = cloud.clock()
    result = worker.drain()
    assert result.failed
    status = worker.status
    assert status.link is not LinkState.ONLINE
    assert reason in status.last_error
    assert status.consecutive_failures == 1 and status.next_attempt_at > before
    assert store.outbox_depth() == 1 and store.outbox_parked() == []
    drain_to_empty(worker, store)
    assert_cloud_holds_exactly_the_kiosk_events(cloud, store, device)
    assert worker.status.link is LinkState.ONLINE and store.outbox_parked() == []


def test_results_are_matched_by_event_id_not_by_position(cloud, proxy, store, device, make_worker):
    seed(store, members=1, earns=3)
    proxy.plan(faultproxy.REVERSED)
    worker = make_worker(proxy.url, batch_events=10)
    result = worker.drain()
    assert not result.failed and result.delivered == 6
    assert_cloud_holds_exactly_the_kiosk_events(cloud, store, device)


def test_a_rejection_in_a_reordered_reply_parks_the_event_it_names(cloud, proxy, store, device, make_worker):
    member = seed(store, members=1, earns=1)[0]
    worker = make_worker(cloud.url, batch_events=10)
    drain_to_empty(worker, store)
    store.record(member, "earn", 7, amount=70_000)
    store.record(member, "earn", 8, amount=80_000)
    first, second = [row["event_id"] for row in store.outbox_pending()]
    # Another device already used the first id for a different event: the cloud rejects it, accepts the other.
    payload = store.query("SELECT payload FROM outbox WHERE event_id = ?", (first,))[0]["payload"]
    with cloud.registered_client() as other:
        other.send_batch([json.dumps({**protocol.event_from_outbox(payload), "points": 1})])
    proxy.plan(faultproxy.REVERSED)
    worker = make_worker(proxy.url, batch_events=10)
    worker.drain()
    assert [row["event_id"] for row in store.outbox_parked()] == [first]
    assert second in cloud.store.event_ids(device.device_id)


def test_a_reply_trickled_in_is_cut_off_at_the_total_deadline(cloud, store, make_worker):
    seed(store, members=1, earns=1)
    # Four bytes every 50 ms: every read is quick, the whole reply (headers and body, hundreds of bytes)
    # takes seconds. The read timeout is 2 s so a read slowed by a loaded machine is still "quick" (at
    # 0.5 s one timed out instead, at load 12), and the total deadline, 2.5 s, still cuts the reply off.
    with FaultProxy(cloud.url, trickle_interval=0.05) as slow:
        slow.plan(faultproxy.TRICKLE)
        worker = make_worker(slow.url, read_timeout=2.0, batch_events=10)
        assert worker.client.deadline == 2.5  # connect 0.5 + read 2.0
        result = worker.drain()
    assert result.failed
    assert "did not finish answering within 2.5 s" in worker.status.last_error
    assert store.outbox_depth() == 4 and store.outbox_parked() == []


def test_a_worker_facing_a_portal_backs_off_and_logs_one_line_per_attempt(cloud, proxy, store, make_worker, caplog):
    seed(store, members=1, earns=1)
    proxy.plan(*[faultproxy.HTML] * 4)
    worker = make_worker(proxy.url, backoff=Backoff(initial_s=0.02, cap_s=0.2, jitter=True), idle_poll=0.05)
    caplog.set_level(logging.INFO, logger="kiosk.sync")
    worker.start()
    wait_until(lambda: proxy.pending_faults() == 0 and store.outbox_depth() == 0, timeout_s=20,
               what="the worker to get past the portal")
    worker.close()
    failures = [r for r in caplog.records if "HTML page" in r.getMessage()]
    assert len(failures) >= 4
    assert not any(r.exc_info for r in caplog.records if r.name.startswith("kiosk.sync"))
    attempts = [s for s in proxy.seen if s.fault == faultproxy.HTML]
    assert len(attempts) == 4


def test_an_html_config_answer_degrades_an_idle_link_until_a_good_pull(cloud, store, make_worker):
    with FaultProxy(cloud.url, match="/config") as portal:
        worker = make_worker(portal.url)
        worker.pull_config()
        worker.drain()
        assert worker.status.link is LinkState.ONLINE
        portal.plan(faultproxy.HTML)
        assert worker.pull_config() is False
        assert worker.status.link is LinkState.DEGRADED
        assert "HTML page" in worker.status.last_error
        worker.pull_config()
        assert worker.status.link is LinkState.ONLINE


def test_the_worker_heartbeat_ages_while_a_request_is_stuck_and_rests_while_idle(cloud, store, make_worker):
    member = seed(store, members=1, earns=1)[0]
    with FaultProxy(cloud.url, trickle_interval=0.2) as slow:
        worker = make_worker(slow.url, read_timeout=30, idle_poll=60)
        worker.start()
        wait_until(lambda: store.outbox_depth() == 0 and worker.heartbeat_age_s() == 0, timeout_s=20,
                   what="the worker to deliver and rest")
        slow.plan(faultproxy.TRICKLE)
        store.record(member, "earn", 5, amount=50_000)
        worker.wake()
        wait_until(lambda: worker.heartbeat_age_s() > 1.0, timeout_s=20, what="the worker to be seen busy")
        assert worker.stalled(max_age_s=1.0)
        assert not worker.stalled()  # the default limit leaves room for a request's whole deadline
    # The proxy stopped trickling: the request failed, and the worker rests until its next try.
    wait_until(lambda: worker.status.consecutive_failures >= 1, timeout_s=20, what="the failed attempt")
    wait_until(lambda: worker.heartbeat_age_s() == 0, timeout_s=20, what="the worker to rest")
    worker.close()


class SteppedClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_worker_busy_without_progress_past_its_deadlines_is_stalled_but_an_idle_one_never(
    cloud, store, make_worker
):
    clock = SteppedClock()
    worker = make_worker(cloud.url, monotonic=clock, read_timeout=0.5)
    assert worker.client.deadline == 1.0 and not worker.stalled()
    clock.now += 6.9  # within two deadlines and the margin
    assert not worker.stalled()
    clock.now += 0.2
    assert worker.stalled() and worker.heartbeat_age_s() == pytest.approx(7.1)
    worker.drain()  # a round of work is progress
    assert not worker.stalled()


def test_the_daemon_watchdog_vouches_for_the_sync_worker_only_while_it_is_not_stalled(cloud, tmp_path):
    from appliance.daemon import liveness
    from appliance.runtime import Runtime
    from kiosk.config import load, load_secrets
    from tests.cloud.test_sync_cli import run
    from tests.conftest import write_config

    # A 4 s deadline a request (connect + read). With 1 s a whole-suite run once saw no first sync within 20 s:
    # an attempt cut off at its deadline on the loaded machine waits a backoff of 1, 2, 4 s... before the next.
    settings = load(write_config(tmp_path / "k", f'[cloud]\nurl = "{cloud.url}"\nsync_interval_s = 0.1\n'
                                                  'connect_timeout_s = 2.0\nread_timeout_s = 2.0\n'))
    run(settings, "register", "--token", cloud.store.create_token("test-branch"))
    with Runtime(settings, load_secrets(settings.device.secrets_file), port=0) as runtime:
        wait_until(lambda: runtime.sync.status.link is LinkState.ONLINE, timeout_s=20, what="the first sync")
        assert liveness(runtime)["sync-worker"] is True
        assert runtime.sync.client.deadline == 4.0
        runtime.sync.close()  # the worker thread is gone: no beat, and not idle by choice
        # Two deadlines and the margin (13 s) later the watchdog stops vouching for it.
        wait_until(lambda: liveness(runtime)["sync-worker"] is False, timeout_s=30, what="the stall to be seen")
