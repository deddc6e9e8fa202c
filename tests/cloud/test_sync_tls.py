"""TLS is verified: against the chain's CA file it syncs, against the system store it refuses."""

from __future__ import annotations

from tests.support.faultproxy import FaultProxy
from kiosk.sync.policy import LinkState

from .conftest import assert_cloud_holds_exactly_the_kiosk_events, drain_to_empty, seed


def test_the_kiosk_syncs_over_tls_only_when_the_certificate_checks_out(cloud, store, device, make_worker, tls_files):
    seed(store, members=1, earns=1)
    with FaultProxy(cloud.url, tls=(str(tls_files.cert_file), str(tls_files.key_file))) as https:
        assert https.url.startswith("https://")
        untrusting = make_worker(https.url)
        result = untrusting.drain()
        assert result.failed
        assert "TLS check of the cloud failed" in untrusting.status.last_error
        assert untrusting.status.link is not LinkState.ONLINE
        assert cloud.store.event_ids() == []

        trusting = make_worker(https.url, ca_file=str(tls_files.ca_file))
        drain_to_empty(trusting, store)
    assert_cloud_holds_exactly_the_kiosk_events(cloud, store, device)
