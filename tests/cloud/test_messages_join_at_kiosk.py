"""Join by SMS, then enrol at a kiosk: the kiosk asks the real cloud about the phone and completes the record
the keyword made, instead of making a second member. A real cloud (SQLite, then PostgreSQL) with its provider
hooks and a kiosk (store, service, enrolment flow, sync worker, chain look-up) on loopback."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from cloud.app import create_app
from cloud.db.schema import members as cloud_members
from cloud.messages import tables as t
from cloud.messages.cli import engine_for, hooks_for
from cloud.messages.contacts import import_enrolments
from appliance.web_server import WebServer
from kiosk.config import load, load_secrets
from kiosk.flows.claims import TapClaims
from kiosk.flows.enrollment import Enrollment
from kiosk.service import KioskService
from kiosk.store import Store
from kiosk.sync.client import CloudClient
from kiosk.sync.lookup import ChainCardLookup
from kiosk.sync.worker import SyncWorker
from tests.conftest import write_config

from .conftest import FAST_BACKOFF, MovableClock

SECRET = "hook-" + "j" * 32
PHONE = "+989127654321"


@dataclass
class Shop:
    hooks: str
    engine: sa.Engine
    store: Store
    service: KioskService
    enrollment: Enrollment
    worker: SyncWorker


@pytest.fixture
def shop(database: str, tmp_path: Path, server_clock: MovableClock) -> Iterator[Shop]:
    settings_file = tmp_path / "messages.toml"
    settings_file.write_text('[messages]\nquiet_hours = ["00:00", "00:00"]\n', encoding="utf-8")
    secrets_file = tmp_path / "cloud-secrets.toml"
    secrets_file.write_text(f'[webhook]\nsecret = "{SECRET}"\n')
    os.chmod(secrets_file, 0o600)
    app = create_app(database, clock=server_clock)
    cloud_store = app.extensions["cloud_store"]
    engine = engine_for(cloud_store.db)
    app.register_blueprint(hooks_for(engine, settings_file, secrets_file, server_clock))
    with WebServer(app) as server:
        settings = load(write_config(tmp_path / "kiosk", device_id="kiosk-1"))
        registered = CloudClient(server.url, clock=server_clock)
        registered.register(cloud_store.create_token("tehran-01"), name="kiosk-1")
        client = CloudClient(server.url, device_id=registered.device_id, device_key=registered.device_key,
                             clock=server_clock)
        registered.close()
        store = Store(tmp_path / "kiosk" / "kiosk.db", device_id="kiosk-1", clock=server_clock)
        service = KioskService(store, settings, load_secrets(settings.device.secrets_file), clock=server_clock)
        lookup = ChainCardLookup(client.clone())
        service.chain_lookup, service.chain_join_lookup = lookup, lookup.joined_by_sms  # as appliance.runtime
        service.link = "online"
        worker = SyncWorker(store, client, clock=server_clock, rng=random.Random(1), backoff=FAST_BACKOFF)
        yield Shop(f"{server.url}/v1/messages/hooks/{SECRET}", engine, store, service,
                   Enrollment(service, TapClaims(service)), worker)
        lookup.close()
        worker.close()
        client.close()
        store.close()
    cloud_store.close()


def contacts(shop: Shop) -> list[sa.Row]:
    with shop.engine.connect() as conn:
        return conn.execute(sa.select(t.contacts)).all()


def test_a_phone_that_joined_by_sms_is_completed_at_its_first_kiosk_enrolment_not_duplicated(shop):
    joined = requests.post(f"{shop.hooks}/inbound", data={"messageid": "in-1", "from": "09127654321",
                                                          "message": "عضویت"}, timeout=5)
    assert joined.json() == {"outcome": "joined"}
    sms_id = contacts(shop)[0].member_id

    enrolled = shop.enrollment.enroll("0912 765 4321", "Reza", "Karimi", consent=False)
    assert enrolled.member.id == sms_id  # the kiosk took the chain's record, not a new id
    assert not shop.worker.drain().failed and shop.store.outbox_depth() == 0
    import_enrolments(shop.engine)

    [contact] = contacts(shop)
    assert (contact.member_id, contact.first_name, contact.source, contact.marketing_consent) == (
        sms_id, "Reza", "kiosk", True)  # texting the keyword was consent; enrolling without the tick is none
    with shop.engine.connect() as conn:
        assert conn.execute(sa.select(cloud_members.c.member_id, cloud_members.c.name)
                            .where(cloud_members.c.phone_e164 == PHONE)).all() == [(sms_id, "Reza Karimi")]


def test_a_phone_that_never_texted_the_keyword_enrols_as_a_new_member(shop):
    enrolled = shop.enrollment.enroll("09127654321", "Reza", consent=True)
    assert not enrolled.member.id.startswith("sms-")
    assert not shop.worker.drain().failed and shop.store.outbox_depth() == 0
    import_enrolments(shop.engine)
    assert [(c.member_id, c.source) for c in contacts(shop)] == [(enrolled.member.id, "kiosk")]


def test_the_cloud_refuses_a_phone_look_up_that_is_not_an_e164_number(shop):
    with pytest.raises(Exception, match="phone must be an E.164"):
        shop.worker.client.lookup(phone="0912 765")
