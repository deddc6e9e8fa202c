"""A coupon used at two tills (its own kiosk offline, another branch online) is flagged in the console, end to end:
a real cloud on loopback (SQLite and PostgreSQL), two kiosks and a logged-in console session."""
from __future__ import annotations

from sqlalchemy import select

from cloud.db.schema import coupons as coupon_table
from kiosk.flows import coupons

from .test_wallet_across_branches import Branch, branches, sara_at  # noqa: F401 (branches is a fixture)


def first_use(cloud, code: str) -> str | None:
    with cloud.store.db.read() as conn:
        return conn.execute(select(coupon_table.c.used_key).where(coupon_table.c.code == code)).scalar()


def test_a_coupon_used_offline_at_its_kiosk_and_online_elsewhere_is_listed_with_both_uses(cloud, branches, console):
    a, b = branches("kiosk-a", "tehran-01"), branches("kiosk-b", "shiraz-02")
    sara = sara_at(a)
    code = coupons.redeem(a.service, sara, "coffee").code
    a.sync()
    b.tap()
    a.service.link = "offline"
    a.pay(100_000, "A-1", coupon_code=code, use_points=False)  # its own ledger decides offline
    b.pay(100_000, "B-1", coupon_code=code, use_points=False)  # the chain does not know yet: B claims it
    b.sync()
    admin = console("admin")
    assert "No coupon was used twice." in admin.get("/coupons/used-twice?lang=en").text
    a.service.link = "online"
    a.sync()
    assert first_use(cloud, code) == "B-1"  # the first use the chain heard of stays the coupon's use

    page = admin.get("/coupons/used-twice?lang=en")
    assert page.status_code == 200 and f'data-coupon="{code}"' in page.text
    row = page.text.split(f'data-coupon="{code}"', 1)[1].split("</tr>", 1)[0]
    assert "shiraz-02" in row.split('data-use="first"', 1)[1].split("</td>", 1)[0]
    assert "A-1" in row.split('data-use="again"', 1)[1] and "tehran-01" in row.split('data-use="again"', 1)[1]
    assert 'href="/coupons/used-twice"' in page.text  # in the console's menu
    persian = admin.get("/coupons/used-twice?lang=fa").text
    assert "کوپن‌های دوبار مصرف‌شده" in persian and code in persian
    assert code in console("tehran-manager").get("/coupons/used-twice").text  # issued at the manager's branch

    # B's void gives its use back: A's use, which did take place, becomes the coupon's use, and the flag goes.
    b.flows.till.void("B-1")
    b.sync()
    assert first_use(cloud, code) == "A-1"
    assert f'data-coupon="{code}"' not in admin.get("/coupons/used-twice?lang=en").text


def test_the_list_of_coupons_used_twice_needs_a_console_login(cloud, console):
    anonymous = console(None).get("/coupons/used-twice")
    assert anonymous.status_code in (302, 401) and "login" in anonymous.headers.get("Location", "/login")
