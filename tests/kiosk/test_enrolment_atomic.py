"""Enrolment with its bonuses and first card is one transaction: a failure midway writes nothing, so the
shopper's retry enrols them instead of answering "already a member"."""
from __future__ import annotations

import pytest

from kiosk.config import load, load_secrets
from kiosk.errors import StoreError
from kiosk.flows import build_flows
from kiosk.service import KioskService
from kiosk.store import Store
from tests.conftest import write_config

CARD = "ab" * 32


@pytest.fixture
def kiosk(tmp_path):
    settings = load(write_config(tmp_path / "kiosk"))
    with Store(tmp_path / "kiosk.db", device_id="k1") as store:
        service = KioskService(store, settings, load_secrets(settings.device.secrets_file))
        flows = build_flows(service)
        try:
            yield service, flows
        finally:
            flows.close()
        assert store.verify() == []


def disk_fills_at_the_ledger(store: Store) -> None:
    """The disk fills after the member row is written and before its first bonus is: SQLite's own message."""
    store.write(lambda db: db.execute("CREATE TRIGGER full BEFORE INSERT ON ledger "
                                      "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"))


def test_an_enrolment_that_fails_at_its_bonus_leaves_no_member_and_the_retry_enrols_with_bonus_and_card(kiosk):
    service, flows = kiosk
    store = service.store
    referrer = service.enroll("+989121110000", "Reza")
    app = flows.enrollment.check("09121234567", "Sara", "Ahmadi", birthday="1990-05-01",
                                 referral_code=referrer.referral_code, consent=True)
    before = (store.counts(), store.outbox_depth(), store.balance(referrer.id).points)
    disk_fills_at_the_ledger(store)
    with pytest.raises(StoreError, match="is full; nothing was written"):
        flows.enrollment.enroll_with_card(app, CARD, "rfid125", "…3D4E")
    assert (store.counts(), store.outbox_depth(), store.balance(referrer.id).points) == before
    assert store.member_by_phone("+989121234567") is None and store.card(CARD) is None

    store.write(lambda db: db.execute("DROP TRIGGER full"))  # space is back: the shopper taps "join" again
    enrolled = flows.enrollment.enroll_with_card(app, CARD, "rfid125", "…3D4E")
    assert enrolled.bonus_points == 100 + 50 + 50  # welcome, complete profile, referred
    assert store.balance(enrolled.member.id).points == 200
    assert store.balance(referrer.id).points == before[2] + 100
    assert store.card(CARD).member_id == enrolled.member.id


def test_an_enrolment_whose_card_is_taken_in_the_same_transaction_writes_neither_member_nor_bonus(kiosk):
    from kiosk.errors import CardAlreadyBound
    from kiosk.store import NewCard

    service, _flows = kiosk
    store = service.store
    owner = service.enroll("+989121110000", "Reza")
    store.bind_card(owner.id, CARD, "rfid125", "…3D4E")
    before = store.counts()
    with pytest.raises(CardAlreadyBound):
        service.enroll("+989121234567", "Sara", card=NewCard(CARD, "rfid125", "…3D4E"))
    assert store.counts() == before and store.member_by_phone("+989121234567") is None


def test_a_profile_completed_while_the_disk_is_full_keeps_the_old_profile_and_the_retry_pays_the_bonus_once(kiosk):
    service, flows = kiosk
    store = service.store
    member = service.enroll("+989121234567", "Sara")
    disk_fills_at_the_ledger(store)
    with pytest.raises(StoreError, match="is full"):
        flows.enrollment.complete_profile(member.id, "Ahmadi", "1990-05-01")
    assert (store.member(member.id).last_name, store.member(member.id).birthday) == ("", None)
    store.write(lambda db: db.execute("DROP TRIGGER full"))
    assert flows.enrollment.complete_profile(member.id, "Ahmadi", "1990-05-01").bonus_points == 50
    assert flows.enrollment.complete_profile(member.id, "Ahmadi", "1990-05-02").bonus_points == 0
    assert store.balance(member.id).points == 150
