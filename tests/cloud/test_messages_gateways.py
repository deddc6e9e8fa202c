"""Each SMS adapter against a loopback provider speaking that provider's documented API, errors included."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cloud.messages.gateways import GatewayError, OtpSender, OutboxGateway
from cloud.messages.http_post import HttpPostGateway, HttpPostSpec
from cloud.messages.kavenegar import KavenegarGateway, delivery_state
from cloud.messages.settings import MessageSettingsError, build_gateway, load_secrets, settings_from
from cloud.otp import OneTimeCodes, OutboxSender, SmsFailed
from cloud.store import CloudStore
from tests.support.sms_providers import FakeProvider

PHONE = "+989121234567"


@pytest.fixture
def kavenegar():
    with FakeProvider("kavenegar") as provider:
        yield provider


@pytest.fixture
def panel():
    with FakeProvider("panel") as provider:
        yield provider


def panel_gateway(panel: FakeProvider, key: str = "good-key") -> HttpPostGateway:
    spec = HttpPostSpec(url=panel.url + "/api/send", fields={"to": "{phone_local}", "text": "{text}",
                                                             "key": "{api_key}", "from": "{sender}"},
                        id_field="id", sender="3000")
    return HttpPostGateway(spec, key)


def test_kavenegar_takes_a_persian_message_and_returns_its_message_id(kavenegar):
    gateway = KavenegarGateway("good-key", "10004346", base_url=kavenegar.url)
    accepted = gateway.send(PHONE, "تولدت مبارک", reference="m1")
    assert accepted.provider_id == "8792343" and accepted.cost == 120
    assert [(s.receptor, s.message, s.sender) for s in kavenegar.sent] == [("989121234567", "تولدت مبارک", "10004346")]


def test_kavenegar_resent_with_the_same_reference_sends_once(kavenegar):
    gateway = KavenegarGateway("good-key", "", base_url=kavenegar.url)
    first = gateway.send(PHONE, "hello", reference="m7")
    again = gateway.send(PHONE, "hello", reference="m7")
    assert first == again and len(kavenegar.sent) == 1


@pytest.mark.parametrize(("setup", "fault", "words"), [
    (lambda p: None, False, "403: invalid API key"),
    (lambda p: setattr(p.state, "credit", 0), False, "418: not enough credit"),
    (lambda p: setattr(p.state, "rate_limited", 1), False, "429: rate limited"),
    (lambda p: setattr(p.state, "down", 1), False, "kavenegar 503"),
])
def test_kavenegar_gateway_faults_stop_the_gateway_and_say_why(kavenegar, setup, fault, words):
    setup(kavenegar)
    key = "wrong-key" if "403" in words else "good-key"
    with pytest.raises(GatewayError) as raised:
        KavenegarGateway(key, "", base_url=kavenegar.url).send(PHONE, "hi", reference="m1")
    assert raised.value.message_fault is fault and words in raised.value.reason
    assert kavenegar.sent == []


def test_kavenegar_rate_limit_carries_the_providers_retry_after(kavenegar):
    kavenegar.state.rate_limited = 1
    with pytest.raises(GatewayError) as raised:
        KavenegarGateway("good-key", "", base_url=kavenegar.url).send(PHONE, "hi", reference="m1")
    assert raised.value.retry_after_s == 7


def test_kavenegar_invalid_receptor_fails_only_that_message(kavenegar):
    with pytest.raises(GatewayError) as raised:
        KavenegarGateway("good-key", "", base_url=kavenegar.url).send("+982188776655", "hi", reference="m1")
    assert raised.value.message_fault and "411" in raised.value.reason


def test_kavenegar_unreachable_is_a_gateway_fault(kavenegar):
    url = kavenegar.url
    kavenegar.__exit__()
    with pytest.raises(GatewayError) as raised:
        KavenegarGateway("good-key", "", base_url=url, timeout_s=2).send(PHONE, "hi", reference="m1")
    assert not raised.value.message_fault and "unreachable" in raised.value.reason


def test_kavenegar_delivery_codes_map_to_final_states():
    assert (delivery_state(10), delivery_state(11), delivery_state(14), delivery_state(1)) == (
        "delivered", "failed", "failed", None)


def test_generic_panel_posts_the_templated_fields_and_reads_the_id(panel):
    accepted = panel_gateway(panel).send(PHONE, "سلام", reference="m3")
    assert accepted.provider_id == "5000"
    assert [(s.receptor, s.message, s.sender) for s in panel.sent] == [("09121234567", "سلام", "3000")]


@pytest.mark.parametrize(("setup", "key", "fault", "status"), [
    (lambda p: None, "bad-key", False, "401"),
    (lambda p: setattr(p.state, "credit", 0), "good-key", False, "402"),
    (lambda p: setattr(p.state, "rate_limited", 1), "good-key", False, "429"),
])
def test_generic_panel_key_credit_and_rate_faults_stop_the_gateway(panel, setup, key, fault, status):
    setup(panel)
    with pytest.raises(GatewayError) as raised:
        panel_gateway(panel, key).send(PHONE, "hi", reference="m1")
    assert raised.value.message_fault is fault and status in raised.value.reason


def test_generic_panel_invalid_number_fails_only_that_message(panel):
    with pytest.raises(GatewayError) as raised:
        panel_gateway(panel).send("+982188776655", "hi", reference="m1")
    assert raised.value.message_fault and "invalid number" in raised.value.reason


def test_a_panel_template_with_an_unknown_variable_is_refused_when_configured():
    with pytest.raises(MessageSettingsError, match=r"\{phone_number\}"):
        build_gateway(settings_from({"gateway": {"kind": "http_post", "url": "http://127.0.0.1:1/send",
                                                 "fields": {"to": "{phone_number}"}}}), load_secrets(None), print)


def test_the_outbox_gateway_puts_messages_in_the_code_outbox(tmp_path: Path):
    outbox = OutboxSender(CloudStore(tmp_path / "cloud.sqlite"))
    gateway = build_gateway(settings_from({}), load_secrets(None), outbox.send)
    assert isinstance(gateway, OutboxGateway)
    gateway.send(PHONE, "greeting", reference="m1")
    assert [(m.phone, m.text) for m in outbox.pending()] == [(PHONE, "greeting")]


def test_the_secret_file_is_refused_unless_only_its_owner_can_read_it(tmp_path: Path):
    secret = tmp_path / "secrets.toml"
    secret.write_text('[gateway]\napi_key = "good-key"\n[webhook]\nsecret = "hook"\n')
    os.chmod(secret, 0o644)
    with pytest.raises(MessageSettingsError, match="chmod 600"):
        load_secrets(secret)
    os.chmod(secret, 0o600)
    assert load_secrets(secret).api_key == "good-key"


def test_a_configured_kavenegar_gateway_reads_its_key_from_the_secret_file(tmp_path: Path, kavenegar):
    secret = tmp_path / "secrets.toml"
    secret.write_text('[gateway]\napi_key = "good-key"\n')
    os.chmod(secret, 0o600)
    settings = settings_from({"gateway": {"kind": "kavenegar", "base_url": kavenegar.url, "sender": "2000"}})
    build_gateway(settings, load_secrets(secret), print).send(PHONE, "hi", reference="m1")
    assert kavenegar.sent[0].sender == "2000"


def test_one_time_codes_go_through_the_provider_and_a_refusal_withdraws_the_code(tmp_path: Path, kavenegar):
    store = CloudStore(tmp_path / "cloud.sqlite")
    device = store.device(store.register(store.create_token("tehran-01")).device_id)
    codes = OneTimeCodes(store, OtpSender(KavenegarGateway("good-key", "", base_url=kavenegar.url), lambda: "otp-1"),
                         make_code=lambda: "123456")
    codes.issue(device, PHONE, "enroll")
    assert "123456" in kavenegar.sent[0].message
    kavenegar.state.credit = 0
    failing = OneTimeCodes(store, OtpSender(KavenegarGateway("good-key", "", base_url=kavenegar.url),
                                            lambda: "otp-2"), make_code=lambda: "654321")
    with pytest.raises(SmsFailed, match="418"):
        failing.issue(device, PHONE, "enroll")
    assert failing.verify(device, PHONE, "enroll", "654321").result != "ok"
