"""Another branch's unused coupons in the member's wallet on a tap here, end to end (a real cloud on loopback,
SQLite and PostgreSQL, and two kiosks): the member look-up answers the chain's unused coupons, the kiosk keeps
them with its own (kiosk.store.spending.hold_chain_coupons) and the tap's wallet lists both; a coupon used
anywhere leaves every wallet, and a void gives it back."""
from __future__ import annotations

import pytest

from kiosk import protocol
from kiosk.chain_card import chain_coupons_from_reply
from kiosk.flows import coupons
from tests.conftest import kioskctl

from .test_wallet_across_branches import Branch, branches, sara_at  # noqa: F401 (branches is a fixture)


def wallet(kiosk: Branch) -> list[str]:
    return [c["code"] for c in kiosk.tap()["coupons"]]


def test_another_branchs_unused_coupons_are_in_the_wallet_from_the_first_tap_here(cloud, branches):
    a, b = branches("kiosk-a", "tehran-01"), branches("kiosk-b", "shiraz-02")
    sara = sara_at(a)
    first = coupons.redeem(a.service, sara, "coffee").code
    a.sync()
    tap = b.tap()  # B has never seen her: imported from the chain, with her coupon
    assert [(c["code"], c["name"]) for c in tap["coupons"]] == [(first, "Coffee")]  # in her language

    # Issued at A after her import at B: the tap's reconcile brings it, and her next tap shows it.
    second = coupons.redeem(a.service, sara, "coffee").code
    a.sync()
    b.sync()  # the reconcile B's tap asked for
    assert sorted(wallet(b)) == sorted([first, second])

    # Used at B's till: it leaves her wallet at B at once, and at A once the chain says so.
    b.pay(100_000, "B-1", coupon_code=second, use_points=False, use_credit=False)
    assert wallet(b) == [first]
    b.sync()
    a.tap()
    a.sync()
    assert wallet(a) == [first] and wallet(b) == [first]

    # Used at A (its own coupon): it leaves B's wallet at her next reconcile there.
    a.pay(100_000, "A-1", coupon_code=first, use_points=False, use_credit=False)
    a.sync()
    b.tap()
    b.sync()
    assert wallet(b) == []
    # A void at A gives it back to the chain, and to her wallet at B.
    a.flows.till.void("A-1")
    a.sync()
    b.tap()
    b.sync()
    assert wallet(b) == [first]
    for kiosk in (a, b):
        assert kiosk.store.verify() == [] and kioskctl(kiosk.config, "verify").returncode == 0


@pytest.mark.parametrize(("listed", "message"), [
    ("no", "list"),
    ([{"code": "nonsense", "reward_id": "coffee", "branch": "x", "issued_at": "2026-01-01T00:00:00Z"}], "coupon"),
    ([{"code": "7K3M-Q9XD-2HVB-R", "reward_id": "", "branch": "x", "issued_at": "2026-01-01T00:00:00Z"}], "reward"),
    ([{"code": "7K3M-Q9XD-2HVB-R", "reward_id": "coffee", "branch": "x", "issued_at": "yesterday"}], "issued_at"),
])
def test_a_garbled_coupon_list_from_the_cloud_is_refused_naming_what_is_wrong(listed, message):
    with pytest.raises(protocol.ProtocolError, match=message):
        chain_coupons_from_reply({"coupons": listed})
