"""The reference cloud over real HTTP on loopback: registration, signed batches, look-up."""

from __future__ import annotations

import json
import os
import uuid
from datetime import timedelta

import pytest
import requests

from cloud.errors import TokenError
from kiosk import protocol
from kiosk.sync.errors import AuthRefused, ClockSkew, CloudRefused, CloudUnavailable

CARD = "ab" * 32
OTHER_CARD = "cd" * 32


def enrollment(cloud, member_id: str, card_ref: str = CARD) -> list[dict]:
    now = cloud.clock()
    return [
        protocol.make_event("member_enrolled", member_id, now, phone_e164="+989121234567", name="Sara"),
        protocol.make_event("card_bound", member_id, now, card_ref=card_ref),
    ]


def payloads(events: list[dict]) -> list[str]:
    return [json.dumps(event) for event in events]


def signed_post(cloud, client, body: bytes, *, key: str | None = None, at=None, path: str | None = None):
    path = path or f"/v1/devices/{client.device_id}/events"
    headers = protocol.signed_headers(client.device_id, key or client.device_key, at or cloud.clock(), "POST", path, body)
    return requests.post(cloud.url + path, data=body, headers=headers, timeout=5)


# -- registration ---------------------------------------------------------------------


def test_a_branch_token_registers_one_device_and_cannot_be_used_a_second_time(cloud):
    token = cloud.store.create_token("tehran-01")
    with cloud.client() as first:
        registration = first.register(token, name="front door")
    assert registration.branch == "tehran-01"
    assert len(registration.device_key) == 64
    assert cloud.store.device(registration.device_id).name == "front door"
    with cloud.client() as second, pytest.raises(CloudRefused, match="already used"):
        second.register(token)
    assert len(cloud.store.devices()) == 1


def test_an_unknown_token_is_refused_with_a_message_that_says_what_to_do(cloud):
    with cloud.client() as client, pytest.raises(CloudRefused, match="kiosk-cloud token create") as refused:
        client.register("not-a-token")
    assert refused.value.status == 403


def test_an_expired_token_is_refused(cloud):
    token = cloud.store.create_token("tehran-01", valid_for=timedelta(hours=1))
    cloud.clock.advance(timedelta(hours=2))
    with cloud.client() as client, pytest.raises(CloudRefused, match="expired"):
        client.register(token)


def test_a_token_needs_a_branch_name(cloud):
    with pytest.raises(TokenError, match="branch"):
        cloud.store.create_token("  ")


def test_the_cloud_database_file_is_readable_only_by_its_owner(tmp_path):
    from cloud.store import CloudStore

    with CloudStore(tmp_path / "cloud.sqlite") as store:  # SQLite only: PostgreSQL keeps its own files
        assert store.path.stat().st_mode & 0o777 == 0o600


# -- batches --------------------------------------------------------------------------


def test_a_signed_batch_is_accepted_and_each_event_is_answered(cloud):
    member = str(uuid.uuid4())
    events = enrollment(cloud, member) + [
        protocol.make_event("earn", member, cloud.clock(), points=120, amount=1_200_000)
    ]
    with cloud.registered_client() as client:
        reply = client.send_batch(payloads(events))
        device = cloud.store.device(client.device_id)
    assert [r["status"] for r in reply.results] == ["accepted"] * 3
    assert reply.delivered_ids() == [e["event_id"] for e in events]
    assert abs((reply.server_time - cloud.clock()).total_seconds()) < 5
    assert cloud.store.event_ids() == [e["event_id"] for e in events]
    assert device.events_count == 3 and device.last_seen_at is not None


def test_a_resent_batch_is_answered_as_duplicates_and_stored_once(cloud):
    member = str(uuid.uuid4())
    events = enrollment(cloud, member) + [protocol.make_event("earn", member, cloud.clock(), points=50)]
    with cloud.registered_client() as client:
        client.send_batch(payloads(events))
        again = client.send_batch(payloads(events[::-1]))
        lookup = client.lookup(card_ref=CARD)
    assert [r["status"] for r in again.results] == ["duplicate"] * 3
    assert again.delivered_ids() == [e["event_id"] for e in events[::-1]]
    assert sorted(cloud.store.event_ids()) == sorted(e["event_id"] for e in events)
    assert lookup["balance"] == 50


def test_the_same_event_twice_in_one_batch_is_stored_once(cloud):
    earn = protocol.make_event("earn", "m-1", cloud.clock(), points=10)
    with cloud.registered_client() as client:
        reply = client.send_batch(payloads([earn, earn]))
    assert [r["status"] for r in reply.results] == ["accepted", "duplicate"]
    assert cloud.store.lookup(member_id="m-1")["balance"] == 10


def test_an_event_id_reused_for_different_content_is_rejected_not_overwritten(cloud):
    earn = protocol.make_event("earn", "m-1", cloud.clock(), points=10)
    forged = {**earn, "points": 10_000}
    with cloud.registered_client() as client:
        client.send_batch(payloads([earn]))
        reply = client.send_batch(payloads([forged]))
    assert reply.results[0]["status"] == "rejected"
    assert "different event" in reply.results[0]["reason"]
    assert cloud.store.lookup(member_id="m-1")["balance"] == 10


def test_invalid_events_are_rejected_with_a_reason_and_the_rest_of_the_batch_is_kept(cloud):
    good = protocol.make_event("earn", "m-1", cloud.clock(), points=10)
    bad_sign = {**protocol.make_event("earn", "m-1", cloud.clock(), points=10), "points": -10}
    raw_uid = {**protocol.make_event("card_bound", "m-1", cloud.clock(), card_ref=CARD), "uid": "04A1B2C3"}
    unknown_kind = {"event_id": str(uuid.uuid4()), "kind": "gift", "member_id": "m-1", "created_at": "x"}
    with cloud.registered_client() as client:
        reply = client.send_batch(payloads([bad_sign, good, raw_uid, unknown_kind]) + ["42"])
    statuses = [r["status"] for r in reply.results]
    assert statuses == ["rejected", "accepted", "rejected", "rejected", "rejected"]
    reasons = [r.get("reason", "") for r in reply.results]
    assert "must be positive" in reasons[0]
    assert "unknown keys ['uid']" in reasons[2]
    assert "unknown kind 'gift'" in reasons[3]
    assert "JSON object" in reasons[4]
    assert cloud.store.event_ids() == [good["event_id"]]


def test_a_body_that_is_not_a_batch_is_refused_whole(cloud):
    with cloud.registered_client() as client:
        response = signed_post(cloud, client, b'{"evnts": []}')
        empty = signed_post(cloud, client, b'{"events": []}')
    assert response.status_code == 400 and "events" in response.json()["message"]
    assert empty.status_code == 400 and "empty" in empty.json()["message"]


def test_a_body_over_the_size_limit_gets_413(cloud):
    with cloud.registered_client() as client:
        response = signed_post(cloud, client, b"x" * (protocol.MAX_BATCH_BYTES + 1))
    assert response.status_code == 413
    assert response.json()["error"] == "too_large"


def poison_events(store, event_id: str) -> None:
    """A trigger that makes the database fail the insert of one event, as a full disk would."""
    with store.db.write() as conn:
        if store.db.dialect == "sqlite":
            conn.exec_driver_sql(f"CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.event_id = '{event_id}'"
                                 " BEGIN SELECT RAISE(ABORT, 'disk trouble'); END")
        else:
            conn.exec_driver_sql(f"CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                                 f" IF NEW.event_id = '{event_id}' THEN RAISE EXCEPTION 'disk trouble'; END IF;"
                                 " RETURN NEW; END $$")
            conn.exec_driver_sql("CREATE TRIGGER poison BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION poison()")


def cure_events(store) -> None:
    with store.db.write() as conn:
        if store.db.dialect == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER poison")
        else:
            conn.exec_driver_sql("DROP TRIGGER poison ON events")
            conn.exec_driver_sql("DROP FUNCTION poison()")


def test_a_batch_that_fails_midway_leaves_nothing_behind_and_can_be_resent(cloud):
    events = [protocol.make_event("earn", "m-1", cloud.clock(), points=p) for p in (1, 2, 3)]
    poison = events[2]["event_id"]
    poison_events(cloud.store, poison)
    with cloud.registered_client() as client:
        with pytest.raises(CloudUnavailable) as failed:
            client.send_batch(payloads(events))
        assert failed.value.status == 500
        assert cloud.store.event_ids() == []
        assert cloud.store.device(client.device_id).events_count == 0
        cure_events(cloud.store)
        reply = client.send_batch(payloads(events))
    assert [r["status"] for r in reply.results] == ["accepted"] * 3
    assert cloud.store.lookup(member_id="m-1")["balance"] == 6


# -- signatures -----------------------------------------------------------------------


def test_a_request_signed_with_another_key_is_refused(cloud):
    body = protocol.encode_batch(payloads([protocol.make_event("earn", "m-1", cloud.clock(), points=5)]))
    with cloud.registered_client() as client:
        response = signed_post(cloud, client, body, key=protocol.new_device_key())
    assert response.status_code == 401
    assert response.json()["error"] == "bad_signature"
    assert cloud.store.event_ids() == []


def test_a_tampered_body_is_refused(cloud):
    earn = protocol.make_event("earn", "m-1", cloud.clock(), points=5)
    body = protocol.encode_batch(payloads([earn]))
    with cloud.registered_client() as client:
        path = f"/v1/devices/{client.device_id}/events"
        headers = protocol.signed_headers(client.device_id, client.device_key, cloud.clock(), "POST", path, body)
        tampered = body.replace(b'"points": 5', b'"points": 5000')
        assert tampered != body
        response = requests.post(cloud.url + path, data=tampered, headers=headers, timeout=5)
    assert response.status_code == 401
    assert response.json()["error"] == "bad_signature"
    assert cloud.store.event_ids() == []


def test_an_unsigned_request_is_told_which_headers_to_send(cloud):
    with cloud.registered_client() as client:
        response = requests.post(f"{cloud.url}/v1/devices/{client.device_id}/events", data=b"{}", timeout=5)
    assert response.status_code == 401
    assert "X-Kiosk-Signature" in response.json()["message"]


def test_a_captured_request_replayed_after_the_window_is_refused_with_the_server_time(cloud):
    earn = protocol.make_event("earn", "m-1", cloud.clock(), points=5)
    body = protocol.encode_batch(payloads([earn]))
    with cloud.registered_client() as client:
        path = f"/v1/devices/{client.device_id}/events"
        captured = protocol.signed_headers(client.device_id, client.device_key, cloud.clock(), "POST", path, body)
        cloud.clock.advance(protocol.SIGNATURE_WINDOW + timedelta(seconds=1))
        response = requests.post(cloud.url + path, data=body, headers=captured, timeout=5)
    reply = response.json()
    assert response.status_code == 401
    assert reply["error"] == "clock_skew"
    assert abs((protocol.parse_time(reply["server_time"]) - cloud.clock()).total_seconds()) < 5
    assert reply["skew_seconds"] == pytest.approx(-301, abs=5)  # the clock runs while a loaded machine answers
    assert cloud.store.event_ids() == []


def test_a_signature_just_inside_the_window_is_accepted(cloud):
    earn = protocol.make_event("earn", "m-1", cloud.clock(), points=5)
    with cloud.registered_client() as client:
        response = signed_post(
            cloud, client, protocol.encode_batch(payloads([earn])),
            at=cloud.clock() - protocol.SIGNATURE_WINDOW + timedelta(seconds=5),
        )
    assert response.status_code == 200


def test_a_device_clock_hours_off_is_told_how_far_and_syncs_once_the_clock_is_set(cloud):
    device_offset = [timedelta(hours=-3)]
    earn = protocol.make_event("earn", "m-1", cloud.clock(), points=5)
    with cloud.registered_client(clock=lambda: cloud.clock() + device_offset[0]) as client:
        with pytest.raises(ClockSkew) as skewed:
            client.send_batch(payloads([earn]))
        assert skewed.value.skew_seconds == pytest.approx(-3 * 3600, abs=5)
        assert abs((skewed.value.server_time - cloud.clock()).total_seconds()) < 5
        assert "behind" in str(skewed.value)
        assert client.last_skew_seconds == pytest.approx(-3 * 3600, abs=5)
        assert cloud.store.event_ids() == []
        device_offset[0] = timedelta(0)
        reply = client.send_batch(payloads([earn]))
    assert reply.delivered_ids() == [earn["event_id"]]
    assert cloud.store.event_ids() == [earn["event_id"]]


def test_a_signature_made_for_one_endpoint_does_not_open_another(cloud):
    with cloud.registered_client() as client:
        lookup_path = f"/v1/members/lookup?card_ref={CARD}"
        headers = protocol.signed_headers(client.device_id, client.device_key, cloud.clock(), "GET", lookup_path, b"")
        response = requests.get(f"{cloud.url}/v1/devices/{client.device_id}/config", headers=headers, timeout=5)
    assert response.status_code == 401
    assert response.json()["error"] == "bad_signature"


def test_a_device_cannot_post_into_another_devices_url(cloud):
    earn = protocol.make_event("earn", "m-1", cloud.clock(), points=5)
    with cloud.registered_client() as victim, cloud.registered_client() as intruder:
        path = f"/v1/devices/{victim.device_id}/events"
        response = signed_post(cloud, intruder, protocol.encode_batch(payloads([earn])), path=path)
    assert response.status_code == 401
    assert response.json()["error"] == "wrong_device"
    assert cloud.store.event_ids() == []


def test_a_lost_device_key_reads_as_refused_not_as_unavailable(cloud):
    with cloud.registered_client() as client:
        client.device_key = protocol.new_device_key()
        with pytest.raises(AuthRefused, match="device key"):
            client.send_batch(payloads([protocol.make_event("earn", "m-1", cloud.clock(), points=5)]))


# -- members --------------------------------------------------------------------------


def test_a_member_enrolled_in_branch_a_is_found_in_branch_b_with_the_chain_balance(cloud):
    member = str(uuid.uuid4())
    now = cloud.clock()
    with cloud.registered_client("tehran-01") as branch_a, cloud.registered_client("shiraz-02") as branch_b:
        branch_a.send_batch(payloads(enrollment(cloud, member) + [
            protocol.make_event("earn", member, now, points=300, amount=3_000_000),
        ]))
        branch_b.send_batch(payloads([
            protocol.make_event("redeem", member, now, points=-100, reason="coffee"),
            protocol.make_event("bonus", member, now, points=25, reason="birthday"),
            # A mirror of the cloud's own figure must not count twice.
            protocol.make_event("adjust", member, now, points=999, origin="cloud_correction"),
        ]))
        found = branch_b.lookup(card_ref=CARD)
        unknown = branch_b.lookup(card_ref=OTHER_CARD)
    assert found["balance"] == 225
    assert found["member"]["phone_e164"] == "+989121234567"
    assert found["member"]["branch"] == "tehran-01"
    assert found["card"]["state"] == "active"
    assert found["ledger_events"] == 4
    assert unknown is None


def test_ledger_events_that_arrive_before_the_enrollment_still_count(cloud):
    member = str(uuid.uuid4())
    with cloud.registered_client() as client:
        client.send_batch(payloads([protocol.make_event("earn", member, cloud.clock(), points=40)]))
        client.send_batch(payloads(enrollment(cloud, member)))
        found = client.lookup(card_ref=CARD)
    assert found["balance"] == 40 and found["member"]["name"] == "Sara"


def test_a_block_delivered_before_the_bind_leaves_the_card_blocked(cloud):
    member = str(uuid.uuid4())
    bound = protocol.make_event("card_bound", member, cloud.clock(), card_ref=CARD)
    blocked = protocol.make_event("card_state", member, cloud.clock() + timedelta(seconds=1), card_ref=CARD, state="lost")
    with cloud.registered_client() as client:
        client.send_batch(payloads([blocked]))
        client.send_batch(payloads([bound]))
        found = client.lookup(card_ref=CARD)
    assert found["card"]["state"] == "lost"


def test_a_lookup_with_a_malformed_card_ref_says_what_a_card_ref_is(cloud):
    with cloud.registered_client() as client, pytest.raises(CloudRefused, match="64 lowercase hex"):
        client.lookup(card_ref="04A1B2C3")


# -- config ---------------------------------------------------------------------------

RULES = {
    "rules": {"earn_per_rial": 0.0001},
    "tiers": [{"name": "silver", "points": 1000}],
    "rewards": [],
    "campaigns": [],
}


def test_config_is_served_with_an_etag_and_304_while_unchanged(cloud):
    cloud.store.set_config("tehran-01", RULES)
    with cloud.registered_client() as client:
        first = client.fetch_config()
        again = client.fetch_config(first.etag)
        cloud.store.set_config("tehran-01", {**RULES, "rewards": [{"id": "coffee", "points": 100}]})
        changed = client.fetch_config(first.etag)
    assert not first.not_modified and first.document == RULES and first.etag
    assert again.not_modified and again.document is None and again.etag == first.etag
    assert not changed.not_modified and changed.etag != first.etag
    assert changed.document["rewards"][0]["id"] == "coffee"


def test_each_branch_gets_its_own_config(cloud):
    cloud.store.set_config("tehran-01", RULES)
    cloud.store.set_config("shiraz-02", {**RULES, "tiers": []})
    with cloud.registered_client("shiraz-02") as client:
        assert client.fetch_config().document["tiers"] == []


def test_a_branch_without_config_is_told_how_to_set_one(cloud):
    with cloud.registered_client("isfahan-03") as client, pytest.raises(CloudRefused, match="config set") as missing:
        client.fetch_config()
    assert missing.value.code == "no_config"


# -- status pages ---------------------------------------------------------------------


def test_the_status_json_lists_devices_with_last_seen_and_event_counts_for_a_signed_device_only(cloud):
    with cloud.registered_client() as client:
        client.send_batch(payloads([protocol.make_event("earn", "m-1", cloud.clock(), points=5)]))
        device_id = client.device_id
        headers = protocol.signed_headers(device_id, client.device_key, cloud.clock(), "GET", "/v1/status", b"")
    status = requests.get(f"{cloud.url}/v1/status", headers=headers, timeout=5)
    unsigned = requests.get(f"{cloud.url}/v1/status", timeout=5)
    assert status.status_code == 200 and unsigned.status_code == 401
    status = status.json()
    assert status["counts"]["events"] == 1
    assert status["devices"][0]["device_id"] == device_id
    assert status["devices"][0]["events_count"] == 1
    assert "key" not in status["devices"][0]
    assert unsigned.headers[protocol.HEADER_SERVER_TIME].isdigit()


def test_enrolment_tokens_never_start_like_a_command_line_option(tmp_path):
    from cloud.store import CloudStore

    with CloudStore(tmp_path / "tokens.sqlite") as store:
        tokens = [store.create_token("branch1") for _ in range(64)]
    assert all(t.startswith("kt_") for t in tokens) and len(set(tokens)) == 64


def test_a_card_ref_with_a_trailing_newline_is_refused_by_the_look_up_not_taken_for_the_card(cloud):
    with cloud.registered_client() as client:
        client.send_batch(payloads(enrollment(cloud, "m-nl")))
        assert client.lookup(card_ref=CARD)["member_id"] == "m-nl"
        path = f"/v1/members/lookup?card_ref={CARD}%0A"
        headers = protocol.signed_headers(client.device_id, client.device_key, cloud.clock(), "GET", path, b"")
        response = requests.get(cloud.url + path, headers=headers, timeout=5)
    assert (response.status_code, response.json()["error"]) == (400, "bad_card_ref")

