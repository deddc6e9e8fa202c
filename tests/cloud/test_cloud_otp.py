"""The cloud's SMS hook over real HTTP on loopback: one-time codes, their hash, expiry, attempts and rate limit."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import requests

from cloud import cli
from cloud.app import create_app
from cloud.otp import OutboxSender, SmsFailed
from appliance.web_server import WebServer
from kiosk import protocol
from kiosk.sync.errors import CloudRefused, CloudUnavailable, OtpRateLimited

PHONE = "+989121234567"


def codes_in_outbox(cloud, phone: str = PHONE) -> list[str]:
    return [re.search(r"\b(\d{6})\b", m.text).group(1) for m in OutboxSender(cloud.store).pending() if m.phone == phone]


def test_a_requested_code_waits_in_the_outbox_and_the_cloud_keeps_only_its_hash(cloud):
    with cloud.registered_client() as client:
        client.request_otp(PHONE, "enroll")
        [code] = codes_in_outbox(cloud)
        with cloud.store.db.read() as conn:
            rows = conn.exec_driver_sql("SELECT * FROM otp_codes").fetchall()
        assert len(rows) == 1 and not any(code in str(value) for value in rows[0])
        assert client.verify_otp(PHONE, "enroll", code).result == "ok"
        # Used once: the same code again is no longer valid.
        assert client.verify_otp(PHONE, "enroll", code).result == "expired"


def test_wrong_codes_count_down_the_attempts_and_the_fifth_locks_the_code_even_for_the_right_one(cloud):
    with cloud.registered_client() as client:
        client.request_otp(PHONE, "add_card")
        [code] = codes_in_outbox(cloud)
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        answers = [client.verify_otp(PHONE, "add_card", wrong) for _ in range(protocol.OTP_MAX_ATTEMPTS)]
        assert [(a.result, a.attempts_left) for a in answers] == [
            ("wrong", 4), ("wrong", 3), ("wrong", 2), ("wrong", 1), ("locked", 0)]
        assert client.verify_otp(PHONE, "add_card", code).result == "locked"


def test_a_code_expires_after_five_minutes(cloud):
    with cloud.registered_client() as client:
        client.request_otp(PHONE, "enroll")
        [code] = codes_in_outbox(cloud)
        cloud.clock.advance(protocol.OTP_TTL + timedelta(seconds=1))
        assert client.verify_otp(PHONE, "enroll", code).result == "expired"


def test_a_code_is_good_only_for_its_device_phone_and_purpose_and_a_new_code_replaces_the_old(cloud):
    with cloud.registered_client() as client, cloud.registered_client("shiraz-02") as other:
        client.request_otp(PHONE, "enroll")
        [first] = codes_in_outbox(cloud)
        assert other.verify_otp(PHONE, "enroll", first).result == "expired"
        assert client.verify_otp(PHONE, "add_card", first).result == "expired"
        assert client.verify_otp("+989350000000", "enroll", first).result == "expired"
        client.request_otp(PHONE, "enroll")
        [_, second] = codes_in_outbox(cloud)
        if first != second:
            assert client.verify_otp(PHONE, "enroll", first).result == "wrong"
        assert client.verify_otp(PHONE, "enroll", second).result == "ok"


def test_a_phone_gets_at_most_three_codes_in_fifteen_minutes_and_is_told_when_to_retry(cloud):
    with cloud.registered_client() as client:
        for _ in range(3):
            client.request_otp(PHONE, "enroll")
        with pytest.raises(OtpRateLimited) as limited:
            client.request_otp(PHONE, "add_card")
        assert limited.value.status == 429 and 0 < limited.value.retry_after <= 15 * 60
        assert len(codes_in_outbox(cloud)) == 3
        client.request_otp("+989350000000", "enroll")  # the limit is per phone
        cloud.clock.advance(timedelta(minutes=15, seconds=1))
        client.request_otp(PHONE, "enroll")
        assert len(codes_in_outbox(cloud)) == 4


@pytest.mark.parametrize("phone, purpose, wanted", [
    ("09121234567", "enroll", "E.164"),
    (PHONE, "login", "purpose must be one of"),
])
def test_a_bad_phone_or_purpose_is_refused_with_what_to_send(cloud, phone, purpose, wanted):
    with cloud.registered_client() as client, pytest.raises(CloudRefused, match=wanted) as refused:
        client.request_otp(phone, purpose)
    assert refused.value.status == 400
    assert OutboxSender(cloud.store).pending() == []


def test_a_code_check_with_a_malformed_code_is_refused_and_costs_no_attempt(cloud):
    with cloud.registered_client() as client:
        client.request_otp(PHONE, "enroll")
        with pytest.raises(CloudRefused, match="6 digits"):
            client.verify_otp(PHONE, "enroll", "12ab")
        [code] = codes_in_outbox(cloud)
        assert client.verify_otp(PHONE, "enroll", code).result == "ok"


def test_an_unsigned_code_request_is_refused(cloud):
    with cloud.registered_client() as client:
        reply = requests.post(f"{cloud.url}/v1/devices/{client.device_id}/otp",
                              json={"phone": PHONE, "purpose": "enroll"}, timeout=5)
    assert reply.status_code == 401 and reply.json()["error"] == "unsigned"
    assert OutboxSender(cloud.store).pending() == []


class BrokenGateway:
    """An SMS gateway that is down (the sender is the pluggable edge of the cloud)."""

    def send(self, phone: str, text: str) -> None:
        raise SmsFailed("gateway answered 503")


def test_when_the_sender_fails_the_kiosk_hears_the_cloud_is_unavailable_and_no_code_stays_valid(database, server_clock):
    app = create_app(database, clock=server_clock, sms_sender=BrokenGateway(), make_code=lambda: "123456")
    with WebServer(app) as server:
        store = app.extensions["cloud_store"]
        from kiosk.sync.client import CloudClient

        with CloudClient(server.url, clock=server_clock) as client:
            client.register(store.create_token("tehran-01"))
            with pytest.raises(CloudUnavailable) as down:
                client.request_otp(PHONE, "enroll")
            assert down.value.status == 502 and not isinstance(down.value, OtpRateLimited)
            assert client.verify_otp(PHONE, "enroll", "123456").result == "expired"
    app.extensions["cloud_store"].close()


def test_sms_outbox_prints_the_waiting_messages_and_marks_them_sent_when_asked(cloud, capsys):
    with cloud.registered_client() as client:
        client.request_otp(PHONE, "enroll")
    [code] = codes_in_outbox(cloud)
    assert cli.main(["--db", cloud.database, "sms", "outbox"]) == 0
    out = capsys.readouterr().out
    assert PHONE in out and code in out
    assert cli.main(["--db", cloud.database, "sms", "outbox", "--mark-sent"]) == 0
    capsys.readouterr()
    assert cli.main(["--db", cloud.database, "sms", "outbox"]) == 0
    printed = capsys.readouterr()
    assert printed.out == "" and "no messages waiting" in printed.err
