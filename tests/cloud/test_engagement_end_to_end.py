"""End to end on loopback, in Debian's chromium at 800x480 in Persian: a shopper answers a survey offered on the
balance screen, files a complaint and later follows it, against a real kiosk (emulated reader, sync thread, web
server) and a real cloud; staff answer in the cloud and the console shows results and the queue by role."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cloud import complaints
from cloud.db.schema import complaints as complaint_rows
from cloud.db.schema import survey_answers
from tests.cloud.conftest import SYNC_WAIT_S
from tests.cloud.test_console_browser import log_in
from tests.conftest import kioskctl, save_screenshot, socket_connected, wait_until

pytestmark = pytest.mark.browser
UID = "0A1B2C3D4E"
SURVEY = {"id": "service", "title": {"fa": "نظر شما", "en": "Your opinion"}, "reward_points": 20,
          "target": {"kind": "all"},
          "questions": [{"id": "q1", "type": "stars", "text": {"fa": "از خدمات ما چقدر راضی بودید؟"}},
                        {"id": "q2", "type": "yes_no", "text": {"fa": "باز هم می‌آیید؟"}}]}
CONFIG = {"rules": {"expiry_days": 0}, "tiers": [{"name": "bronze", "min_points": 0, "multiplier_percent": 100}],
          "rewards": [], "campaigns": [], "surveys": [SURVEY],
          "complaint_subjects": [{"id": "service", "name": {"fa": "برخورد کارکنان"},
                                  "texts": [{"fa": "صف صندوق خیلی طولانی بود"}]}]}


@pytest.fixture
def kiosk(cloud, tmp_path: Path):
    rt, config = cloud.start_kiosk(tmp_path / "kiosk", {"chain_secret": "cd" * 32}, config=CONFIG, language="fa",
                                   idle_timeout_s=30)
    try:
        wait_until(lambda: rt.service.surveys, timeout_s=SYNC_WAIT_S,
                   what="the kiosk to pull the surveys with its config")
        wait_until(lambda: rt.service.reader_status.get("counter"), what="the emulated reader")
        member = rt.service.enroll("+989121234567", "سارا")
        rt.service.bind(member.id, "rfid125", UID)
        yield rt
    finally:
        rt.close()
    assert kioskctl(config, "verify").returncode == 0


def fits(page) -> None:
    """No scrolling at 800x480, and every visible button of the screen at least 48 px each way."""
    assert page.evaluate("document.documentElement.scrollHeight <= window.innerHeight + 1")
    small = page.evaluate("""Array.from(document.querySelectorAll('#stage button, #attract button'))
        .filter(b => b.offsetParent !== null).map(b => b.getBoundingClientRect())
        .filter(r => r.width < 48 || r.height < 48).length""")
    assert small == 0


def count(cloud, table, *where) -> int:
    with cloud.store.db.read() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_shopper_answers_a_survey_files_a_complaint_and_follows_it_at_800x480_in_persian(cloud, kiosk, browser):
    context = browser.new_context(viewport={"width": 800, "height": 480})
    page = context.new_page()
    try:
        page.goto(kiosk.url + "?lang=fa")
        socket_connected(page)
        member_id = kiosk.service.store.member_by_phone("+989121234567").id
        before = kiosk.service.store.balance(member_id).points  # the enrolment bonus
        kiosk.emulators["counter"].tap(UID)
        page.wait_for_selector(".survey-offer")  # offered after the balance is painted, never before it
        assert page.inner_text(".survey-offer") == "نظرسنجی کوتاه: ۲۰+ امتیاز"
        fits(page)
        page.click(".survey-offer")
        page.wait_for_selector("#stage[data-screen=t-survey-q]")
        assert page.inner_text(".survey-step") == "پرسش ۱ از ۲"
        fits(page)
        page.click("button[data-stars='5']")
        page.click(".survey-answer button >> text=بله")
        page.wait_for_selector("#stage[data-tone=ok]")
        assert "۲۰ امتیاز به کارت شما اضافه شد." in page.inner_text("#stage")
        assert kiosk.service.store.balance(member_id).points == before + 20
        wait_until(lambda: count(cloud, survey_answers) == 1, timeout_s=SYNC_WAIT_S,
                   what="the answer to reach the cloud")
        page.click("#stage [data-action=done]")

        page.click("#attract [data-action=complaint]")
        for digit in "09121234567":
            page.click(f".keypad .key[data-key='{digit}']")
        page.click("[data-action=complaint-phone-next]")
        page.click(".subjects button >> text=برخورد کارکنان")
        page.wait_for_selector("#stage[data-screen=t-complaint-text]")
        fits(page)
        page.click(".picked-texts button")
        for key in ("back", "back", "back", " ", "پ"):  # the picked text, edited on the on-screen keyboard
            page.click(f".keyboard .key[data-key='{key}']")
        assert page.inner_text(".counter") == "۲۳ / ۱٬۰۰۰"
        page.click("[data-action=complaint-send]")
        page.wait_for_selector("#stage[data-screen=t-complaint-code]")
        fits(page)
        code = page.inner_text(".tracking-code")
        assert len(code) == 11 and code[5] == "-"
        save_screenshot(page, "engagement-complaint-code-fa")
        wait_until(lambda: count(cloud, complaint_rows) == 1, timeout_s=SYNC_WAIT_S,
                   what="the complaint to reach the cloud")
        case = complaints.case(cloud.store.db, code)
        assert case.text == "صف صندوق خیلی طولانی پ" and case.phone_e164 == "+989121234567"
        complaints.change(cloud.store.db, case.code, state="answered", answer="<b>ببخشید</b>؛ صندوق دوم باز شد.",
                          actor="tehran-manager", now=cloud.clock())
        page.click("#stage [data-action=done]")

        page.click("#attract [data-action=track]")
        for ch in code.lower():
            page.click(f".keyboard .key[data-key='{ch}']")
        page.click("[data-action=track-code-next]")
        for digit in "4567":
            page.click(f".keypad .key[data-key='{digit}']")
        page.click("[data-action=track-lookup]")
        page.wait_for_selector("#stage[data-screen=t-track-result]")
        fits(page)
        assert page.inner_text(".case-state") == "پاسخ داده شد"
        assert page.inner_text(".case-answer p") == "<b>ببخشید</b>؛ صندوق دوم باز شد."  # shown as text, not HTML
        assert page.locator(".case-answer b").count() == 0
        save_screenshot(page, "engagement-track-result-fa")
        page.click("#stage [data-action=done]")

        page.click("#attract [data-action=track]")  # a wrong phone gets the same "no match" as a wrong code
        for ch in code.lower():
            page.click(f".keyboard .key[data-key='{ch}']")
        page.click("[data-action=track-code-next]")
        for digit in "0000":
            page.click(f".keypad .key[data-key='{digit}']")
        page.click("[data-action=track-lookup]")
        page.wait_for_selector("#stage[data-screen=t-notice]")
        assert "درخواستی با این کد و شماره تلفن پیدا نشد" in page.inner_text("#stage")
    finally:
        context.close()
    assert json.loads(cloud.store.config("tehran-01").body)["surveys"][0]["id"] == "service"


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_console_shows_survey_results_to_a_marketer_and_the_complaint_queue_to_a_branch_manager(cloud, console,
                                                                                                 page):
    from tests.cloud.test_engagement_cloud import BASE, FORM, answers, file

    cloud.store.set_config("tehran-01", BASE)
    assert console("marketer").post("/surveys/edit", FORM, csrf_from="/surveys/edit").status_code == 302
    answers(cloud, "tehran-01", [("m-ali", {"q1": 5, "q4": "خیلی خوب"}, __import__("datetime").timedelta(0))])
    file(cloud, "tehran-01", "ABCDE12345")
    file(cloud, "shiraz-02", "SHRZ012345", phone="+989351110003")

    log_in(page, cloud, "marketer")
    page.click("header nav a >> text=نظرسنجی‌ها")
    page.click("table.surveys a >> text=نتایج")
    page.wait_for_selector("table.results[data-branch=tehran-01]")
    assert page.inner_text("table.results tr[data-question=q1] td.average") == "۵٫۰"
    assert "خیلی خوب" in page.inner_text("table.results tr[data-question=q4]")
    save_screenshot(page, "console-survey-results-fa")
    page.click("text=خروج")

    log_in(page, cloud, "tehran-manager")
    page.click("header nav a >> text=شکایت‌ها")
    page.wait_for_selector("table.complaints")
    rows = page.locator("table.complaints tbody tr").all_inner_texts()
    assert len(rows) == 1 and "ABCDE-12345" in rows[0]
    page.click("table.complaints a")
    page.fill("textarea[name=answer]", "پیگیری شد")
    page.select_option("select[name=state]", "answered")
    page.click("form.answer button[type=submit]")
    page.wait_for_selector("p.flash")
    assert page.locator("table.history tbody tr").count() == 2
    assert page.inner_text("dd.state") == "پاسخ داده شده"
