"""The kiosk screen blueprint: the page and the health check."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template

blueprint = Blueprint("screen", __name__)


@blueprint.get("/")
def index() -> str:
    settings = current_app.config["KIOSK_SETTINGS"]
    return render_template("kiosk.html", idle_timeout_s=settings.web.idle_timeout_s)


@blueprint.get("/healthz")
def healthz():
    service = current_app.extensions["kiosk_service"]
    return jsonify(service.health())
