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
    assert page.locator("header nav a").all_inner_texts() == ["شعبه‌ها و دستگاه‌ها", "اعضا", "بخش‌ها", "کمپین‌ها", "کمپین‌های پیامکی",
                                                           "نظرسنجی‌ها", "شکایت‌ها", "قرعه‌کشی و بازی", "تنظیمات باشگاه",
                                                           "گزارش هفتگی", "نتایج کمپین‌ها", "کوپن‌های دوبار مصرف‌شده",
                                                           "کاربران"]
    assert "shiraz-02" in page.inner_text("table.devices") and "tehran-01" in page.inner_text("table.devices")
    page.click("text=خروج")
    page.wait_for_selector("form.login")

    log_in(page, cloud, "marketer", "en")
    assert page.locator("header nav a").all_inner_texts() == ["Branches and devices", "Members", "Segments", "Campaigns",
                                                           "Text campaigns", "Surveys", "Complaints", "Draws and games",
                                                           "Club setup", "Weekly report", "Campaign results",
                                                           "Coupons used twice"]
    page.goto(f"{cloud.url}/users")
    assert page.inner_text("h1") == "You may not open this page."
    page.goto(f"{cloud.url}/setup/rules")
    assert page.inner_text("h1") == "Tiers and earn rules" and page.locator("form.rules button[type=submit]").count() == 0
    page.click("text=Log out")

    log_in(page, cloud, "tehran-manager", "ar")
    assert page.locator("header nav a").all_inner_texts() == ["الفروع والأجهزة", "الأعضاء", "الشرائح", "الاستطلاعات",
                                                           "الشكاوى", "التقرير الأسبوعي", "نتائج الحملات",
                                                           "قسائم استُخدمت مرتين"]
    devices = page.inner_text("table.devices")
    assert "tehran-01" in devices and "shiraz-02" not in devices
    page.goto(f"{cloud.url}/members/m-sara")
    assert page.inner_text("h1") == "لا يحق لك فتح هذه الصفحة."
    page.goto(f"{cloud.url}/setup/brand")
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


def test_a_marketer_previews_and_saves_a_campaign_in_the_browser(console, cloud, page):
    cloud.store.set_config("tehran-01", {"rules": {}, "tiers": [
        {"name": "bronze", "min_points": 0, "multiplier_percent": 100}], "rewards": [], "campaigns": []})
    log_in(page, cloud, "marketer", "en")
    page.goto(f"{cloud.url}/campaigns")
    page.select_option("select[name=branch]", "tehran-01")
    page.fill("input[name=id]", "nowruz")
    page.fill("input[name=name]", "Nowruz")
    page.fill("input[name=starts_on]", "2027-03-18")
    page.fill("input[name=ends_on]", "2027-03-25")
    page.fill("input[name=earn_multiplier_percent]", "150")
    page.click("button[value=preview]")
    assert "reaches 2 of the branch's 2 members" in page.inner_text("p.preview")
    page.click("button[value=save]")
    page.wait_for_selector("table.campaigns[data-branch=tehran-01]")
    assert "Nowruz" in page.inner_text("table.campaigns[data-branch=tehran-01]")
    assert '"nowruz"' in cloud.store.config("tehran-01").body
