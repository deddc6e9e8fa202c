"""The console's list of coupons used twice (issue 11): a kiosk's tills use its own coupons by its own ledger while
offline, so another till may have used one meanwhile. The cloud keeps every use (cloud/wallet.py); this
read-only page shows the coupon, its member, the first use and each later one, for staff to follow up."""

from __future__ import annotations

from flask import Blueprint, g, render_template
from flask_babel import get_locale

from cloud import wallet
from cloud.console import localize, sessions
from cloud.store import CloudStore


def blueprint(store: CloudStore) -> Blueprint:
    pages = Blueprint("wallet", __name__)

    @pages.get("/coupons/used-twice")
    @sessions.login_required()
    def used_twice() -> str:
        with store.db.read() as conn:
            rows = wallet.used_twice(conn, g.user.branch_filter)
        lang = str(get_locale())
        return render_template("console/coupons_used_twice.html", rows=rows,
                               moment=lambda at: localize.moment(at, lang))

    return pages
