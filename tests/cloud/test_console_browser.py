"""What a console user sees in Debian's chromium: each role's pages, member search in Persian and Arabic, the chart."""

from __future__ import annotations

import pytest

from tests.cloud.conftest import PASSWORD
from tests.conftest import ARTIFACTS

pytestmark = pytest.mark.browser


def log_in(page, cloud, username: str, lang: str = "fa") -> None:
    page.goto(f"{cloud.url}/login?lang={lang}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form.login button[type=submit]")
    page.wait_for_selector("span.who")


def test_each_role_sees_its_own_menu_and_pages(console, cloud, page):
    log_in(page, cloud, "admin")
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.locator("header nav a").all_inner_texts() == ["شعبه‌ها و دستگاه‌ها", "اعضا", "بخش‌ها", "کاربران"]
    assert "shiraz-02" in page.inner_text("table.devices") and "tehran-01" in page.inner_text("table.devices")
    page.click("text=خروج")
    page.wait_for_selector("form.login")

    log_in(page, cloud, "marketer", "en")
    assert page.locator("header nav a").all_inner_texts() == ["Branches and devices", "Members", "Segments"]
    page.goto(f"{cloud.url}/users")
    assert page.inner_text("h1") == "You may not open this page."
    page.click("text=Log out")

    log_in(page, cloud, "tehran-manager", "ar")
    devices = page.inner_text("table.devices")
    assert "tehran-01" in devices and "shiraz-02" not in devices
    page.goto(f"{cloud.url}/members/m-sara")
    assert page.inner_text("h1") == "لا يحق لك فتح هذه الصفحة."


def test_a_marketer_finds_a_member_by_persian_and_by_arabic_spelling_and_opens_their_page(console, cloud, page):
    log_in(page, cloud, "marketer")
    for typed in ("یوسفی", "يوسفي"):
        page.goto(f"{cloud.url}/members")
        page.fill("input[name=q]", typed)
        page.press("input[name=q]", "Enter")
        page.wait_for_selector("table.members")
        assert page.locator("table.members tbody tr").all_inner_texts()[0].startswith("زهرا يوسفي")
    page.click("table.members a")
    page.wait_for_selector("dl.profile")
    assert page.inner_text("dd.balance") == "۱۰۰ امتیاز"
    assert page.locator("table.ledger tbody tr").count() == 2


def test_the_segments_page_draws_the_top_customers_chart_after_a_recompute(console, cloud, page):
    log_in(page, cloud, "marketer")
    page.goto(f"{cloud.url}/segments")
    page.click("text=همین حالا دوباره حساب کن")
    page.wait_for_selector("svg.chart")
    assert page.locator("svg.chart rect").count() == 1
    assert "۹۲٫۲٪" in page.inner_text("p.top-share")
    assert page.locator("table.segments tr[data-segment]").count() >= 2
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1100, "height": 800})
    page.screenshot(path=str(ARTIFACTS / "console-segments.png"), full_page=True)
