"""The kiosk screen blueprint: the page and the health check."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template

from web.localize import JALALI_MONTHS

blueprint = Blueprint("screen", __name__)


@blueprint.get("/")
def index() -> str:
    settings = current_app.config["KIOSK_SETTINGS"]
    service = current_app.extensions["kiosk_service"]
    today = service.now().date()
    return render_template(
        "kiosk.html",
        idle_timeout_s=settings.web.idle_timeout_s,
        staff_timeout_s=settings.staff.timeout_s,
        default_lang=settings.web.language,
        calendar=settings.web.calendar,
        branding=settings.branding,
        transports=current_app.config["KIOSK_SOCKET_TRANSPORTS"],
        sms_otp=settings.enrollment.sms_otp,
        jalali_months=JALALI_MONTHS,
        this_year=today.year,
        consent_version=settings.members.consent_version,
        link=service.link,
    )


@blueprint.get("/healthz")
def healthz():
    service = current_app.extensions["kiosk_service"]
    return jsonify(service.health())
