"""The console's pages: login, overview and fleet, members, segments, users."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from typing import Any, Callable

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import get_locale, gettext as _

from cloud import analytics, audit, fleet
from cloud import campaigns as campaign_setup
from cloud import members as member_queries
from cloud.console import localize, sessions
from cloud.errors import BadConfig
from cloud.names import ascii_digits as localize_digits_to_ascii
from cloud.store import CloudStore
from cloud.users import LoginRefused, UserStore
from kiosk import protocol
from kiosk.rules.segments import SEGMENTS

CHAIN_ROLES = ("admin", "marketer")


def _safe_next(target: str | None) -> str:
    """Only a path on this site: a login link must not send anyone elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("console.overview")


def _digits(value: int) -> str:
    """A number inside a translated sentence, in the page language's digits."""
    return localize.number(value, str(get_locale()))


def _csv(name: str, header: list[str], rows: list[list[Any]]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def blueprint(store: CloudStore, users: UserStore, now_s: Callable[[], float], silent_after: timedelta,
              backlog_after: timedelta) -> Blueprint:
    console = Blueprint("console", __name__)
    login_required = sessions.login_required

    @console.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        error = None
        if request.method == "POST":
            try:
                user = users.login(request.form.get("username", ""), request.form.get("password", ""))
            except LoginRefused as exc:
                error = (_("Too many wrong passwords: try again in %(minutes)s minutes.",
                           minutes=_digits(max(1, exc.locked_for // 60))) if exc.locked_for
                         else _("This user is disabled.") if "disabled" in str(exc)
                         else _("Wrong user name or password."))
            else:
                sessions.start(user, now_s())
                return redirect(_safe_next(request.args.get("next")))
        return render_template("console/login.html", error=error), 401 if error else 200

    @console.post("/logout")
    def logout() -> Any:
        session.clear()
        return redirect(url_for("console.login"))

    @console.get("/")
    @login_required()
    def overview() -> str:
        devices = store.devices(g.user.branch_filter)
        now = store.clock()
        # Never seen counts from registration: a kiosk registered and never heard from again is silent too.
        silent = {d.device_id for d in devices
                  if now - protocol.parse_time(d.last_seen_at or d.registered_at) > silent_after}
        health = fleet.latest(store.db, (d.device_id for d in devices))
        return render_template("console/overview.html", devices=devices, counts=store.counts(), silent=silent,
                               silent_minutes=int(silent_after.total_seconds() // 60), health=health,
                               flagged=fleet.flagged(health, now, backlog_after), now=now,
                               backlog_minutes=int(backlog_after.total_seconds() // 60))

    @console.get("/members")
    @login_required()
    def members() -> str:
        query = request.args.get("q", "")
        found = member_queries.search(store.db, query, g.user.branch_filter) if query.strip() else []
        return render_template("console/members.html", query=query, found=found)

    @console.get("/members/<member_id>")
    @login_required()
    def member(member_id: str) -> Any:
        record = member_queries.record(store.db, member_id, store.clock())
        if record is None:
            abort(404)
        if not g.user.sees_branch(record.profile["branch"]):
            # The same refusal whether or not the member exists elsewhere in the chain.
            abort(403)
        return render_template("console/member.html", record=record)

    @console.post("/members/<member_id>/adjust")
    @login_required("admin", "branch_manager")
    def adjust(member_id: str) -> Any:
        """Add or take points with a reason; a branch manager only for members of their branches."""
        record = member_queries.record(store.db, member_id, store.clock())
        if record is None:
            abort(404)
        if not g.user.sees_branch(record.profile["branch"]):
            abort(403)
        try:
            points = int(localize_digits_to_ascii(request.form.get("points", "")))
        except ValueError:
            flash(_("Give the points as a whole number, for example 50 or -20."))
            return redirect(url_for("console.member", member_id=member_id))
        try:
            store.adjust(member_id, points, request.form.get("reason", ""), g.user.username)
        except BadConfig as exc:
            flash(str(exc))
        return redirect(url_for("console.member", member_id=member_id))

    @console.post("/members/<member_id>/cards/<card_ref>")
    @login_required("admin", "branch_manager")
    def card_state(member_id: str, card_ref: str) -> Any:
        """Block, mark lost or re-activate one of the member's cards."""
        record = member_queries.record(store.db, member_id, store.clock())
        if record is None or card_ref not in {c["card_ref"] for c in record.cards}:
            abort(404)
        if not g.user.sees_branch(record.profile["branch"]):
            abort(403)
        try:
            store.set_card_state(card_ref, request.form.get("state", ""), g.user.username)
        except BadConfig as exc:
            flash(str(exc))
        return redirect(url_for("console.member", member_id=member_id))

    @console.post("/members/<member_id>/cards/<card_ref>/move")
    @login_required("admin", "branch_manager")
    def card_move(member_id: str, card_ref: str) -> Any:
        """Give one of the member's cards to another member (a branch manager: between their branches' members)."""
        record = member_queries.record(store.db, member_id, store.clock())
        if record is None or card_ref not in {c["card_ref"] for c in record.cards}:
            abort(404)
        target = request.form.get("to", "").strip()
        if not g.user.sees_branch(record.profile["branch"]) or (
                store.member_branch(target) is not None and not g.user.sees_branch(store.member_branch(target))):
            abort(403)
        try:
            store.move_card(card_ref, target, g.user.username)
        except BadConfig as exc:
            flash(str(exc))
            return redirect(url_for("console.member", member_id=member_id))
        flash(_("The card now belongs to %(member)s.", member=target))
        return redirect(url_for("console.member", member_id=target))

    @console.get("/members/<member_id>/consent.json")
    @login_required()
    def consent(member_id: str) -> Any:
        """The member's consent record, as a download for a data-protection request."""
        record = member_queries.record(store.db, member_id, store.clock())
        if record is None:
            abort(404)
        if not g.user.sees_branch(record.profile["branch"]):
            abort(403)
        body = {"member_id": member_id, "phone_e164": record.profile["phone_e164"], "name": record.profile["name"],
                "enrolled_at": record.profile["enrolled_at"], "branch": record.profile["branch"],
                "consent": record.consent}
        return Response(json.dumps(body, ensure_ascii=False, indent=2), mimetype="application/json",
                        headers={"Content-Disposition": f'attachment; filename="consent-{member_id}.json"'})

    @console.get("/members.csv")
    @login_required()
    def members_csv() -> Response:
        found = member_queries.search(store.db, request.args.get("q", ""), g.user.branch_filter)
        return _csv("members.csv", ["member_id", "name", "phone", "branch", "enrolled_at", "points"],
                    [[m["member_id"], m["name"], m["phone_e164"], m["branch"], m["enrolled_at"], m["points"] or 0]
                     for m in found])

    @console.get("/segments")
    @login_required()
    def segments() -> str:
        return render_template("console/segments.html", view=analytics.overview(store.db, g.user.branch_filter))

    @console.get("/segments/top.csv")
    @login_required()
    def top_csv() -> Response:
        view = analytics.overview(store.db, g.user.branch_filter)
        return _csv("top-customers.csv",
                    ["member_id", "name", "phone", "branch", "spend_rial", "purchases", "recency_days",
                     "segment", "value_class"],
                    [[t["member_id"], t["name"], t["phone_e164"], t["branch"], t["monetary"], t["frequency"],
                      t["recency_days"], t["segment"], t["value_class"]] for t in view.top])

    @console.post("/segments/recompute")
    @login_required(*CHAIN_ROLES)
    def recompute() -> Any:
        run = analytics.recompute_audited(store.db, store.clock(), g.user.username)
        flash(_("Segments recomputed for %(n)s members.", n=_digits(run.members)))
        return redirect(url_for("console.segments"))

    @console.route("/campaigns", methods=["GET", "POST"])
    @login_required(*CHAIN_ROLES)
    def campaigns() -> Any:
        """List every branch's campaigns; POST with action=preview counts who a target reaches, action=save saves."""
        branches = store.branches()
        form: dict[str, Any] = {"branch": request.values.get("branch", branches[0] if branches else "")}
        result, error, status = None, None, 200
        if request.method == "POST":
            form = request.form.to_dict()
            branch = form.get("branch", "")
            try:
                if branch not in branches:
                    raise BadConfig(f"unknown branch {branch!r}")
                item = campaign_setup.campaign_from_form(request.form)
                if request.form.get("action") == "save":
                    saved = campaign_setup.save(store, branch, item, g.user.username)
                    flash(_("Campaign %(id)s saved for %(branch)s; its kiosks get it at their next config pull.",
                            id=item["id"], branch=branch))
                    return redirect(url_for("console.campaigns", branch=saved.branch))
                result = campaign_setup.preview(store, branch, item, store.clock())
            except BadConfig as exc:
                error, status = str(exc), 422
        listed = [(b, (campaign_setup.branch_document(store, b) or {}).get("campaigns", [])) for b in branches]
        return render_template("console/campaigns.html", branches=branches, listed=listed, form=form,
                               preview=result, error=error, segments=SEGMENTS), status

    @console.get("/users")
    @login_required("admin")
    def user_list() -> str:
        return render_template("console/users.html", users=users.all(), log=audit.recent(store.db, 50))

    return console
