"""Text campaigns from the console: composed in fa/ar/en, counted and costed, sent now or at a time, drained by
`kiosk-cloud jobs run` to a loopback Kavenegar that must receive each member's text once, in their language."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from appliance.web_server import WebServer
from cloud import audit
from cloud.app import create_app
from cloud.messages import contacts
from cloud.messages.cli import engine_for
from cloud.store import CloudStore
from cloud.users import UserStore
from kiosk import protocol
from tests.cloud.conftest import PASSWORD, ConsoleSession
from tests.cloud.messages_kit import jobs_run, write_jobs_setup
from tests.support.sms_providers import FakeProvider

TEHRAN = ZoneInfo("Asia/Tehran")
CONFIG = {"rules": {}, "tiers": [{"name": "bronze", "min_points": 0, "multiplier_percent": 100},
                                 {"name": "gold", "min_points": 1_500, "multiplier_percent": 120}],
          "rewards": [], "campaigns": []}
# (member id, first name, phone, language, points, marketing consent)
MEMBERS = (("m-fa", "Ali", "+989120000001", "fa", 2_000, True),
           ("m-ar", "Huda", "+989120000002", "ar", 2_000, True),
           ("m-en", "Sam", "+989120000003", "en", 2_000, True),
           ("m-quiet", "Reza", "+989120000004", "fa", 2_000, False),
           ("m-bronze", "Nima", "+989120000005", "fa", 100, True))
TEXTS = {"text_fa": "{first_name} عزیز، {points} امتیاز دارید",
         "text_ar": "{first_name}، لديك {points} نقطة",
         "text_en": "{first_name}, you have {points} points"}


@dataclass
class Texting:
    url: str
    database: str
    store: CloudStore
    provider: FakeProvider
    config: Path
    secrets: Path

    def session(self, username: str) -> ConsoleSession:
        session = ConsoleSession(self)  # type: ignore[arg-type]
        assert session.login(username).status_code == 302
        return session

    def jobs_run(self, capsys) -> dict[str, str]:
        return jobs_run(self.database, self.config, self.secrets, capsys)


@pytest.fixture
def texting(request, tmp_path: Path, database: str, server_clock) -> Iterator[Texting]:
    quiet = getattr(request, "param", '["00:00", "00:00"]')
    with FakeProvider("kavenegar") as provider:
        config, secrets = write_jobs_setup(tmp_path, provider.url, f"quiet_hours = {quiet}\nlapsed_days = 0\n"
                                           "anniversary = false\ntier_greeting = false\nexpiry_warning_days = 0\n"
                                           "cost_per_part_rial = 1200")
        app = create_app(database, clock=server_clock, messages_config=config)
        store = app.extensions["cloud_store"]
        store.set_config("tehran-01", CONFIG)
        store.register(store.create_token("tehran-01"))
        enrolled = server_clock() - timedelta(days=30)
        events = []
        for member_id, name, phone, language, points, consent in MEMBERS:
            events.append(protocol.make_event(
                "member_enrolled", member_id, enrolled, phone_e164=phone, name=name, language=language,
                consent={"at": protocol.format_time(enrolled), "text_version": "1"} if consent else None))
            events.append(protocol.make_event("earn", member_id, enrolled + timedelta(days=1), points=points,
                                              amount=points * 10_000))
        store.ingest(store.devices()[0], events)
        users = UserStore(store.db, server_clock)
        users.add("marketer", PASSWORD, "marketer")
        users.add("tehran-manager", PASSWORD, "branch_manager", ["tehran-01"])
        with WebServer(app) as server:
            yield Texting(server.url, database, store, provider, config, secrets)
        store.db.close()


def form(**values: str) -> dict[str, str]:
    return {"name": "yalda-gold", "audience": "tier", "tier": "gold", "when": "now", **TEXTS, **values}


def test_a_marketer_sends_to_a_tier_and_each_consenting_member_gets_their_languages_text_exactly_once(texting, capsys):
    marketer = texting.session("marketer")
    page = marketer.post("/messages/campaigns?lang=en", form(action="preview"), csrf_from="/messages/campaigns")
    assert page.status_code == 200
    assert 'data-recipients="3"' in page.text and "no marketing consent: 1" in page.text
    parts = dict(re.findall(r'data-language="(\w\w)">.*?<td dir="ltr">([\w-]+)</td>', page.text))
    assert parts == {"fa": "UCS-2", "ar": "UCS-2", "en": "GSM-7"}
    assert "Estimated cost: 3,600 rial (3 parts at 1,200 rial)" in page.text
    assert texting.provider.sent == []  # a preview queues nothing

    sent = marketer.post("/messages/campaigns?lang=en", form(action="send"), csrf_from="/messages/campaigns")
    assert sent.status_code == 302
    assert "3 messages queued" in marketer.get("/messages/campaigns?lang=en").text
    assert texting.jobs_run(capsys)["sent"] == "3"
    assert texting.jobs_run(capsys)["sent"] == "0"
    assert sorted((s.receptor, s.message) for s in texting.provider.sent) == [
        ("989120000001", "Ali عزیز، ۲۰۰۰ امتیاز دارید"),
        ("989120000002", "Huda، لديك ٢٠٠٠ نقطة"),
        ("989120000003", "Sam, you have 2000 points")]
    [entry] = [e for e in audit.recent(texting.store.db) if e.action == "message_campaign.schedule"]
    assert entry.actor == "marketer" and entry.target == "yalda-gold" and entry.after["audience"] == '{"tier": "gold"}'

    again = marketer.post("/messages/campaigns?lang=en", form(action="send", text_en="again"),
                          csrf_from="/messages/campaigns")
    assert again.status_code == 422 and "exists already" in again.text
    texting.jobs_run(capsys)
    assert len(texting.provider.sent) == 3


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_scheduled_send_is_queued_by_the_jobs_run_after_its_time_and_skips_who_opted_out_meanwhile(
        texting, server_clock, capsys):
    real_now = datetime.now(TEHRAN)
    server_clock.advance(timedelta(hours=-3))  # the console composes three hours "earlier" than the jobs run
    marketer = texting.session("marketer")
    due = (real_now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    later = (real_now + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    for name, at in (("due", due), ("later", later)):
        saved = marketer.post("/messages/campaigns", form(name=name, when="at", send_at=at, action="send"),
                              csrf_from="/messages/campaigns")
        assert saved.status_code == 302, saved.text
    engine = engine_for(texting.store.db)
    contacts.import_enrolments(engine)
    with engine.begin() as conn:
        assert contacts.opt_out(conn, "+989120000002", server_clock(), via="sms") == "m-ar"
    figures = texting.jobs_run(capsys)
    assert figures["campaign_queued"] == "2" and figures["sent"] == "2"
    assert sorted(s.receptor for s in texting.provider.sent) == ["989120000001", "989120000003"]
    listing = marketer.get("/messages/campaigns?lang=en").text
    assert 'data-campaign="due" data-state="queued"' in listing
    assert 'data-campaign="later" data-state="scheduled"' in listing
    assert texting.jobs_run(capsys)["campaign_queued"] == "0"


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
@pytest.mark.parametrize("texting", ['["22:00", "08:00"]'], indirect=True)
def test_the_count_says_how_many_a_send_at_night_holds_until_the_quiet_hours_end(texting):
    marketer = texting.session("marketer")
    night = (datetime.now(TEHRAN) + timedelta(days=1)).replace(hour=23, minute=0).strftime("%Y-%m-%dT%H:%M")
    page = marketer.post("/messages/campaigns?lang=en", form(when="at", send_at=night, action="preview"),
                         csrf_from="/messages/campaigns")
    assert "quiet hours end: 3" in page.text
    noon = night.replace("T23:", "T12:")
    page = marketer.post("/messages/campaigns?lang=en", form(when="at", send_at=noon, action="preview"),
                         csrf_from="/messages/campaigns")
    assert "quiet hours end: 0" in page.text


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_phone_list_reaches_the_listed_members_and_names_the_numbers_of_no_member(texting):
    page = texting.session("marketer").post(
        "/messages/campaigns?lang=en",
        form(audience="phones", list="۰۹۱۲۰۰۰۰۰۰۳\n+989120000005, 09129999999", action="preview"),
        csrf_from="/messages/campaigns")
    assert 'data-recipients="2"' in page.text and "+989129999999" in page.text


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("values", "words"), [
    ({"text_en": "hi {coupon}"}, "{coupon}"),
    ({"audience": "phones", "list": "02188776655"}, "not mobile numbers: 02188776655"),
    ({"when": "at", "send_at": "2020-01-01T10:00"}, "that time has passed"),
    ({"when": "at", "send_at": "tomorrow"}, "give the date and time"),
    ({"name": ""}, "needs a name"),
    ({"text_fa": "", "text_ar": "", "text_en": ""}, "give the text"),
])
def test_a_campaign_written_wrong_is_refused_with_the_reason_and_nothing_is_saved_or_sent(texting, values, words,
                                                                                          capsys):
    marketer = texting.session("marketer")
    refused = marketer.post("/messages/campaigns?lang=en", form(action="send", **values),
                            csrf_from="/messages/campaigns")
    assert refused.status_code == 422 and words in refused.text.replace("&#39;", "'")
    assert "No text campaigns yet." in refused.text
    assert texting.jobs_run(capsys)["sent"] == "0" and texting.provider.sent == []


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_branch_manager_may_not_send_and_a_form_without_its_csrf_token_is_refused(texting, capsys):
    manager = texting.session("tehran-manager")
    assert manager.get("/messages/campaigns").status_code == 403
    assert manager.post("/messages/campaigns", form(action="send"), csrf_from="/").status_code == 403
    marketer = texting.session("marketer")
    forged = marketer.http.post(texting.url + "/messages/campaigns", data=form(action="send"), timeout=10,
                                allow_redirects=False)
    assert forged.status_code == 400
    assert "No text campaigns yet." in marketer.get("/messages/campaigns?lang=en").text
    assert texting.jobs_run(capsys)["sent"] == "0"


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_console_campaign_names_the_tier_in_each_language_and_carries_its_coupon_through_the_jobs_run(
        texting, capsys):
    marketer = texting.session("marketer")
    sent = marketer.post("/messages/campaigns?lang=en", form(
        action="send", coupon="GOLD-25", text_fa="{first_name}، {tier} هستید: {coupon}",
        text_ar="{first_name}، أنت {tier}: {coupon}", text_en="{first_name}, you are {tier}: {coupon}"),
        csrf_from="/messages/campaigns")
    assert sent.status_code == 302
    assert texting.jobs_run(capsys)["sent"] == "3"
    assert sorted((s.receptor, s.message) for s in texting.provider.sent) == [
        ("989120000001", "Ali، طلایی هستید: GOLD-25"),
        ("989120000002", "Huda، أنت ذهبي: GOLD-25"),
        ("989120000003", "Sam, you are Gold: GOLD-25")]
