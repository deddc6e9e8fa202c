"""A full disk during a till's "tap to earn": the cashier is told why, nothing is half-written."""
from __future__ import annotations

from kiosk.errors import StoreError
from tests.conftest import wait_until
from tests.web.conftest import ALI, open_shop, seed
from tests.web.test_staff_and_pos import pos

ALI_SPARE = "6677889900"


def page_limit(store, pages: int) -> None:
    """SQLite's own size limit on the writer connection stands in for a full disk."""
    store.write(lambda db: db.execute(f"PRAGMA max_page_count = {int(pages)}"))


def test_an_earn_that_hits_a_full_disk_fails_the_purchase_with_the_reason_and_can_be_posted_again(tmp_path):
    rt = open_shop(tmp_path / "shop")
    try:
        shop = seed(rt)
        store = rt.store
        page_limit(store, store.query("PRAGMA page_count")[0][0])
        # Fill what free space the last pages still have with earns, so the next one cannot fit.
        for n in range(5_000):
            try:
                store.record(shop.sara, "earn", 1, amount=10_000, receipt_id=f"filler-{n}")
            except StoreError:
                break
        else:
            raise AssertionError("the page limit never filled up")
        before = (store.counts(), store.balance(shop.ali).points)

        status, body = pos(shop, "POST", "/purchases", {"receipt_id": "FULL-1", "amount_rial": 5_000_000})
        assert (status, body["state"]) == (201, "pending")
        shop.tap(ALI)
        result = wait_until(lambda: (b := pos(shop, "GET", "/purchases/FULL-1")[1])["state"] != "pending" and b,
                            what="the purchase to finish")
        assert result["state"] == "failed"
        assert "disk" in result["detail"] and "full" in result["detail"] and "nothing was written" in result["detail"]
        assert (store.counts(), store.balance(shop.ali).points) == before
        assert store.verify() == []

        page_limit(store, 1_073_741_823)  # space is back
        # Ali's second card: the reader would swallow his first card's tap within its debounce window, and
        # a tap is a tap whichever of the member's cards it comes from.
        rt.service.bind(shop.ali, "rfid125", ALI_SPARE)
        status, body = pos(shop, "POST", "/purchases", {"receipt_id": "FULL-1", "amount_rial": 5_000_000})
        assert (status, body["state"]) == (201, "pending")
        shop.tap(ALI_SPARE)
        result = wait_until(lambda: (b := pos(shop, "GET", "/purchases/FULL-1")[1])["state"] != "pending" and b,
                            what="the purchase to be earned")
        assert result["state"] == "earned" and result["balance"] == before[1] + result["points"]
        assert store.verify() == []
    finally:
        rt.close()
