"""The console's draws and games: create a draw (its seed hash is shown at once), run it after it closes,
publish what anyone needs to verify it; create an instant-win game with its prize budget and watch its use."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from cloud import allocations, draws, engagement
from cloud.console import sessions
from cloud.errors import BadConfig
from cloud.names import ascii_digits
from cloud.store import CloudStore

CHAIN_ROLES = ("admin", "marketer")


def _whole(name: str, *, optional: bool = False) -> int | None:
    raw = ascii_digits(request.form.get(name, "")).strip()
    if optional and not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise BadConfig(f"{name.replace('_', ' ')} must be a whole number") from None


def _moment(name: str) -> datetime:
    try:
        return datetime.fromisoformat(request.form.get(name, "")).replace(tzinfo=timezone.utc)
    except ValueError:
        raise BadConfig(f"{name.replace('_', ' ')} must be a date and time (UTC)") from None


def blueprint(store: CloudStore) -> Blueprint:
    pages = Blueprint("draws_games", __name__)
    login_required = sessions.login_required

    def page(error: str | None = None, status: int = 200) -> Any:
        now = store.clock()
        with store.db.read() as conn:
            listed, games = draws.listing(conn, now), engagement.listing(conn, now)
        return render_template("console/engagement.html", draws=listed, games=games, error=error,
                               form=request.form, zones=allocations.time_zones(),
                               default_zone=allocations.DEFAULT_ZONE), status

    @pages.get("/draws")
    @login_required(*CHAIN_ROLES)
    def overview() -> Any:
        return page()

    @pages.post("/draws")
    @login_required(*CHAIN_ROLES)
    def create_draw() -> Any:
        try:
            with store.db.write() as conn:
                draws.create(conn, draw_id=request.form.get("draw_id", "").strip(), name=request.form.get("name", ""),
                             prizes=request.form.get("prizes", "").splitlines(), price_points=_whole("price_points"),
                             free_per_purchase=_whole("free_per_purchase", optional=True) or 0,
                             starts_at=_moment("starts_at"), ends_at=_moment("ends_at"), actor=g.user.username,
                             now=store.clock())
        except BadConfig as exc:
            return page(str(exc), 422)
        flash(_("Draw saved; its seed hash is published to the kiosks at their next sync."))
        return redirect(url_for("draws_games.overview"))

    @pages.post("/draws/<draw_id>/run")
    @login_required(*CHAIN_ROLES)
    def run_draw(draw_id: str) -> Any:
        try:
            with store.db.write() as conn:
                winners = draws.run(conn, draw_id, actor=g.user.username, now=store.clock())
        except BadConfig as exc:
            return page(str(exc), 409)
        flash(_("Draw run: %(n)s winners.", n=len(winners)))
        return redirect(url_for("draws_games.overview"))

    @pages.get("/draws/<draw_id>/published.json")
    @login_required()
    def published(draw_id: str) -> Any:
        try:
            with store.db.read() as conn:
                document = draws.published(conn, draw_id, store.clock())
        except BadConfig:
            abort(404)
        return Response(json.dumps(document, ensure_ascii=False, indent=2), mimetype="application/json",
                        headers={"Content-Disposition": f'attachment; filename="draw-{draw_id}.json"'})

    @pages.post("/games")
    @login_required(*CHAIN_ROLES)
    def create_game() -> Any:
        try:
            odds = [{"reward_id": request.form.get("reward_id", "").strip(), "chance": _whole("chance")}]
            with store.db.write() as conn:
                engagement.create_game(conn, game_id=request.form.get("game_id", "").strip(),
                                       name=request.form.get("game_name", ""), cost_points=_whole("cost_points"),
                                       odds=odds, daily_limit=_whole("daily_limit", optional=True),
                                       total_limit=_whole("total_limit", optional=True),
                                       per_kiosk=_whole("per_kiosk"), lease_minutes=_whole("lease_minutes"),
                                       earn_over_rial=_whole("earn_over_rial", optional=True),
                                       # The budget's day: a form without the field keeps the chain's default.
                                       time_zone=request.form.get("time_zone", allocations.DEFAULT_ZONE).strip(),
                                       actor=g.user.username, now=store.clock())
        except BadConfig as exc:
            return page(str(exc), 422)
        flash(_("Game saved; kiosks get it and their prize allocation at their next sync."))
        return redirect(url_for("draws_games.overview"))

    return pages
