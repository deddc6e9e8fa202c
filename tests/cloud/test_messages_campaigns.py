"""Campaign sends to an RFM segment over the cloud's ledger: exactly the consenting members of the segment."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from cloud import cli
from cloud.db.schema import message_campaigns
from cloud.messages import contacts, scheduled
from cloud.messages.campaigns import BadCampaign, Campaign
from cloud.messages.cli import engine_for
from cloud.messages.settings import MessageSettingsError, settings_from
from cloud.store import CloudStore
from kiosk import protocol
from kiosk.clock import utcnow
from tests.cloud.messages_kit import QUIET_HOURS_OFF, jobs_run, write_jobs_setup
from tests.support.sms_providers import FakeProvider


@pytest.fixture
def chain(tmp_path: Path, database: str):
    with FakeProvider("kavenegar") as provider:
        db = database
        store = CloudStore(db)
        store.register(store.create_token("tehran-01"))
        config, secrets = write_jobs_setup(tmp_path, provider.url, f"{QUIET_HOURS_OFF}\nlapsed_days = 0")
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
    assert figures(capsys) == {"recipients": "1", "parts": "1", "cost_rial": "1200",
                               "recipients_fa": "1", "parts_fa": "1", "encoding_fa": "UCS-2"}
    run(db, config, secrets, "campaign", "--name", "spring", "--segment", "champions",
        "--text", "fa={first_name} عزیز، {points} امتیاز دارید", "--send")
    assert figures(capsys)["queued"] == "1"
    run(db, config, secrets, "drain")
    assert [(s.receptor, s.message) for s in provider.sent] == [("989120000001", "Champ عزیز، ۱۰۰۰ امتیاز دارید")]
    run(db, config, secrets, "campaign", "--name", "spring", "--segment", "champions", "--text", "fa=again", "--send")
    assert figures(capsys)["queued"] == "0"


def test_a_campaign_sent_at_a_later_time_is_saved_for_the_jobs_run_after_it_and_skips_who_opted_out(
        chain, capsys):
    store, db, config, secrets, provider = chain
    member(store, "+989120000001", consent=True, buys=10, days_ago=3, name="Champ", language="en")
    member(store, "+989120000002", consent=True, buys=10, days_ago=3, name="Quitter", language="en")
    at = utcnow() + timedelta(hours=2)
    run(db, config, secrets, "campaign", "--name", "later", "--segment", "champions",
        "--text", "en=Hi {first_name}, use {coupon}", "--coupon", "SPRING-5", "--at", protocol.format_time(at), "--send")
    shown = figures(capsys)
    assert shown["recipients"] == "2" and "queued" not in shown
    engine = engine_for(store.db)
    [saved] = scheduled.listing(engine)
    assert (saved.campaign_id, saved.name, saved.state) == (int(shown["scheduled"]), "later", "scheduled")
    assert saved.send_at == shown["send_at"] == protocol.format_time(at)
    assert jobs_run(db, config, secrets, capsys)["campaign_queued"] == "0" and provider.sent == []
    with engine.begin() as conn:
        assert contacts.opt_out(conn, "+989120000002", utcnow(), via="sms")
        # Two hours pass: the saved time is now behind us.
        conn.execute(message_campaigns.update().values(send_at=protocol.format_time(utcnow() - timedelta(seconds=1))))
    assert jobs_run(db, config, secrets, capsys)["campaign_queued"] == "1"
    assert [(s.receptor, s.message) for s in provider.sent] == [("989120000001", "Hi Champ, use SPRING-5")]
    assert jobs_run(db, config, secrets, capsys)["campaign_queued"] == "0" and len(provider.sent) == 1
    assert cli.main(["--db", str(db), "messages", "campaign", "--name", "later", "--segment", "champions",
                     "--text", "en=again", "--at", protocol.format_time(at), "--send",
                     "--messages-config", str(config), "--secrets", str(secrets)]) == 1
    assert "exists already" in capsys.readouterr().err


def test_persian_campaign_parts_are_counted_in_ucs2_for_the_estimate(chain, capsys):
    store, db, config, secrets, _ = chain
    member(store, "+989120000001", consent=True, buys=10, days_ago=3, name="Champ")
    member(store, "+989120000002", consent=True, buys=10, days_ago=3, name="Champ", language="en")
    run(db, config, secrets, "campaign", "--name", "long", "--segment", "champions", "--text", "fa=" + "س" * 71,
        "--text", "en=" + "a" * 161, "--cost-per-part", "1000")
    assert figures(capsys) == {"recipients": "2", "parts": "4", "cost_rial": "4000",
                               "recipients_fa": "1", "parts_fa": "2", "encoding_fa": "UCS-2",
                               "recipients_en": "1", "parts_en": "2", "encoding_en": "GSM-7"}


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
                     "--text", "fa={balance}", "--messages-config", str(config)]) == 1
    assert "{balance}" in capsys.readouterr().err


def test_a_campaign_names_each_members_tier_in_their_language_and_gives_its_coupon(chain, capsys):
    store, db, config, secrets, provider = chain
    sara = member(store, "+989120000001", consent=True, buys=10, days_ago=3, name="Sara")  # 1000 points: silver
    tom = member(store, "+989120000002", consent=True, buys=1, days_ago=3, name="Tom", language="en")  # bronze
    run(db, config, secrets, "campaign", "--name", "tiers", "--members", f"{sara},{tom}", "--coupon", "YALDA5",
        "--text", "fa={first_name}، سطح شما {tier} است؛ کد {coupon}", "--text", "en={first_name}: {tier}, code {coupon}",
        "--send")
    assert figures(capsys)["queued"] == "2"
    run(db, config, secrets, "drain")
    assert sorted((s.receptor, s.message) for s in provider.sent) == [
        ("989120000001", "Sara، سطح شما نقره‌ای است؛ کد YALDA5"), ("989120000002", "Tom: Bronze, code YALDA5")]


@pytest.mark.parametrize(("extra", "words"), [
    ((), "gives no coupon"),
    (("--coupon", "two words"), "coupon 'two words'"),
])
def test_a_coupon_variable_the_campaign_cannot_fill_is_refused_and_nothing_is_queued(chain, capsys, extra, words):
    store, db, config, secrets, provider = chain
    member(store, "+989120000001", consent=True, buys=10, days_ago=3, name="Champ")
    assert cli.main(["--db", str(db), "messages", "campaign", "--name", "c", "--segment", "champions",
                     "--text", "fa=کد {coupon}", *extra, "--send", "--messages-config", str(config),
                     "--secrets", str(secrets)]) == 1
    assert words in capsys.readouterr().err
    run(db, config, secrets, "drain")
    assert provider.sent == []


def test_the_chain_names_its_tiers_per_language_and_a_name_that_is_not_text_is_refused():
    settings = settings_from({"tier_names": {"gold": {"fa": "ویژه"}, "vip": {"en": "VIP", "ar": "كبار"}}})
    assert settings.tier_name("gold", "fa") == "ویژه" and settings.tier_name("gold", "en") == "Gold"
    assert settings.tier_name("vip", "ar") == "كبار" and settings.tier_name("vip", "fa") == "vip"
    assert settings.tier_name("silver", "ar") == "فضي"
    for bad in ({"vip": {"de": "VIP"}}, {"vip": {"fa": ""}}, {"vip": "VIP"}):
        with pytest.raises(MessageSettingsError, match="tier_names.vip"):
            settings_from({"tier_names": bad})
