"""Campaign sends to an RFM segment over the cloud's ledger: exactly the consenting members of the segment."""

from __future__ import annotations

import os
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from cloud import cli
from cloud.messages.campaigns import BadCampaign, Campaign
from cloud.store import CloudStore
from kiosk import protocol
from kiosk.clock import utcnow
from tests.support.sms_providers import FakeProvider


@pytest.fixture
def chain(tmp_path: Path, database: str):
    with FakeProvider("kavenegar") as provider:
        db = database
        store = CloudStore(db)
        store.register(store.create_token("tehran-01"))
        config = tmp_path / "messages.toml"
        config.write_text(f'[messages]\nclub = "Kafe"\nquiet_hours = ["00:00", "00:00"]\nlapsed_days = 0\n[gateway]\n'
                          f'kind = "kavenegar"\nbase_url = "{provider.url}"\n', encoding="utf-8")
        secrets = tmp_path / "secrets.toml"
        secrets.write_text('[gateway]\napi_key = "good-key"\n')
        os.chmod(secrets, 0o600)
        yield store, db, config, secrets, provider
        store.close()


def member(store: CloudStore, phone: str, *, consent: bool, buys: int, days_ago: int, name: str,
           language: str = "fa") -> str:
    member_id = str(uuid.uuid4())
    now = utcnow()
    enrolled = now - timedelta(days=400)
    events = [protocol.make_event("member_enrolled", member_id, enrolled, phone_e164=phone, name=name,
                                  language=language,
                                  consent={"at": protocol.format_time(enrolled), "text_version": "1"} if consent else None)]
    for i in range(buys):
        events.append(protocol.make_event("earn", member_id, now - timedelta(days=days_ago + i * 5), points=100,
                                          amount=10_000_000))
    store.ingest(store.devices()[0], events)
    return member_id


def run(db: str, config: Path, secrets: Path, *args: str) -> None:
    assert cli.main(["--db", str(db), "messages", *args, "--messages-config", str(config),
                     "--secrets", str(secrets)]) == 0


def figures(capsys) -> dict[str, str]:
    return dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines() if "=" in line)


def test_a_segment_send_reaches_exactly_the_consenting_members_of_the_segment(chain, capsys):
    store, db, config, secrets, provider = chain
    member(store, "+989120000001", consent=True, buys=10, days_ago=3, name="Champ")
    member(store, "+989120000002", consent=False, buys=10, days_ago=3, name="SilentChamp")
    member(store, "+989120000003", consent=True, buys=1, days_ago=300, name="Sleeper", language="en")
    assert cli.main(["--db", str(db), "jobs", "run", "--messages-config", str(config), "--secrets", str(secrets)]) == 0
    capsys.readouterr()
    run(db, config, secrets, "campaign", "--name", "spring", "--segment", "champions",
        "--text", "fa={first_name} عزیز، {points} امتیاز دارید", "--cost-per-part", "1200")
    assert figures(capsys) == {"recipients": "1", "parts": "1", "cost_rial": "1200"}
    run(db, config, secrets, "campaign", "--name", "spring", "--segment", "champions",
        "--text", "fa={first_name} عزیز، {points} امتیاز دارید", "--send")
    assert figures(capsys)["queued"] == "1"
    run(db, config, secrets, "drain")
    assert [(s.receptor, s.message) for s in provider.sent] == [("989120000001", "Champ عزیز، ۱۰۰۰ امتیاز دارید")]
    run(db, config, secrets, "campaign", "--name", "spring", "--segment", "champions", "--text", "fa=again", "--send")
    assert figures(capsys)["queued"] == "0"


def test_a_scheduled_campaign_waits_for_its_time(chain, capsys):
    store, db, config, secrets, provider = chain
    member(store, "+989120000001", consent=True, buys=10, days_ago=3, name="Champ")
    at = protocol.format_time(utcnow() + timedelta(hours=2))
    run(db, config, secrets, "campaign", "--name", "later", "--segment", "champions", "--text", "en=Hi {first_name}",
        "--at", at, "--send")
    run(db, config, secrets, "drain")
    assert figures(capsys)["queued"] == "1" and provider.sent == []


def test_persian_campaign_parts_are_counted_in_ucs2_for_the_estimate(chain, capsys):
    store, db, config, secrets, _ = chain
    member(store, "+989120000001", consent=True, buys=10, days_ago=3, name="Champ")
    run(db, config, secrets, "campaign", "--name", "long", "--segment", "champions", "--text", "fa=" + "س" * 71,
        "--cost-per-part", "1000")
    assert figures(capsys) == {"recipients": "1", "parts": "2", "cost_rial": "2000"}


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"texts": {"fa": "hi {coupon}"}, "segment": "champions"}, "{coupon}"),
    ({"texts": {"de": "hallo"}, "segment": "champions"}, "fa, ar, en"),
    ({"texts": {"fa": "hi"}, "segment": "vip"}, "segment 'vip'"),
    ({"texts": {"fa": "hi"}}, "choose one audience"),
    ({"texts": {"fa": "hi"}, "segment": "champions", "tier": "gold"}, "choose one audience"),
    ({"texts": {"fa": "hi"}, "phones": ("09121234567",)}, "not E.164"),
])
def test_a_campaign_written_wrong_is_refused_before_anything_is_queued(kwargs, words):
    with pytest.raises(BadCampaign, match=words.replace("{", r"\{").replace("}", r"\}")):
        Campaign("c1", **kwargs)


def test_the_cli_refuses_a_bad_campaign_with_the_reason(chain, capsys):
    _, db, config, secrets, _ = chain
    assert cli.main(["--db", str(db), "messages", "campaign", "--name", "x", "--segment", "champions",
                     "--text", "fa={tier}", "--messages-config", str(config)]) == 1
    assert "{tier}" in capsys.readouterr().err
