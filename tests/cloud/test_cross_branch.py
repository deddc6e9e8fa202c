"""A member enrolled at branch A taps their card at branch B: B asks the real cloud and imports them.

Two kiosks (each its own SQLite file, service, sync worker and card look-up) share one
reference cloud on loopback and one chain secret, as two branches of one chain do.
"""

from __future__ import annotations

import logging
import random
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from drivers.events import CardRead
from kiosk import protocol
from tests.support import faultproxy
from kiosk.config import load, load_secrets
from kiosk.flows import build_flows
from kiosk.flows.claims import TapClaims
from kiosk.flows.receipts import ReceiptDesk
from kiosk.receipts import Receipt
from kiosk.errors import DuplicateMember, OfflineRedemptionCap, StorageFull, UnknownMember
from kiosk.service import KioskService
from kiosk.store import Card, Store
from kiosk.sync.worker import SyncWorker
from kiosk.sync.client import CloudClient
from kiosk.chain_card import chain_card_from_reply
from kiosk.store.chain_import import IMPORT_REASON, member_for_import
from kiosk.sync.lookup import ChainCardLookup
from tests.conftest import write_config
from tests.support.full_disk import SmallDisk

from .conftest import ANSWERED_READ_TIMEOUT, FAST_BACKOFF, SYNC_WAIT_S, RunningCloud

UID = "0A1B2C3D4E"
# The look-up's timeouts in the test of a hung cloud: short against the proxy's 10 s hang. Every other request
# is expected answered and waits ANSWERED_READ_TIMEOUT: 2 s for all of them timed out a sync round at load 11
# (clean31, two suites side by side).
HANG_READ_TIMEOUT = 2.0


@dataclass
class Kiosk:
    """One branch's kiosk: store, service, sync worker and look-up, wired like appliance.runtime does."""

    name: str
    store: Store
    service: KioskService
    worker: SyncWorker
    lookup: ChainCardLookup
    seen: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def tap(self, uid: str = UID) -> tuple[str, dict[str, Any]]:
        """Tap a card on the service thread's handler and return the screen it led to."""
        self.seen.clear()
        self.service.handle(CardRead(uid, "rfid125", "counter"))
        screens = [(n, p) for n, p in self.seen if n in ("member", "unknown_card", "card_blocked")]
        assert len(screens) == 1, self.seen
        return screens[0]

    def sync(self) -> None:
        """One round of the worker thread: config pull, drain, reconcile."""
        self.worker.pull_config()
        result = self.worker.drain()
        assert not result.failed, result.errors
        self.worker.reconcile_pending()
        assert self.store.outbox_depth() == 0

    closed: bool = False

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.lookup.close()
        self.worker.close()
        self.worker.client.close()
        self.store.close()


@pytest.fixture
def branches(cloud: RunningCloud, tmp_path: Path) -> Iterator[Any]:
    """make(name, branch, url=None, lookup_timeout=...) -> a Kiosk registered to `branch`, all sharing one chain
    secret."""
    made: list[Kiosk] = []

    def make(name: str, branch: str, url: str | None = None,
             lookup_timeout: float = ANSWERED_READ_TIMEOUT) -> Kiosk:
        directory = tmp_path / name
        directory.mkdir(exist_ok=True)  # a test may have mounted a small disk there first
        if made:  # one chain, one chain secret: the same card gives the same card_ref at every branch
            shutil.copy2(tmp_path / made[0].name / "secrets.toml", directory / "secrets.toml")
        settings = load(write_config(directory, device_id=name))
        secrets = load_secrets(settings.device.secrets_file)
        with cloud.registered_client(branch) as registered:
            device_id, device_key = registered.device_id, registered.device_key
        store = Store(directory / "kiosk.db", device_id=name, clock=cloud.clock)

        def client(timeout: float) -> CloudClient:
            return CloudClient(url or cloud.url, device_id=device_id, device_key=device_key, clock=cloud.clock,
                               connect_timeout=timeout, read_timeout=timeout)

        service = KioskService(store, settings, secrets, clock=cloud.clock)
        lookup = ChainCardLookup(client(lookup_timeout))
        service.chain_lookup = lookup

        def on_status(status: Any) -> None:
            service.link = status.link.value

        worker = SyncWorker(store, client(ANSWERED_READ_TIMEOUT), clock=cloud.clock, rng=random.Random(3),
                            backoff=FAST_BACKOFF, on_status=on_status)
        service.link = "offline"  # as the runtime starts: offline until the first exchange succeeds
        kiosk = Kiosk(name, store, service, worker, lookup)
        service.subscribe(lambda n, p: kiosk.seen.append((n, p)))
        service.subscribe(lambda n, p: worker.request_reconcile(p["member_id"]) if n == "member" else None)
        made.append(kiosk)
        return kiosk

    yield make
    for kiosk in made:
        kiosk.close()


def enrol_at(kiosk: Kiosk, purchases: tuple[int, ...] = (2_500_000, 1_000_000)) -> str:
    member = kiosk.service.enroll("+989121234567", "Sara", "Ahmadi", consent=True)
    kiosk.service.bind(member.id, "rfid125", UID)
    for amount in purchases:
        kiosk.service.earn(member.id, amount)
    return member.id


def chain_balance(cloud: RunningCloud, member_id: str) -> int:
    return cloud.store.lookup(member_id=member_id)["balance"]


# -- the import ------------------------------------------------------------------------


def test_a_card_enrolled_at_branch_a_shows_its_member_and_balance_at_branch_b(cloud, branches):
    a, b = branches("kiosk-a", "tehran-01"), branches("kiosk-b", "shiraz-02")
    member_id = enrol_at(a)
    a.sync()
    b.sync()  # nothing to send; the config pull shows the cloud is there
    assert a.store.balance(member_id).points == 100 + 250 + 100

    name, view = b.tap()

    assert name == "member"
    assert view["member_id"] == member_id and view["first_name"] == "Sara"
    assert view["points"] == 450
    assert view["card_label"].endswith("3D4E") and UID not in str(view)
    imported = b.store.member(member_id)
    assert (imported.phone, imported.first_name, imported.last_name) == ("+989121234567", "Sara", "Ahmadi")
    assert [(r.kind, r.points, r.reason) for r in b.store.history(member_id)] == [("adjust", 450, IMPORT_REASON)]
    assert b.store.card(a.service.card_ref_for("rfid125", UID)).state == "active"
    assert b.store.verify() == []
    # Only the balance mirror waits to go out: no second enrolment or bind of a known member.
    kinds = [row["kind"] for row in b.store.outbox_pending()]
    assert kinds == ["adjust"]


def test_a_member_of_another_branch_earns_at_the_till_here(cloud, branches):
    a, b = branches("kiosk-a", "tehran-01"), branches("kiosk-b", "shiraz-02")
    member_id = enrol_at(a)
    a.sync()
    b.sync()
    till = build_flows(b.service)
    till.pos.post("B-RECEIPT-1", 2_000_000)

    b.seen.clear()
    b.service.handle(CardRead(UID, "rfid125", "counter"))

    results = [p for n, p in b.seen if n == "pos_result"]
    assert [r["state"] for r in results] == ["earned"], b.seen
    assert results[0]["points_earned"] == 200 and results[0]["points"] == 450 + 200
    assert till.pos.status("B-RECEIPT-1").state == "earned"
    b.sync()
    assert chain_balance(cloud, member_id) == 450 + 200
    till.close()


def test_a_member_of_another_branch_claims_a_receipt_here(cloud, branches):
    a, b = branches("kiosk-a", "tehran-01"), branches("kiosk-b", "shiraz-02")
    member_id = enrol_at(a)
    a.sync()
    b.sync()
    desk = ReceiptDesk(b.service, TapClaims(b.service), b"k" * 32)
    receipt = Receipt("shiraz-02", "B-RECEIPT-2", 1_000_000, int(cloud.clock().timestamp()))
    desk.await_card(receipt, ttl_s=30)

    b.seen.clear()
    b.service.handle(CardRead(UID, "rfid125", "counter"))

    results = [p for n, p in b.seen if n == "receipt_result"]
    assert [r["state"] for r in results] == ["claimed"], b.seen
    assert b.store.balance(member_id).points == 450 + 100


def test_earning_at_both_branches_sums_in_the_cloud_without_counting_the_import(cloud, branches):
    a, b = branches("kiosk-a", "tehran-01"), branches("kiosk-b", "shiraz-02")
    member_id = enrol_at(a)
    a.sync()
    b.sync()
    assert b.tap()[0] == "member"
    b.service.earn(member_id, 700_000)  # 70 points at B
    b.sync()
    a.service.earn(member_id, 300_000)  # 30 more at A, meanwhile
    a.sync()

    real_points = (100 + 250 + 100) + 70 + 30
    assert chain_balance(cloud, member_id) == real_points
    members = cloud.store.counts()["members"]
    assert members == 1, "kiosk B must not enrol the member in the cloud a second time"
    # The next tap at each kiosk reconciles it with the chain: both show the real total.
    for kiosk in (a, b):
        name, view = kiosk.tap()
        kiosk.sync()
        assert name == "member"
        assert kiosk.store.balance(member_id).points == real_points
        assert kiosk.store.verify() == []
    assert chain_balance(cloud, member_id) == real_points
    # Every kiosk event reached the cloud once; the import and corrections count zero there.
    for kiosk in (a, b):
        local = sorted(r["event_id"] for r in kiosk.store.query("SELECT event_id FROM outbox"))
        device_id = kiosk.worker.client.device_id
        assert sorted(cloud.store.event_ids(device_id)) == local


def test_a_member_imported_from_the_chain_on_a_full_disk_is_not_half_written_and_imports_once_space_returns(
        cloud, branches, tmp_path):
    a = branches("kiosk-a", "tehran-01")
    member_id = enrol_at(a)
    a.sync()
    with SmallDisk(tmp_path / "kiosk-b", size_kib=8192) as disk:
        b = branches("kiosk-b", "shiraz-02")
        b.sync()
        disk.fill()
        with pytest.raises(StorageFull):  # the service thread turns it into the storage-full screen
            b.service.handle(CardRead(UID, "rfid125", "counter"))
        with pytest.raises(UnknownMember):
            b.store.member(member_id)
        assert b.store.card(a.service.card_ref_for("rfid125", UID)) is None and b.store.outbox_depth() == 0
        disk.free()
        name, view = b.tap()
        assert (name, view["member_id"], view["points"]) == ("member", member_id, 450)
        assert b.store.verify() == []
        b.close()  # before the small disk is unmounted; the fixture's own close then does nothing


def test_a_second_tap_at_branch_b_uses_the_imported_card_without_importing_again(cloud, branches):
    a, b = branches("kiosk-a", "tehran-01"), branches("kiosk-b", "shiraz-02")
    member_id = enrol_at(a)
    a.sync()
    b.sync()
    b.tap()
    b.sync()
    name, view = b.tap()
    assert name == "member" and view["points"] == 450
    assert [r.kind for r in b.store.history(member_id)] == ["adjust"]
    assert b.store.verify() == []


def test_a_second_card_of_an_imported_member_adds_only_the_card_at_branch_b(cloud, branches):
    a, b = branches("kiosk-a", "tehran-01"), branches("kiosk-b", "shiraz-02")
    member_id = enrol_at(a)
    a.sync()
    b.sync()
    b.tap()
    b.sync()
    a.service.bind(member_id, "rfid125", "0A1B2C3D99")
    a.sync()
    name, view = b.tap("0A1B2C3D99")
    assert name == "member" and view["member_id"] == member_id and view["points"] == 450
    assert len(b.store.cards_of(member_id)) == 2
    assert [r.kind for r in b.store.history(member_id)] == ["adjust"]
    b.sync()
    assert chain_balance(cloud, member_id) == 450 and b.store.verify() == []


def test_a_card_the_chain_does_not_know_is_offered_enrolment_at_branch_b(cloud, branches):
    b = branches("kiosk-b", "shiraz-02")
    b.sync()
    name, payload = b.tap("00000000FF")
    assert name == "unknown_card" and payload == {"label": "•••• 00FF"}
    assert b.store.counts()["members"] == 0


def test_a_card_reported_lost_at_branch_a_is_shown_blocked_at_branch_b(cloud, branches):
    a, b = branches("kiosk-a", "tehran-01"), branches("kiosk-b", "shiraz-02")
    member_id = enrol_at(a)
    a.store.set_card_state(a.service.card_ref_for("rfid125", UID), "lost", staff_id="staff-1")
    a.sync()
    b.sync()
    name, payload = b.tap()
    assert (name, payload["state"]) == ("card_blocked", "lost")
    # Not imported: an unblock at the home branch is seen on the next tap at B.
    assert b.store.counts()["members"] == 0
    a.store.set_card_state(a.service.card_ref_for("rfid125", UID), "active", staff_id="staff-1")
    a.sync()
    name, view = b.tap()
    assert name == "member" and view["member_id"] == member_id


# -- offline, down, slow --------------------------------------------------------------


def test_an_offline_kiosk_does_not_ask_the_cloud_and_offers_enrolment_as_before(cloud, branches):
    a = branches("kiosk-a", "tehran-01")
    enrol_at(a)
    a.sync()
    with faultproxy.FaultProxy(cloud.url, hang_limit=10) as proxy:
        b = branches("kiosk-b", "shiraz-02", url=proxy.url)
        assert b.service.link == "offline"  # never reached the cloud yet
        assert b.tap()[0] == "unknown_card"
        assert not [s for s in proxy.seen if "/members/lookup" in s.path]


def test_a_cloud_that_resets_the_lookup_leaves_the_card_unknown(cloud, branches):
    a = branches("kiosk-a", "tehran-01")
    enrol_at(a)
    a.sync()
    with faultproxy.FaultProxy(cloud.url, hang_limit=10) as proxy:
        b = branches("kiosk-b", "shiraz-02", url=proxy.url)
        b.sync()
        proxy.match = "/members/lookup"
        proxy.plan(faultproxy.RESET)
        assert b.tap()[0] == "unknown_card"
        assert b.store.counts()["members"] == 0
        assert b.tap()[0] == "member"  # the cloud answers again: the next tap imports


def test_a_cloud_that_hangs_costs_the_tap_the_read_timeout_not_the_hang(cloud, branches):
    a = branches("kiosk-a", "tehran-01")
    enrol_at(a)
    a.sync()
    with faultproxy.FaultProxy(cloud.url, hang_limit=10) as proxy:
        b = branches("kiosk-b", "shiraz-02", url=proxy.url, lookup_timeout=HANG_READ_TIMEOUT)
        b.sync()
        proxy.match = "/members/lookup"
        proxy.plan(faultproxy.HANG)
        started = time.monotonic()
        name, _ = b.tap()
        waited = time.monotonic() - started
        assert name == "unknown_card"
        # The proxy holds the request for 10 s; the tap gave up after about HANG_READ_TIMEOUT.
        assert waited < 5, f"the tap waited {waited:.1f} s for a hung cloud"
        assert b.store.counts()["members"] == 0


def test_an_unknown_card_while_a_portal_answers_html_offers_enrolment_at_once(cloud, branches, caplog):
    a = branches("kiosk-a", "tehran-01")
    enrol_at(a)
    a.sync()
    with faultproxy.FaultProxy(cloud.url, hang_limit=10) as proxy:
        b = branches("kiosk-b", "shiraz-02", url=proxy.url)
        b.sync()
        proxy.match = "/members/lookup"
        proxy.plan(faultproxy.HTML)
        caplog.set_level(logging.INFO, logger="kiosk.sync.lookup")
        assert b.tap()[0] == "unknown_card"  # the join offer, not "something went wrong"
        assert not [n for n, _ in b.seen if n == "error"]
        assert proxy.pending_faults() == 0
        messages = [r.getMessage() for r in caplog.records]
        # Answered as soon as the page came, not after the look-up's wait ran out.
        assert any("HTML page" in m for m in messages) and not any("did not answer" in m for m in messages)
        assert b.store.counts()["members"] == 0


def test_a_portal_answering_the_outbox_puts_the_offline_redemption_cap_back(cloud, branches):
    with faultproxy.FaultProxy(cloud.url, hang_limit=10) as proxy:
        b = branches("kiosk-b", "shiraz-02", url=proxy.url)
        member = enrol_at(b)
        b.store.record(member, "bonus", 5_000, reason="welcome")
        b.sync()
        cap = b.service.rules.offline_daily_redeem_cap
        b.service.store.record(member, "earn", 5, amount=50_000)
        proxy.plan(faultproxy.HTML)
        assert b.worker.drain().failed
        assert b.service.link == "degraded"
        with pytest.raises(OfflineRedemptionCap):
            b.service.redeem(member, cap + 1)


def test_a_cloud_that_is_gone_leaves_the_card_unknown(cloud, branches):
    a = branches("kiosk-a", "tehran-01")
    enrol_at(a)
    a.sync()
    proxy = faultproxy.FaultProxy(cloud.url, hang_limit=10)
    with proxy:
        b = branches("kiosk-b", "shiraz-02", url=proxy.url)
        b.sync()
        assert b.service.link == "online"
    # The cloud's address now refuses connections; the link has not noticed yet.
    assert b.tap()[0] == "unknown_card"
    assert b.store.counts()["members"] == 0


# -- the parts -------------------------------------------------------------------------


def reply_for(ref: str, **changes: Any) -> dict[str, Any]:
    reply = {
        "member_id": "m-1",
        "member": {"member_id": "m-1", "phone_e164": "+989121234567", "name": "Sara Ahmadi",
                   "enrolled_at": "2026-01-02T03:04:05Z", "branch": "tehran-01"},
        "card": {"card_ref": ref, "member_id": "m-1", "state": "active", "changed_at": "2026-01-02T03:04:06Z"},
        "balance": 450,
    }
    reply.update(changes)
    return reply


@pytest.mark.parametrize("changes, complaint", [
    ({"balance": -5}, "balance"),
    ({"balance": "450"}, "balance"),
    ({"member": None}, "has not reached the cloud"),
    ({"card": None}, "no card"),
    ({"member_id": "m-2"}, "member ids"),
])
def test_a_lookup_reply_that_does_not_add_up_is_refused_with_what_is_wrong(changes, complaint):
    ref = "ab" * 32
    with pytest.raises(protocol.ProtocolError, match=complaint):
        chain_card_from_reply(reply_for(ref, **changes), ref)


def test_a_lookup_reply_for_another_card_is_refused():
    with pytest.raises(protocol.ProtocolError, match="another card"):
        chain_card_from_reply(reply_for("cd" * 32), "ab" * 32)


def test_an_import_whose_phone_belongs_to_another_local_member_is_refused_and_writes_nothing(tmp_path):
    ref = "ab" * 32
    found = chain_card_from_reply(reply_for(ref), ref)
    with Store(tmp_path / "b.db", device_id="kiosk-b") as store:
        store.add_member("+989121234567", "Sara", "Local")
        before = store.counts()
        card = Card(ref, found.member_id, "rfid125", "•••• 3D4E", "active", "2026-01-02T03:04:06.000000Z")
        with pytest.raises(DuplicateMember, match="merge"):
            store.import_member(member_for_import(found), card, found.balance)
        assert store.counts() == before


def test_an_import_refuses_a_reason_the_cloud_would_count_as_new_points(tmp_path):
    ref = "ab" * 32
    found = chain_card_from_reply(reply_for(ref), ref)
    with Store(tmp_path / "b.db", device_id="kiosk-b") as store:
        card = Card(ref, found.member_id, "rfid125", "•••• 3D4E", "active", "2026-01-02T03:04:06.000000Z")
        with pytest.raises(ValueError, match="count it twice"):
            store.import_member(member_for_import(found), card, 450, reason="imported")
        assert store.counts()["members"] == 0


# -- two whole kiosks ------------------------------------------------------------------


def test_two_running_kiosks_share_a_member_through_the_cloud_end_to_end(cloud, tmp_path):
    """Two Runtimes (emulated reader, web server, sync thread) as `kiosk` runs them; taps are real frames."""
    import queue

    from appliance.runtime import Runtime
    from kiosk.sync.files import Credentials, save_credentials
    from kiosk.sync.setup import credentials_path
    from tests.conftest import kioskctl, wait_until

    def start(name: str, branch: str) -> tuple[Runtime, Path, "queue.Queue[tuple[str, dict]]"]:
        directory = tmp_path / name
        directory.mkdir()
        if name != "kiosk-a":
            shutil.copy2(tmp_path / "kiosk-a" / "secrets.toml", directory / "secrets.toml")
        config = write_config(directory, f'[cloud]\nurl = "{cloud.url}"\nsync_interval_s = 0.1\n'
                                         f"connect_timeout_s = {ANSWERED_READ_TIMEOUT}\n"
                                         f"read_timeout_s = {ANSWERED_READ_TIMEOUT}\n",
                              device_id=name)
        settings = load(config)
        with cloud.registered_client(branch) as registered:
            save_credentials(credentials_path(settings),
                             Credentials(cloud.url, registered.device_id, registered.device_key, branch))
        runtime = Runtime(settings, load_secrets(settings.device.secrets_file), port=0).start()
        screens: queue.Queue = queue.Queue()
        runtime.service.subscribe(lambda n, p: screens.put((n, p)) if n in ("member", "unknown_card") else None)
        return runtime, config, screens

    a, config_a, _ = start("kiosk-a", "tehran-01")
    try:
        b, config_b, screens_b = start("kiosk-b", "shiraz-02")
        try:
            member_id = enrol_at(a)
            wait_until(lambda: a.store.outbox_depth() == 0, timeout_s=SYNC_WAIT_S, what="kiosk A to send its events")
            wait_until(lambda: b.service.link == "online", timeout_s=SYNC_WAIT_S, what="kiosk B to reach the cloud")
            wait_until(lambda: b.service.reader_status.get("counter"), what="kiosk B's reader")
            b.emulators["counter"].tap(UID)
            name, view = screens_b.get(timeout=SYNC_WAIT_S)
            assert (name, view["member_id"], view["points"]) == ("member", member_id, 450)
            b.service.earn(member_id, 700_000)
            wait_until(lambda: b.store.outbox_depth() == 0, timeout_s=SYNC_WAIT_S, what="kiosk B to send its events")
            assert chain_balance(cloud, member_id) == 450 + 70
        finally:
            b.close()
        assert kioskctl(config_b, "verify").returncode == 0
    finally:
        a.close()
    assert kioskctl(config_a, "verify").returncode == 0
