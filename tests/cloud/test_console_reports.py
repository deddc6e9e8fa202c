"""The weekly report and the campaign results in the console over real HTTP: who sees which branches, the CSV
files Excel opens (UTF-8 with a BOM), and bad input answered clearly."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from kiosk import protocol
from cloud import reports
from cloud.users import UserStore
from tests.cloud.conftest import PASSWORD, console_members
from tests.cloud.test_console_campaigns import CONFIG


def rows_of(response) -> list[dict[str, str]]:
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_weekly_csv_has_a_row_per_branch_and_week_and_a_chain_wide_total(console, cloud):
    marketer = console("marketer")
    rows = rows_of(marketer.get("/reports/weekly.csv?weeks=10&lang=fa"))
    assert list(rows[0])[:5] == ["week_start", "week", "branch", "new_members", "active_members"]
    assert {r["branch"] for r in rows} == {"shiraz-02", "tehran-01", "all"} and len(rows) == 30
    assert rows[0]["week"].startswith("۱۴")  # a Jalali week label in fa
    assert sum(int(r["purchases"]) for r in rows if r["branch"] == "all") == 7  # console_members' purchases
    assert sum(int(r["purchases"]) for r in rows if r["branch"] != "all") == 7


def test_a_branch_manager_sees_only_their_branch_in_the_report_page_and_file(console, cloud):
    manager = console("tehran-manager")
    page = manager.get("/reports/weekly?lang=en")
    assert page.status_code == 200 and 'data-branch="tehran-01"' in page.text and "shiraz-02" not in page.text
    assert {r["branch"] for r in rows_of(manager.get("/reports/weekly.csv"))} == {"tehran-01", "all"}


def test_weeks_out_of_range_are_answered_400_with_the_limit(console, cloud):
    answer = console("marketer").get("/reports/weekly?weeks=99&lang=en")
    assert answer.status_code == 400 and "1 to 52" in answer.text


def test_the_reports_need_a_login(console, cloud):
    for path in ("/reports/weekly", "/reports/weekly.csv", "/reports/campaign-results",
                 "/reports/campaign-results/spring.csv"):
        assert console(None).get(path).status_code == 302


def test_a_campaign_that_a_kiosk_applied_shows_its_points_and_buyers_and_exports_them(console, cloud):
    today = cloud.clock().date()
    campaign = {"id": "spring", "name": "بهار دوبرابر", "starts_on": (today - timedelta(days=3)).isoformat(),
                "ends_on": (today + timedelta(days=3)).isoformat(), "earn_multiplier_percent": 200}
    cloud.store.set_config("tehran-01", {**CONFIG, "campaigns": [campaign]})
    cloud.store.set_config("shiraz-02", CONFIG)
    # An hour ago, but not before this chain week began (Saturday 00:00 in Tehran): weekly.csv?weeks=1 below is the
    # running week, and in a week's first hour an hour ago was last week (clean51 ran at 00:50 on a Saturday).
    now = cloud.clock()
    week_start = protocol.parse_time(reports.weeks_until(now, 1)[0].start)
    purchase = protocol.make_event("earn", "m-ali", max(now - timedelta(hours=1), week_start), points=20,
                                   amount=1_000_000, campaigns=[{"id": "spring", "points": 10}], cashback=5_000)
    with cloud.registered_client("tehran-01") as client:
        client.send_batch([json.dumps(purchase)])
    marketer = console("marketer")
    assert "بهار دوبرابر" in marketer.get("/reports/campaign-results").text
    page = marketer.get("/reports/campaign-results/spring?lang=en")
    assert page.status_code == 200 and 'data-figure="points_given">10<' in page.text
    rows = rows_of(marketer.get("/reports/campaign-results/spring.csv"))
    assert [(r["branch"], r["reached"], r["took_part"], r["points_given"], r["buyers"], r["spend_during"])
            for r in rows] == [("tehran-01", "2", "1", "10", "1", "1000000"), ("all", "2", "1", "10", "1", "1000000")]
    cashback = rows_of(marketer.get("/reports/weekly.csv?weeks=1"))
    assert {r["branch"]: r["cashback"] for r in cashback}["tehran-01"] == "5000"
    # The shiraz manager's branch does not run it: no such campaign for them.
    UserStore(cloud.store.db, cloud.clock).add("shiraz-manager", PASSWORD, "branch_manager", ["shiraz-02"])
    assert console("shiraz-manager").get("/reports/campaign-results/spring").status_code == 404


def test_a_malformed_applied_campaign_list_is_refused_and_nothing_of_it_is_kept(cloud):
    console_members(cloud)
    bad = {**protocol.make_event("earn", "m-ali", cloud.clock(), points=5, amount=50_000),
           "campaigns": [{"id": "spring", "points": -3}]}
    with cloud.registered_client("tehran-01") as client:
        results = client.send_batch([json.dumps(bad)]).results
    assert results[0]["status"] == protocol.REJECTED and "points" in results[0]["reason"]
    with cloud.store.db.read() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM event_campaigns").scalar() == 0
