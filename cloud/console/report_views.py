"""The console's reports: the weekly report and each campaign's results, as pages and as CSV downloads.

Read-only pages (GET; the weeks chooser is a GET form, so nothing here posts). A branch manager's pages and files
hold only their branches (the users' branch filter goes into every query).
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from typing import Any

import jdatetime
from flask import Blueprint, Response, abort, g, render_template, request
from flask_babel import get_locale

from cloud import campaign_results, reports
from cloud.console import localize, sessions
from cloud.names import ascii_digits
from cloud.store import CloudStore

DEFAULT_WEEKS = 8
BOM = "\ufeff"  # Excel reads a CSV as UTF-8 (Persian names, Jalali labels) only with it


def day_label(day: date, lang: str) -> str:
    """'۱۴۰۵/۰۲/۰۵' (Jalali) in fa and ar, '2026-04-25' in en."""
    if lang in localize.RTL:
        j = jdatetime.date.fromgregorian(date=day)
        return localize.digits(f"{j.year}/{j.month:02d}/{j.day:02d}", lang)
    return day.isoformat()


def week_label(starts_on: date, lang: str) -> str:
    return f"{day_label(starts_on, lang)} – {day_label(starts_on + timedelta(days=6), lang)}"


def csv_download(name: str, header: list[str], rows: list[list[Any]]) -> Response:
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return Response(out.getvalue().encode("utf-8"), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _weeks() -> int:
    raw = ascii_digits(request.args.get("weeks", "")).strip() or str(DEFAULT_WEEKS)
    if not raw.isdigit() or not 1 <= int(raw) <= reports.MAX_WEEKS:
        abort(400, f"weeks = {raw!r}: give a whole number from 1 to {reports.MAX_WEEKS}")
    return int(raw)


def blueprint(store: CloudStore) -> Blueprint:
    pages = Blueprint("reports", __name__)
    login_required = sessions.login_required

    def weekly_report() -> reports.Report:
        weeks = _weeks()
        with store.db.read() as conn:
            return reports.weekly(conn, store.clock(), weeks, g.user.branch_filter)

    @pages.get("/reports/weekly")
    @login_required()
    def weekly() -> str:
        report = weekly_report()
        lang = str(get_locale())
        return render_template("console/report_weekly.html", report=report, weeks=len(report.weeks),
                               label=lambda w: week_label(w.starts_on, lang))

    @pages.get("/reports/weekly.csv")
    @login_required()
    def weekly_csv() -> Response:
        report = weekly_report()
        lang = str(get_locale())
        header = ["week_start", "week", "branch", *reports.FIGURES, *(f"tier_{t}" for t in report.tier_names)]
        rows = [[r.week.starts_on.isoformat(), week_label(r.week.starts_on, lang), r.branch or "all",
                 *(r.figures[f] for f in reports.FIGURES), *(r.tiers.get(t, 0) for t in report.tier_names)]
                for r in report.rows]
        return csv_download(f"weekly-{report.weeks[-1].starts_on.isoformat()}.csv", header, rows)

    @pages.get("/reports/campaign-results")
    @login_required()
    def campaign_list() -> str:
        with store.db.read() as conn:
            listed = campaign_results.listing(conn, g.user.branch_filter)
        lang = str(get_locale())
        return render_template("console/campaign_results.html", campaigns=listed,
                               day=lambda d: day_label(d, lang))

    def campaign(campaign_id: str) -> tuple[campaign_results.Listed, list[campaign_results.Row]]:
        with store.db.read() as conn:
            found = campaign_results.results(conn, campaign_id, store.clock(), g.user.branch_filter)
        if found is None:
            abort(404)
        return found

    @pages.get("/reports/campaign-results/<campaign_id>")
    @login_required()
    def campaign_page(campaign_id: str) -> str:
        listed, rows = campaign(campaign_id)
        lang = str(get_locale())
        return render_template("console/campaign_result.html", campaign=listed, rows=rows,
                               figures=campaign_results.FIGURES, day=lambda d: day_label(d, lang))

    @pages.get("/reports/campaign-results/<campaign_id>.csv")
    @login_required()
    def campaign_csv(campaign_id: str) -> Response:
        listed, rows = campaign(campaign_id)
        header = ["campaign", "branch", "starts_on", "ends_on", *campaign_results.FIGURES]
        return csv_download(f"campaign-{listed.campaign_id}.csv", header, [
            [listed.campaign_id, r.branch or "all", r.starts_on.isoformat(), r.ends_on.isoformat(),
             *(r.figures[f] for f in campaign_results.FIGURES)] for r in rows])

    return pages
