"""TLS is verified: against the chain's CA file it syncs, against the system store it refuses."""

from __future__ import annotations

import pytest

from tests.support.faultproxy import FaultProxy
from kiosk.sync.client import CloudClient
from kiosk.sync.errors import CloudUnavailable
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


def test_a_ca_bundle_named_in_the_environment_is_trusted_by_the_client_and_its_clone(cloud, device, tls_files,
                                                                                     monkeypatch):
    unknown_card = "cd" * 32
    with FaultProxy(cloud.url, tls=(str(tls_files.cert_file), str(tls_files.key_file))) as https:
        monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
        monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
        with CloudClient(https.url, device_id=device.device_id, device_key=device.device_key) as plain:
            with pytest.raises(CloudUnavailable, match="TLS check of the cloud failed"):
                plain.lookup(card_ref=unknown_card)  # the system store does not know the test CA
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(tls_files.ca_file))
        with CloudClient(https.url, device_id=device.device_id, device_key=device.device_key) as client:
            monkeypatch.delenv("REQUESTS_CA_BUNDLE")  # read when the client was made
            assert client.lookup(card_ref=unknown_card) is None
            with client.clone() as twin:
                assert twin.lookup(card_ref=unknown_card) is None
