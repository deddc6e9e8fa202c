"""The weekly report in Debian's chromium at 1280x800, in Persian: the table and chart, and the CSV it downloads."""

from __future__ import annotations

import csv
import io

import pytest

from tests.cloud.test_console_browser import log_in
from tests.conftest import ARTIFACTS

pytestmark = pytest.mark.browser


def test_a_marketer_opens_the_weekly_report_in_persian_and_downloads_its_csv(console, cloud, browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    try:
        page = context.new_page()
        log_in(page, cloud, "marketer", "fa")
        page.click("header nav >> text=گزارش هفتگی")
        page.wait_for_selector("table.weekly")
        assert page.inner_text("h1") == "گزارش هفتگی"
        total = page.locator('table.weekly tr.total').last.inner_text()
        assert "همهٔ شعبه‌ها" in total and "۱۴" in total  # Jalali week label, Persian digits
        assert page.locator("svg.chart g.bar-row").count() == 8
        page.screenshot(path=str(ARTIFACTS / "console-weekly-report.png"), full_page=True)
        with page.expect_download() as caught:
            page.click("a.csv")
        download = caught.value
        raw = download.path().read_bytes()
        assert download.suggested_filename.startswith("weekly-") and raw.startswith(b"\xef\xbb\xbf")
        rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
        assert {r["branch"] for r in rows} == {"shiraz-02", "tehran-01", "all"}
        assert sum(int(r["purchases"]) for r in rows if r["branch"] == "all") > 0
    finally:
        context.close()
