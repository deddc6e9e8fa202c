"""The fault proxy itself does what each fault promises (so the sync tests mean something)."""

from __future__ import annotations

import json

import pytest

from kiosk import protocol
from tests.support import faultproxy
from kiosk.sync.client import CloudClient
from kiosk.sync.errors import CloudUnavailable

from .conftest import ANSWERED_READ_TIMEOUT


def batch(cloud, points: int) -> list[str]:
    return [json.dumps(protocol.make_event("earn", "m-1", cloud.clock(), points=points))]


@pytest.fixture
def client(cloud, proxy):
    direct = cloud.registered_client()
    via_proxy = CloudClient(proxy.url, device_id=direct.device_id, device_key=direct.device_key,
                            clock=cloud.clock, read_timeout=ANSWERED_READ_TIMEOUT)  # the proxy's hang is 10 s
    yield via_proxy
    via_proxy.close()
    direct.close()


def test_an_injected_503_carries_retry_after_and_nothing_reaches_the_cloud(cloud, proxy, client):
    proxy.plan(faultproxy.status(503, 7))
    with pytest.raises(CloudUnavailable) as failed:
        client.send_batch(batch(cloud, 1))
    assert failed.value.status == 503 and failed.value.retry_after == 7
    assert cloud.store.event_ids() == []


def test_a_reset_is_a_network_error_and_nothing_reaches_the_cloud(cloud, proxy, client):
    proxy.plan(faultproxy.RESET)
    with pytest.raises(CloudUnavailable, match="cannot reach"):
        client.send_batch(batch(cloud, 1))
    assert cloud.store.event_ids() == []


def test_a_hang_runs_into_the_read_timeout(cloud, proxy, client):
    proxy.plan(faultproxy.HANG)
    with pytest.raises(CloudUnavailable, match="in time"):
        client.send_batch(batch(cloud, 1))
    assert cloud.store.event_ids() == []


def test_a_lost_reply_leaves_the_batch_committed_in_the_cloud(cloud, proxy, client):
    events = batch(cloud, 1)
    proxy.plan(faultproxy.LOSE_REPLY)
    with pytest.raises(CloudUnavailable):
        client.send_batch(events)
    assert cloud.store.event_ids() == [json.loads(events[0])["event_id"]]
    assert client.send_batch(events).results[0]["status"] == "duplicate"


def test_a_duplicated_delivery_reaches_the_cloud_twice_and_is_stored_once(cloud, proxy, client):
    proxy.plan(faultproxy.DUPLICATE)
    reply = client.send_batch(batch(cloud, 1))
    assert reply.results[0]["status"] == "duplicate"  # the second copy's answer
    assert len(cloud.store.event_ids()) == 1
    assert proxy.seen[-1].fault == "duplicate"


def test_a_held_request_is_delivered_after_the_next_one(cloud, proxy, client):
    first, second = batch(cloud, 1), batch(cloud, 2)
    proxy.plan(faultproxy.HOLD, faultproxy.RELEASE)
    with pytest.raises(CloudUnavailable):
        client.send_batch(first)
    assert proxy.held() == 1 and cloud.store.event_ids() == []
    client.send_batch(second)
    ids = [json.loads(p[0])["event_id"] for p in (second, first)]
    assert cloud.store.event_ids() == ids
    assert proxy.held() == 0


def test_requests_that_do_not_match_pass_untouched(cloud, proxy, client):
    proxy.plan(faultproxy.status(500))
    assert client.lookup(member_id="nobody") is None
    assert proxy.pending_faults() == 1


def test_an_unknown_fault_name_is_refused():
    with pytest.raises(ValueError, match="unknown fault"):
        faultproxy.Fault("explode")
