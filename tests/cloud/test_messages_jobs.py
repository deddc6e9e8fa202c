"""`kiosk-cloud jobs run` end to end, the greetings it queues, and the provider's callbacks.

A real cloud store (a SQLite file, then PostgreSQL) fed by kiosk enrolment events, a loopback Kavenegar, the callback
endpoints served on a loopback port.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import jdatetime
import pytest
import requests
import sqlalchemy as sa

from cloud import cli
from cloud.app import create_app
from cloud.messages import tables as t
from cloud.messages.automations import run_automations
from cloud.messages.cli import engine_for, hooks_for
from cloud.messages.contacts import import_enrolments
from cloud.messages.queue import MessageQueue
from cloud.messages.settings import MessageSettingsError, settings_from
from appliance.web_server import WebServer
from cloud.store import CloudStore
from kiosk import protocol
from kiosk.clock import utcnow
from tests.cloud.messages_kit import StepClock, jobs_run, write_jobs_setup
from tests.support.sms_providers import FakeProvider

HOOK_SECRET = "hook-" + "s" * 32


@dataclass
class Chain:
    store: CloudStore
    db: str  # a SQLite file or a PostgreSQL URL (tests/cloud/conftest.py runs each test on both)
    config: Path
    secrets: Path
    provider: FakeProvider

    def enrol(self, phone: str, *, birthday: str | None = None, consent: bool = True, language: str = "fa",
              name: str = "Sara Ahmadi", at: datetime | None = None) -> str:
        member_id = str(uuid.uuid4())
        extra = {"birthday": birthday, "language": language,
                 "consent": {"at": protocol.format_time(at or utcnow()), "text_version": "2026-01"} if consent else None}
        event = protocol.make_event("member_enrolled", member_id, at or utcnow(), phone_e164=phone, name=name, **extra)
        device = self.store.devices()[0]
        assert self.store.ingest(device, [event])[0]["status"] == protocol.ACCEPTED
        return member_id

    def jobs_run(self, capsys) -> dict[str, str]:
        return jobs_run(self.db, self.config, self.secrets, capsys)


@pytest.fixture
def chain(tmp_path: Path, database: str) -> Iterator[Chain]:
    with FakeProvider("kavenegar") as provider:
        db = database
        store = CloudStore(db)
        store.register(store.create_token("tehran-01"))
        config, secrets = write_jobs_setup(tmp_path, provider.url, gateway='sender = "10004346"\n',
                                           secrets=f'[webhook]\nsecret = "{HOOK_SECRET}"\n')
        yield Chain(store, db, config, secrets, provider)
        store.close()


def today_tehran() -> date:
    return utcnow().astimezone(settings_from({}).zone).date()


def jalali_birthday_today(years_ago: int = 30) -> str:
    """A Gregorian birth date whose Jalali month/day is today's (the chain's default calendar is Jalali)."""
    j = jdatetime.date.fromgregorian(date=today_tehran())
    day = min(j.day, 29) if j.month == 12 else j.day
    return jdatetime.date(j.year - years_ago, j.month, day).togregorian().isoformat()


def test_the_birthday_job_run_twice_in_one_day_sends_once(chain, capsys):
    chain.enrol("+989121234567", birthday=jalali_birthday_today())
    first = chain.jobs_run(capsys)
    second = chain.jobs_run(capsys)
    assert (first["birthday_queued"], first["sent"]) == ("1", "1")
    assert (second["birthday_queued"], second["sent"]) == ("0", "0")
    assert len(chain.provider.sent) == 1
    assert chain.provider.sent[0].message.startswith("Sara عزیز، تولدت مبارک")
    assert chain.provider.sent[0].receptor == "989121234567"


def test_a_member_without_marketing_consent_gets_no_birthday_greeting(chain, capsys):
    chain.enrol("+989121234567", birthday=jalali_birthday_today(), consent=False)
    assert chain.jobs_run(capsys)["birthday_queued"] == "0"
    assert chain.provider.sent == []


def test_a_bad_settings_file_is_refused_with_the_key_to_fix_and_nothing_is_sent(chain, capsys):
    chain.enrol("+989121234567", birthday=jalali_birthday_today())
    chain.config.write_text('[texts.birthday]\nfa = "تولدت مبارک {coupon}"\n', encoding="utf-8")
    assert cli.main(["--db", str(chain.db), "jobs", "run", "--messages-config", str(chain.config)]) == 1
    assert "texts.birthday.fa" in capsys.readouterr().err and chain.provider.sent == []


# -- automations with a moved clock ----------------------------------------------------


def automations_at(chain: Chain, at: datetime, **raw: object) -> tuple[MessageQueue, object]:
    engine = engine_for(chain.store.db)
    import_enrolments(engine)
    settings = settings_from(raw)
    clock = StepClock(at)
    queue = MessageQueue(engine, settings, clock=clock, sleep=clock.sleep)
    return queue, run_automations(engine, queue, settings, at)


def texts(chain: Chain) -> list[str]:
    with engine_for(chain.store.db).connect() as conn:
        return list(conn.execute(sa.select(t.messages.c.text).order_by(t.messages.c.message_id)).scalars())


def test_jalali_and_gregorian_birthdays_are_greeted_on_their_own_days(chain):
    # 2000-03-01 is 11 Esfand 1378; in 2027, 11 Esfand 1405 is 2027-03-02, a day after the Gregorian birthday.
    assert jdatetime.date(1405, 12, 11).togregorian() == date(2027, 3, 2)
    chain.enrol("+989121234567", birthday="2000-03-01", name="Jalali")
    gregorian = chain.enrol("+989121234568", birthday="2000-03-01", name="Gregorian")
    engine = engine_for(chain.store.db)
    import_enrolments(engine)
    with engine.begin() as conn:
        conn.execute(sa.update(t.contacts).where(t.contacts.c.member_id == gregorian).values(calendar="gregorian"))
    morning = timedelta(hours=6)
    _, on_first = automations_at(chain, datetime(2027, 3, 1, tzinfo=timezone.utc) + morning)
    _, on_second = automations_at(chain, datetime(2027, 3, 2, tzinfo=timezone.utc) + morning)
    assert (on_first.birthday, on_second.birthday) == (1, 1)
    assert [text.split(" ")[0] for text in texts(chain)] == ["Gregorian", "Jalali"]


def test_nowruz_greets_every_consenting_member_once_in_their_language(chain):
    chain.enrol("+989121234567", name="Sara", language="fa")
    chain.enrol("+989121234568", name="John", language="en")
    chain.enrol("+989121234569", name="Nope", consent=False)
    nowruz = datetime.combine(jdatetime.date(1406, 1, 1).togregorian(), datetime.min.time(), timezone.utc)
    _, report = automations_at(chain, nowruz + timedelta(hours=6))
    _, again = automations_at(chain, nowruz + timedelta(hours=9))
    assert (report.occasions, again.occasions) == (2, 0)
    assert sorted(texts(chain)) == ["Happy Nowruz, John! Club", "Sara عزیز، نوروزتان پیروز! Club"]


def test_an_occasion_from_the_chains_calendar_replaces_the_presets(chain):
    chain.enrol("+989121234567", name="Sara")
    at = datetime.combine(jdatetime.date(1405, 12, 8).togregorian(), datetime.min.time(), timezone.utc)
    _, report = automations_at(chain, at + timedelta(hours=6), occasions=[
        {"name": "womens_day", "jalali": "12-08", "fa": "روز زن مبارک {first_name}"}])
    assert report.occasions == 1 and texts(chain) == ["روز زن مبارک Sara"]


def test_a_members_anniversary_is_greeted_from_the_second_year_with_points_in_their_digits(chain):
    member = chain.enrol("+989121234567", name="Sara", at=datetime(2025, 7, 1, 9, tzinfo=timezone.utc))
    chain.store.ingest(chain.store.devices()[0], [
        protocol.make_event("earn", member, datetime(2025, 7, 1, 9, tzinfo=timezone.utc), points=120, amount=1_200_000)])
    _, same_year = automations_at(chain, datetime(2025, 7, 1, 10, tzinfo=timezone.utc))
    _, next_year = automations_at(chain, datetime(2026, 7, 1, 10, tzinfo=timezone.utc),
                                  texts={"anniversary": {"fa": "{first_name}، {points} امتیاز دارید"}},
                                  messages={"lapsed_days": 0})
    assert (same_year.anniversary, next_year.anniversary) == (0, 1)
    assert texts(chain) == ["Sara، ۱۲۰ امتیاز دارید"]


def test_a_lapsed_member_is_missed_once_per_lapse_and_a_new_visit_rearms_it(chain):
    member = chain.enrol("+989121234567", name="Sara", at=datetime(2025, 1, 1, 9, tzinfo=timezone.utc))
    device = chain.store.devices()[0]
    chain.store.ingest(device, [protocol.make_event("earn", member, datetime(2025, 1, 2, 9, tzinfo=timezone.utc),
                                                    points=50, amount=500_000)])
    _, at_89_days = automations_at(chain, datetime(2025, 4, 1, 9, tzinfo=timezone.utc))
    _, at_91_days = automations_at(chain, datetime(2025, 4, 3, 9, tzinfo=timezone.utc))
    _, next_day = automations_at(chain, datetime(2025, 4, 4, 9, tzinfo=timezone.utc))
    chain.store.ingest(device, [protocol.make_event("earn", member, datetime(2025, 5, 1, 9, tzinfo=timezone.utc),
                                                    points=50, amount=500_000)])
    _, second_lapse = automations_at(chain, datetime(2025, 8, 1, 9, tzinfo=timezone.utc))
    _, off = automations_at(chain, datetime(2025, 8, 2, 9, tzinfo=timezone.utc), messages={"lapsed_days": 0})
    assert [r.lapsed for r in (at_89_days, at_91_days, next_day, second_lapse, off)] == [0, 1, 0, 1, 0]
    assert texts(chain)[0] == "Sara عزیز، دلمان برایت تنگ شده! ۵۰ امتیاز در Club منتظر توست."


# -- the provider's callbacks ------------------------------------------------------------


@pytest.fixture
def hooks(chain: Chain) -> Iterator[str]:
    app = create_app(chain.db)
    app.register_blueprint(hooks_for(engine_for(chain.store.db), chain.config, chain.secrets, utcnow))
    with WebServer(app) as server:
        yield f"{server.url}/v1/messages/hooks/{HOOK_SECRET}"
    app.extensions["cloud_store"].close()


def test_stop_withdraws_consent_end_to_end_with_the_time_recorded_and_a_confirmation(chain, hooks, capsys):
    member = chain.enrol("+989121234567", birthday=jalali_birthday_today())
    import_enrolments(engine_for(chain.store.db))
    answer = requests.post(f"{hooks}/inbound", data={"messageid": "in-1", "from": "09121234567", "to": "10004346",
                                                     "message": "STOP"}, timeout=5)
    assert answer.json() == {"outcome": "opted_out"}
    result = chain.jobs_run(capsys)
    assert (result["birthday_queued"], result["sent"]) == ("0", "1")
    assert [s.message for s in chain.provider.sent] == ["لغو شد. دیگر پیام تبلیغاتی از Kafe دریافت نمی‌کنید."]
    with engine_for(chain.store.db).connect() as conn:
        log = conn.execute(sa.select(t.consent_log)).one()
    assert (log.member_id, log.action, log.via) == (member, "opted_out", "sms") and log.at.startswith("20")


def test_a_join_keyword_creates_a_member_that_the_kiosk_enrolment_then_completes(chain, hooks, capsys):
    answer = requests.post(f"{hooks}/inbound", data={"messageid": "in-2", "from": "989127654321", "message": "عضویت"},
                           timeout=5)
    assert answer.json() == {"outcome": "joined"}
    assert chain.jobs_run(capsys)["sent"] == "1"
    assert chain.provider.sent[0].message.startswith("به باشگاه Kafe خوش آمدید")
    member = chain.enrol("+989127654321", name="Reza Karimi", consent=False, birthday="1990-01-01")
    chain.jobs_run(capsys)
    with engine_for(chain.store.db).connect() as conn:
        contact = conn.execute(sa.select(t.contacts)).one()
        welcome_owner = conn.execute(sa.select(t.messages.c.member_id)).scalar()
    assert (contact.member_id, contact.first_name, contact.source, contact.marketing_consent) == (
        member, "Reza", "kiosk", True)
    assert welcome_owner == member


def test_a_provider_repeating_its_inbound_callback_changes_nothing_twice(chain, hooks):
    body = {"messageid": "in-3", "from": "09127654321", "message": "join"}
    assert requests.post(f"{hooks}/inbound", data=body, timeout=5).json() == {"outcome": "joined"}
    assert requests.post(f"{hooks}/inbound", data=body, timeout=5).json() == {"outcome": "duplicate"}


def test_a_forged_callback_with_the_wrong_secret_is_refused_and_changes_nothing(chain, hooks):
    chain.enrol("+989121234567")
    import_enrolments(engine_for(chain.store.db))
    forged = hooks.replace(HOOK_SECRET, "guessed")
    answer = requests.post(f"{forged}/inbound", data={"messageid": "x", "from": "09121234567", "message": "لغو"},
                           timeout=5)
    assert answer.status_code == 404
    with engine_for(chain.store.db).connect() as conn:
        assert conn.execute(sa.select(t.contacts.c.marketing_consent)).scalar() is True


def test_an_inbound_text_from_a_landline_or_garbage_is_refused_with_a_reason(chain, hooks):
    for sender in ("02188776655", "not-a-number"):
        answer = requests.post(f"{hooks}/inbound", data={"messageid": sender, "from": sender, "message": "join"},
                               timeout=5)
        assert answer.status_code == 400 and "not a" in answer.json()["message"]


def test_a_delivery_report_marks_the_message_delivered(chain, hooks, capsys):
    chain.enrol("+989121234567", birthday=jalali_birthday_today())
    chain.jobs_run(capsys)
    provider_id = chain.provider.sent[0].provider_id
    assert requests.post(f"{hooks}/delivery", data={"messageid": provider_id, "status": "4"},
                         timeout=5).json() == {"outcome": "pending"}
    assert requests.post(f"{hooks}/delivery", data={"messageid": provider_id, "status": "10"},
                         timeout=5).json() == {"outcome": "delivered"}
    assert cli.main(["--db", str(chain.db), "messages", "status"]) == 0
    assert "delivered=1" in capsys.readouterr().out


# -- a coupon issued at a kiosk ---------------------------------------------------------


def test_a_coupon_issued_at_a_kiosk_is_texted_with_its_code_once(chain, capsys, tmp_path):
    from kiosk.store import Store

    with Store(tmp_path / "kiosk.db", device_id="kiosk-1") as kiosk:
        member = kiosk.add_member("+989121234567", "Sara", "Ahmadi", consent_version="2026-01")
        kiosk.record(member.id, "bonus", 500, reason="enrolment bonus")
        kiosk.upsert_reward("coffee", "Free coffee", 300)
        kiosk.redeem_reward(member.id, "coffee", "CF-7Q2X")
        # What the sync worker sends: the outbox's payloads as wire events.
        events = [protocol.event_from_outbox(item.payload) for item in kiosk.outbox_batch(100, 1 << 20, utcnow())]
    assert {e["kind"] for e in events} >= {"member_enrolled", "redeem"}
    device = chain.store.devices()[0]
    assert all(r["status"] == protocol.ACCEPTED for r in chain.store.ingest(device, events))
    first, second = chain.jobs_run(capsys), chain.jobs_run(capsys)
    assert (first["coupon_queued"], second["coupon_queued"]) == ("1", "0")
    assert [s.message for s in chain.provider.sent] == ["Sara عزیز، کد کوپن شما در Kafe: CF-7Q2X"]


def test_a_coupon_text_with_a_variable_it_cannot_have_is_refused_when_the_settings_are_loaded():
    with pytest.raises(MessageSettingsError, match="texts.coupon.fa"):
        settings_from({"texts": {"coupon": {"fa": "کوپن {coupon} برای سطح {tier}"}}})
    assert "{coupon}" in settings_from({"texts": {"coupon": {"en": "Code {coupon}"}}}).text("coupon", "en")


def consent_of(chain: Chain, member_id: str) -> bool:
    with engine_for(chain.store.db).connect() as conn:
        return conn.execute(sa.select(t.contacts.c.marketing_consent)
                            .where(t.contacts.c.member_id == member_id)).scalar()


@pytest.mark.parametrize("contact_built_first", [True, False], ids=["contact-then-withdrawal", "withdrawal-first"])
def test_consent_withdrawn_at_a_kiosk_stops_the_members_texts_whenever_the_contact_is_built(chain, contact_built_first):
    member_id = chain.enrol("+989125550177")
    engine = engine_for(chain.store.db)
    if contact_built_first:
        import_enrolments(engine)
        assert consent_of(chain, member_id) is True
    withdrawal = protocol.make_event("consent_withdrawn", member_id, utcnow() + timedelta(seconds=1), staff_id="pin")
    assert chain.store.ingest(chain.store.devices()[0], [withdrawal])[0]["status"] == protocol.ACCEPTED
    import_enrolments(engine)
    assert consent_of(chain, member_id) is False
    with engine.connect() as conn:
        logged = conn.execute(sa.select(t.consent_log.c.action, t.consent_log.c.via)
                              .where(t.consent_log.c.member_id == member_id)).all()
    assert [tuple(r) for r in logged] == [("opted_out", "kiosk")]
    import_enrolments(engine)  # applied once, not at every run
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.consent_log)
                            .where(t.consent_log.c.member_id == member_id)).scalar() == 1
