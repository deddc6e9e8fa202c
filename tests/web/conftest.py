"""A kiosk shop for the browser tests: members, rewards, staff PIN and card, POS token and branch key."""
from __future__ import annotations

import re
import secrets as pysecrets
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from drivers import rdm6300
from drivers.events import CardRead
from kiosk.config import load, load_secrets, write_secrets
from kiosk.identity import card_ref
from appliance.runtime import Runtime
from kiosk.flows import KioskFlows, build_flows
from kiosk.service import KioskService
from kiosk.store import Store
from web import create_app
from kiosk.flows.staff import hash_pin
from tests.conftest import ROOT, socket_connected, wait_until, write_config

STAFF_PIN = "4826"
POS_TOKEN = "till-token-" + "x" * 24
BRANCH_KEY = bytes(range(32))
CHAIN_SECRET = "ab" * 32
SARA, ALI, LOST, STAFF_CARD = "0A1B2C3D4E", "1122334455", "99AABBCCDD", "5A5A5A5A5A"
# Hashing once per session: scrypt is deliberately slow.
_PIN_HASH = hash_pin(STAFF_PIN)


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogues() -> None:
    """`make` compiles the catalogues; a bare pytest run compiles them here so the tests see translations."""
    for po in (ROOT / "web" / "translations").glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with po.open("rb") as fh:
                catalog = read_po(fh)
            with mo.open("wb") as fh:
                write_mo(fh, catalog)


def shop_config(directory: Path, *, idle_timeout_s: int = 20, language: str = "fa", extra: str = "") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    secrets_file = directory / "secrets.toml"
    if not secrets_file.exists():
        write_secrets(secrets_file, {"chain_secret": CHAIN_SECRET, "staff_pin_hash": _PIN_HASH,
                                     "pos_token": POS_TOKEN, "branch_key": BRANCH_KEY.hex()})
    staff_ref = card_ref(bytes.fromhex(CHAIN_SECRET), "rfid125", STAFF_CARD)
    return write_config(directory, extra=f"""
[staff]
timeout_s = 60
cards = {{ maryam = "{staff_ref}" }}

[pos]
pending_timeout_s = 60

[branding]
name = "Golestan"
{extra}
""", idle_timeout_s=idle_timeout_s, language=language)


@dataclass
class Shop:
    rt: Runtime
    sara: str
    ali: str

    @property
    def url(self) -> str:
        return self.rt.url

    def tap(self, uid: str) -> None:
        """A real RDM6300 frame on the emulator's pty; the driver debounces, so tests tap distinct cards."""
        self.rt.emulators["counter"].write(rdm6300.encode_frame(uid))


def open_shop(directory: Path, **kwargs) -> Runtime:
    settings = load(shop_config(directory, **kwargs))
    return Runtime(settings, load_secrets(settings.device.secrets_file), port=0).start()


def seed(rt: Runtime) -> Shop:
    service = rt.service
    sara = service.enroll("+989121234567", "Sara", "Ahmadi")
    service.bind(sara.id, "rfid125", SARA)
    for amount in (12_000_000, 3_000_000, 2_000_000, 1_000_000, 500_000):
        service.earn(sara.id, amount)
    ali = service.enroll("+989353334455", "علی", "رضایی")
    service.bind(ali.id, "rfid125", ALI)
    service.bind(ali.id, "rfid125", LOST)
    service.store.set_card_state(service.card_ref_for("rfid125", LOST), "lost")
    service.store.upsert_reward("coffee", "Free coffee", 200)
    service.store.upsert_reward("tote", "Club tote bag", 5000)
    wait_until(lambda: service.reader_status.get("counter"), what="the emulated reader")
    return Shop(rt, sara.id, ali.id)


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Iterator[Shop]:
    rt = open_shop(tmp_path_factory.mktemp("shop"))
    try:
        yield seed(rt)
    finally:
        rt.close()


def ready(page, url: str, lang: str = "fa") -> None:
    page.goto(url + f"?lang={lang}")
    socket_connected(page)


def tap_unique(shop: Shop, page) -> str:
    """A never-seen card id, so the reader's debounce never swallows a test's tap."""
    uid = "C0" + pysecrets.token_hex(4).upper()
    shop.tap(uid)
    return uid


@dataclass
class Counter:
    """The kiosk's core and its web app with no server, no reader and no browser: Flask's test client."""

    service: "KioskService"
    flows: "KioskFlows"
    app: object
    client: object
    sara: str
    ali: str

    def csrf(self) -> str:
        page = self.client.get("/?lang=en").get_data(as_text=True)
        return re.search(r'data-csrf="([^"]+)"', page).group(1)

    def post(self, path: str, body: dict | None = None, *, csrf: bool = True, **headers: str):
        if csrf:
            headers["X-CSRFToken"] = self.csrf()
        return self.client.post(path, json=body or {}, headers=headers)

    def tap(self, uid: str) -> None:
        """A read as the reader would hand it, on the caller's thread (the service's loop is not needed)."""
        self.service.handle(CardRead(uid, "rfid125", "counter"))


@contextmanager
def open_counter(directory: Path) -> Iterator[Counter]:
    """The counter kit with its config, secrets and data (``directory``/data) in ``directory``."""
    settings = load(shop_config(directory, language="en"))
    with Store(settings.database_path, device_id=settings.device.id) as store:
        service = KioskService(store, settings, load_secrets(settings.device.secrets_file))
        flows = build_flows(service)
        app, _socketio = create_app(flows, settings)
        app.config["TESTING"] = True
        sara = service.enroll("+989121234567", "Sara", "Ahmadi")
        service.bind(sara.id, "rfid125", SARA)
        service.earn(sara.id, 12_000_000)
        ali = service.enroll("+989353334455", "علی", "رضایی")
        service.bind(ali.id, "rfid125", ALI)
        service.store.upsert_reward("coffee", "Free coffee", 200)
        try:
            yield Counter(service, flows, app, app.test_client(), sara.id, ali.id)
        finally:
            flows.close()


@pytest.fixture
def counter(tmp_path) -> Iterator[Counter]:
    with open_counter(tmp_path / "counter") as kit:
        yield kit
