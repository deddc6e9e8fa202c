"""Fixtures for the cloud tests: a real reference cloud on a loopback port, on real SQLite and PostgreSQL.

Every test that uses `cloud` (or `database`) runs twice, once per engine; the PostgreSQL server is
started once per session (and xdist worker; tests/support/postgres.py) and each test gets an empty database of its own.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from appliance.runtime import Runtime
from cloud.app import create_app
from appliance.web_server import WebServer
from cloud.store import CloudStore
from cloud.users import UserStore
from kiosk import protocol
from tests.support.postgres import PostgresServer, pg_bindir
from tests.support.faultproxy import FaultProxy
from kiosk.config import load, load_secrets, write_secrets
from kiosk.store import Store
from kiosk.sync.files import Credentials, save_credentials
from kiosk.sync.setup import credentials_path
from kiosk.sync.worker import SyncWorker
from kiosk.sync.client import CloudClient
from drivers.backoff import Backoff
from tests.conftest import write_config


class MovableClock:
    """Real UTC time plus an offset tests can move; thread-safe because waitress threads read it."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return datetime.now(timezone.utc) + self._offset

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._offset += delta


@dataclass
class RunningCloud:
    url: str
    database: str  # a SQLite file path or a postgresql:// URL
    store: CloudStore
    clock: MovableClock

    def client(self, **kwargs: object) -> CloudClient:
        kwargs.setdefault("clock", self.clock)
        return CloudClient(self.url, **kwargs)  # type: ignore[arg-type]

    def registered_client(self, branch: str = "tehran-01", **kwargs: object) -> CloudClient:
        client = self.client(**kwargs)
        client.register(self.store.create_token(branch), name=f"kiosk at {branch}")
        return client

    def start_kiosk(self, directory: Path, secrets: dict[str, str], *, branch: str = "tehran-01",
                    config: dict | None = None, extra: str = "", **settings: object) -> tuple[Runtime, Path]:
        """A real kiosk (emulated reader, web server, sync thread) registered at `branch` and syncing every 0.1 s,
        on this cloud's clock; `config` is set as the branch's cloud config first. Returns it and its kiosk.toml."""
        directory.mkdir()
        write_secrets(directory / "secrets.toml", secrets)
        path = write_config(directory, f'[cloud]\nurl = "{self.url}"\nsync_interval_s = 0.1\n{extra}', **settings)
        loaded = load(path)
        if config is not None:
            self.store.set_config(branch, config)
        with self.registered_client(branch) as registered:
            save_credentials(credentials_path(loaded),
                             Credentials(self.url, registered.device_id, registered.device_key, branch))
        return Runtime(loaded, load_secrets(loaded.device.secrets_file), port=0, clock=self.clock).start(), path


@pytest.fixture
def server_clock() -> MovableClock:
    return MovableClock()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bindir = pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) are not installed: apt-get install postgresql "
                    "(make test installs it as root)")
    server = PostgresServer(bindir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty cloud database on each engine in turn: a SQLite file path or a PostgreSQL URL."""
    if request.param == "sqlite":
        return str(tmp_path / "cloud.sqlite")
    return request.getfixturevalue("postgres_server").create_database()


@pytest.fixture
def cloud(database: str, server_clock: MovableClock) -> Iterator[RunningCloud]:
    app = create_app(database, clock=server_clock)
    with WebServer(app) as server:
        yield RunningCloud(server.url, database, app.extensions["cloud_store"], server_clock)
    app.extensions["cloud_store"].db.close()


@pytest.fixture
def proxy(cloud: RunningCloud) -> Iterator[FaultProxy]:
    with FaultProxy(cloud.url, hang_limit=10) as running:
        yield running


# -- the kiosk side -------------------------------------------------------------------

FAST_BACKOFF = Backoff(initial_s=0.01, cap_s=0.05, jitter=True)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "kiosk" / "kiosk.db", device_id="test-kiosk") as opened:
        yield opened


def card_ref(n: int) -> str:
    return hashlib.sha256(f"rfid125:card-{n}".encode()).hexdigest()


def seed(store: Store, members: int = 3, earns: int = 3) -> list[str]:
    """Members with a card, a bonus and some earns: every kind of outbox row. Returns member ids."""
    ids = []
    for m in range(members):
        member = store.add_member(f"+98912000{m:04d}", f"Member{m}", "Test", consent_version="2026-01")
        store.bind_card(member.id, card_ref(m), "rfid125", f"…{m:04d}")
        store.record(member.id, "bonus", 100, reason="enrolment bonus")
        for e in range(earns):
            store.record(member.id, "earn", 10 + e, amount=(10 + e) * 10_000, receipt_id=f"r-{m}-{e}")
        ids.append(member.id)
    return ids


@dataclass
class Device:
    device_id: str
    device_key: str


@pytest.fixture
def device(cloud: RunningCloud) -> Device:
    with cloud.registered_client() as client:
        return Device(client.device_id, client.device_key)


# The read timeout of a test that expects every request answered: on a loaded machine a PostgreSQL batch can
# take more than a second (clean7, load 12), and 2 s timed out an engagement exchange while the booted appliance
# ran beside it (clean13, load 11). Tests whose fault is a slow or hanging cloud pass a short one.
ANSWERED_READ_TIMEOUT = 5.0
# How long a test waits for a running kiosk's sync thread to have done something (pulled the config, sent its
# outbox, reached the cloud): a round is several requests, each allowed ANSWERED_READ_TIMEOUT, and a change can take
# two or three rounds, so the wait_until default of 5 s is one slow request from failing on a loaded machine.
SYNC_WAIT_S = 20.0


@pytest.fixture
def make_worker(cloud: RunningCloud, device: Device, store: Store):
    """SyncWorker factory: make_worker(url=proxy.url, clock=..., **options)."""
    made: list[SyncWorker] = []

    def build(url: str | None = None, *, clock=None, read_timeout: float = ANSWERED_READ_TIMEOUT,
              ca_file: str | None = None,
              **options) -> SyncWorker:
        clock = clock or cloud.clock
        client = CloudClient(url or cloud.url, device_id=device.device_id, device_key=device.device_key,
                             clock=clock, connect_timeout=0.5, read_timeout=read_timeout, ca_file=ca_file)
        options.setdefault("backoff", FAST_BACKOFF)
        options.setdefault("batch_events", 4)
        worker = SyncWorker(store, client, clock=clock, rng=random.Random(7), **options)
        made.append(worker)
        return worker

    yield build
    for worker in made:
        worker.close()
        worker.client.close()


def drain_to_empty(worker: SyncWorker, store: Store, rounds: int = 60) -> int:
    """Drain like the worker thread would, waiting out retry delays; returns rounds used.

    A worker on a MovableClock has its clock moved past each delay, so the rows are due again without a
    real wait; any other clock (a worker built from settings) is waited out for real.
    """
    for round_no in range(1, rounds + 1):
        result = worker.drain()
        if store.outbox_depth() == 0:
            return round_no
        past_retry(worker.clock, result.retry_in)
    raise AssertionError(f"outbox still holds {store.outbox_depth()} events after {rounds} rounds")


def past_retry(clock: object, retry_in: float) -> None:
    """Move ``clock`` (when it can be moved) past a retry delay the worker measured on it, else wait it out."""
    delay = min(max(retry_in, 0.0), 2.0) + 0.01
    if isinstance(clock, MovableClock):
        clock.advance(timedelta(seconds=delay))
    else:
        time.sleep(delay)


def assert_cloud_holds_exactly_the_kiosk_events(cloud: RunningCloud, store: Store, device: Device) -> None:
    local = [row["event_id"] for row in store.query("SELECT event_id FROM outbox")]
    remote = cloud.store.event_ids(device.device_id)
    assert len(remote) == len(set(remote)), "an event is stored twice in the cloud"
    assert sorted(remote) == sorted(local)
    assert store.outbox_depth() == 0
    for (member_id,) in store.query("SELECT id FROM members"):
        assert cloud.store.lookup(member_id=member_id)["balance"] == store.balance(member_id).points


@dataclass
class TlsFiles:
    ca_file: Path
    cert_file: Path
    key_file: Path


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A throw-away CA and a server certificate for 127.0.0.1 signed by it."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    directory = tmp_path_factory.mktemp("tls")
    now = datetime.now(timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test chain CA")])
    ca_cert = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    files = TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    files.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()))
    return files


# -- the console ----------------------------------------------------------------------

PASSWORD = "a long test password"
CONSOLE_MEMBERS = (
    # member id, name as the kiosk sent it, phone, branch, purchase amounts (rial)
    ("m-ali", "علی کریمی", "+989121110001", "tehran-01", [90_000_000, 40_000_000, 30_000_000]),
    ("m-zahra", "زهرا يوسفي", "+989121110002", "tehran-01", [8_000_000, 2_000_000]),  # Arabic ي
    ("m-reza", "رضا کاظمی", "+989351110003", "shiraz-02", [3_000_000]),
    ("m-sara", "سارا ملکی", "+989121110004", "shiraz-02", [600_000]),
    ("m-nima", "نیما", "+989121110005", "shiraz-02", []),
)


def console_users(cloud: RunningCloud) -> None:
    """One user per role: admin, marketer, and a branch manager of tehran-01."""
    users = UserStore(cloud.store.db, cloud.clock)
    users.add("admin", PASSWORD, "admin")
    users.add("marketer", PASSWORD, "marketer")
    users.add("tehran-manager", PASSWORD, "branch_manager", ["tehran-01"])


def console_members(cloud: RunningCloud) -> None:
    """CONSOLE_MEMBERS enrolled and buying through the real device API, one kiosk per branch."""
    start = cloud.clock() - timedelta(days=60)
    for branch in ("tehran-01", "shiraz-02"):
        batch = []
        for n, (member_id, name, phone, home, purchases) in enumerate(CONSOLE_MEMBERS):
            if home != branch:
                continue
            batch.append(protocol.make_event("member_enrolled", member_id, start, phone_e164=phone, name=name,
                                             consent={"at": protocol.format_time(start), "text_version": "2026-01"}))
            batch.append(protocol.make_event("card_bound", member_id, start, card_ref=card_ref(100 + n)))
            for day, amount in enumerate(purchases):
                batch.append(protocol.make_event("earn", member_id, start + timedelta(days=10 * day + 5),
                                                 points=amount // 100_000, amount=amount))
        with cloud.registered_client(branch) as client:
            client.send_batch([json.dumps(event) for event in batch])


class ConsoleSession:
    """A logged-in console user over real HTTP (requests keeps the cookie)."""

    def __init__(self, cloud: RunningCloud) -> None:
        self.cloud = cloud
        self.http = requests.Session()

    def csrf(self, path: str = "/login") -> str:
        page = self.http.get(self.cloud.url + path, timeout=5)
        return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)

    def login(self, username: str, password: str = PASSWORD) -> requests.Response:
        return self.http.post(self.cloud.url + "/login", timeout=10, allow_redirects=False,
                              data={"username": username, "password": password, "csrf_token": self.csrf()})

    def get(self, path: str, **kwargs: object) -> requests.Response:
        return self.http.get(self.cloud.url + path, timeout=10, allow_redirects=False, **kwargs)

    def post(self, path: str, data: dict | None = None, *, csrf_from: str = "/") -> requests.Response:
        return self.http.post(self.cloud.url + path, timeout=10, allow_redirects=False,
                              data={**(data or {}), "csrf_token": self.csrf(csrf_from)})

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def console(cloud: RunningCloud) -> Iterator[Callable[[str | None], ConsoleSession]]:
    """console(username) -> a session logged in as that user (None: not logged in); users and members seeded."""
    console_users(cloud)
    console_members(cloud)
    opened: list[ConsoleSession] = []

    def open_as(username: str | None) -> ConsoleSession:
        session = ConsoleSession(cloud)
        opened.append(session)
        if username is not None:
            assert session.login(username).status_code == 302
        return session

    yield open_as
    for session in opened:
        session.close()
