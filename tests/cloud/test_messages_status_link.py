"""Status links: a greeting carries a short link to the member's read-only page, which expires."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from cloud.app import create_app
from cloud.messages import tables as t
from cloud.messages.automations import run_automations
from cloud.messages.cli import engine_for
from cloud.messages.contacts import import_enrolments
from cloud.messages.queue import MessageQueue
from cloud.messages.settings import MessageSettingsError, settings_from
from cloud.messages.status_page import status_blueprint
from appliance.web_server import WebServer
from cloud.store import CloudStore
from kiosk import protocol
from tests.cloud.messages_kit import StepClock

BIRTHDAY_MORNING = datetime(2027, 3, 2, 6, tzinfo=timezone.utc)  # 11 Esfand 1405, Tehran


def test_a_text_with_a_link_is_refused_until_the_status_address_is_set():
    with pytest.raises(MessageSettingsError, match="status_url"):
        settings_from({"texts": {"birthday": {"fa": "تولدت مبارک {link}"}}})


def test_a_greeting_link_opens_the_members_page_in_their_digits_until_it_expires(tmp_path: Path):
    db = tmp_path / "cloud.sqlite"
    store = CloudStore(db)
    device = store.device(store.register(store.create_token("tehran-01")).device_id)
    member = str(uuid.uuid4())
    at = BIRTHDAY_MORNING - timedelta(days=400)
    store.ingest(device, [
        protocol.make_event("member_enrolled", member, at, phone_e164="+989121234567", name="Sara", birthday="2000-03-01",
                            language="fa", consent={"at": protocol.format_time(at), "text_version": "1"}),
        protocol.make_event("earn", member, at, points=1250, amount=12_500_000),
    ])
    engine = engine_for(store.db)
    import_enrolments(engine)
    clock = StepClock(BIRTHDAY_MORNING)
    with WebServer(create_app(db)) as probe:
        base = f"{probe.url}/m/"
    settings = settings_from({"messages": {"status_url": base, "link_days": 7},
                              "texts": {"birthday": {"fa": "تولدت مبارک {first_name}: {link}"}}})
    queue = MessageQueue(engine, settings, clock=clock, sleep=clock.sleep)
    assert run_automations(engine, queue, settings, clock()).birthday == 1
    with engine.connect() as conn:
        text = conn.execute(sa.select(t.messages.c.text)).scalar()
    link = re.search(r"(http://\S+/m/)(\S+)$", text)
    assert link and len(link.group(2)) == 12

    app = create_app(db)
    app.register_blueprint(status_blueprint(engine, settings, clock))
    with WebServer(app) as server:
        url = f"{server.url}/m/{link.group(2)}"
        page = requests.get(url, timeout=5)
        assert page.status_code == 200 and "Sara" in page.text and "۱,۲۵۰" in page.text and 'dir="rtl"' in page.text
        assert "default-src 'none'" in page.headers["Content-Security-Policy"]
        assert page.headers["Cache-Control"] == "no-store" and "http" not in page.text.split("<body>")[1]
        guessed = requests.get(f"{server.url}/m/{'A' * 12}", timeout=5)
        assert guessed.status_code == 404 and "Sara" not in guessed.text and "۱,۲۵۰" not in guessed.text
        clock.advance(timedelta(days=7, seconds=1))
        expired = requests.get(url, timeout=5)
        assert expired.status_code == 404 and "Sara" not in expired.text
