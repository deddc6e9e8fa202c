"""Credit the chain refused is not offered again (issue 11), end to end with a real cloud on loopback (SQLite and
PostgreSQL) and two kiosks: when a till's credit hold is refused `credit_short`, the cloud's `available_rial`
becomes the member's wallet at that kiosk at once (a correction row, as the reconcile writes), so the next
quote offers at most what the chain has; the next reconcile moves the wallet to the chain's figure again."""
from __future__ import annotations

from datetime import timedelta

import pytest

from kiosk.errors import SpendRefused
from kiosk.protocol import CLOUD_CORRECTION_REASON
from kiosk.sync.coupons import _available
from tests.conftest import kioskctl

from .test_credit_hold_across_branches import chain_credit, commit, quote
from .test_wallet_across_branches import branches, sara_at  # noqa: F401 (branches is a fixture)


def corrections(kiosk, member_id: str) -> list[tuple[int, str]]:
    return [(r["amount_rial"], r["reason"]) for r in kiosk.store.query(
        "SELECT amount_rial, reason FROM credit_ledger WHERE member_id = ? AND kind = 'correction' ORDER BY rowid",
        (member_id,))]


def test_after_credit_short_the_refused_kiosk_offers_only_what_the_chain_has_left(cloud, branches):
    a, b = branches("kiosk-a", "tehran-01"), branches("kiosk-b", "shiraz-02")
    sara = sara_at(a)  # 30,000 rial of credit, earned at A
    a.sync()
    b.tap()
    before = len(corrections(b, sara))  # the import's own correction
    assert commit(a, quote(a, 20_000, sara), "A-1")["credit_rial"] == 20_000  # held in the cloud, not sent yet
    stale = quote(b, 30_000, sara)
    assert stale.credit_rial == 30_000  # B has not heard of A's spend
    with pytest.raises(SpendRefused) as short:
        commit(b, stale, "B-1")
    assert short.value.reason == "credit_short" and short.value.available_rial == 10_000
    assert b.store.till_commit("B-1") is None
    assert b.store.balance(sara).credit_rial == 10_000  # at once, without a reconcile
    assert corrections(b, sara)[before:] == [(-20_000, f"{CLOUD_CORRECTION_REASON} chain credit free 10000")]
    again = quote(b, 30_000, sara)
    assert again.credit_rial == 10_000 and again.to_pay_rial == 20_000
    assert commit(b, again, "B-2")["credit_rial"] == 10_000  # what the chain has, accepted by its hold
    for kiosk in (a, b):
        kiosk.sync()
    assert chain_credit(cloud, sara) == (0, 0)
    for kiosk in (a, b):  # A learns of B's spend at its reconcile; B's finds nothing more to correct there
        kiosk.tap()
        kiosk.sync()
    assert b.store.balance(sara).credit_rial == 0 and a.store.balance(sara).credit_rial == 0
    assert len(corrections(b, sara)) == before + 1
    for kiosk in (a, b):
        assert kiosk.store.verify() == [] and kioskctl(kiosk.config, "verify").returncode == 0


def test_a_ceiling_set_by_a_hold_that_is_later_given_up_is_lifted_by_the_next_reconcile(cloud, branches):
    a, b = branches("kiosk-a", "tehran-01"), branches("kiosk-b", "shiraz-02")
    sara = sara_at(a)
    a.sync()
    b.tap()
    a.coupons.hold_credit(sara, 30_000, "A-lost", [])  # a till that held all of it and then crashed
    with pytest.raises(SpendRefused) as short:
        commit(b, quote(b, 30_000, sara), "B-1")
    assert short.value.available_rial == 0
    assert b.store.balance(sara).credit_rial == 0 and quote(b, 30_000, sara).credit_rial == 0
    cloud.clock.advance(timedelta(minutes=11))  # the forgotten hold expires
    b.tap()
    b.sync()
    assert b.store.balance(sara).credit_rial == 30_000
    assert commit(b, quote(b, 30_000, sara), "B-2")["credit_rial"] == 30_000
    b.sync()
    assert chain_credit(cloud, sara) == (0, 0) and b.store.verify() == []


@pytest.mark.parametrize("detail", [{}, {"available_rial": "10000"}, {"available_rial": -1},
                                    {"available_rial": True}, {"available_rial": 10**14}])
def test_a_credit_short_without_a_usable_available_figure_sets_no_ceiling(detail):
    assert _available(detail) is None


def test_a_credit_short_with_a_figure_gives_it():
    assert _available({"available_rial": 0}) == 0 and _available({"available_rial": 10_000}) == 10_000
