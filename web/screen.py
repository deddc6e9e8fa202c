"""The kiosk screen blueprint: the page, the token its Socket.IO connection must show, and the health check."""
from __future__ import annotations

import ipaddress
from datetime import datetime, time
import secrets
from typing import Any, Mapping
from urllib.parse import urlsplit

from flask import Blueprint, current_app, jsonify, render_template, request, session
from flask_babel import get_locale

from web.flows import flows
from kiosk.attract import attract_offers
from web.brand import brand_for
from web.localize import JALALI_MONTHS, digits, format_date
from web.tokens import TokenError

# The page's socket token seals this session value: a token copied out of one session opens no other.
PAGE_NONCE = "page_socket"

blueprint = Blueprint("screen", __name__)


@blueprint.get("/")
def index() -> str:
    settings = current_app.config["KIOSK_SETTINGS"]
    service = current_app.extensions["kiosk_service"]
    today = service.now().date()
    calendar = settings.web.calendar
    lang = str(get_locale())
    offers = [{**o, "until": format_date(datetime.combine(o["ends_on"], time(12)), lang, calendar=calendar)
               if "ends_on" in o else "",
               "points_text": digits(str(o.get("points", "")), lang)}
              for o in attract_offers(service.campaigns, service.store.rewards(), service.local_today(), lang)]
    return render_template(
        "kiosk.html",
        idle_timeout_s=settings.web.idle_timeout_s,
        staff_timeout_s=settings.staff.timeout_s,
        enrol_timeout_s=settings.enrollment.timeout_s,
        default_lang=settings.web.language,
        calendar=settings.web.calendar,
        brand=brand_for(settings, service.branding, lang),
        transports=current_app.config["KIOSK_SOCKET_TRANSPORTS"],
        sms_otp=settings.enrollment.sms_otp,
        jalali_months=JALALI_MONTHS,
        this_year=today.year,
        consent_version=settings.members.consent_version,
        reader_position=settings.web.reader_position,
        digital_cards=settings.cards.digital_cards,
        offers=offers,
        link=service.link,
        socket_token=page_socket_token(),
    )


def page_socket_token() -> str:
    """A token for this page load, bound to the Flask session (the cookie the page's socket also sends)."""
    if PAGE_NONCE not in session:
        session[PAGE_NONCE] = secrets.token_urlsafe(24)
    return flows().tokens.seal("socket", session[PAGE_NONCE])


def is_loopback(address: str | None) -> bool:
    try:
        return address is not None and ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def same_origin(headers: Mapping[str, str], host_url: str) -> bool:
    """Did a browser page of this very server send the request?

    Origin, when present, must be this server's. Browsers leave Origin out of a same-origin GET (the
    Socket.IO handshake is one), and then Sec-Fetch-Site says "same-origin"; a request with neither did
    not come from a browser page at all.
    """
    origin = headers.get("Origin")
    if origin:
        mine = urlsplit(host_url)
        theirs = urlsplit(origin)
        return (theirs.scheme, theirs.netloc) == (mine.scheme, mine.netloc)
    return headers.get("Sec-Fetch-Site") == "same-origin"


def admits_socket(auth: Any) -> bool:
    """The connect handler's check: a loopback peer, same-origin, and this session's page token."""
    if not is_loopback(request.remote_addr) or not same_origin(request.headers, request.host_url):
        return False
    token = auth.get("token") if isinstance(auth, dict) else None
    try:
        # No age limit: the kiosk page stays open for days; the token dies with its session.
        nonce = flows().tokens.open("socket", token, None)
    except TokenError:
        return False
    return PAGE_NONCE in session and secrets.compare_digest(str(nonce), session[PAGE_NONCE])


@blueprint.get("/healthz")
def healthz():
    service = current_app.extensions["kiosk_service"]
    return jsonify(service.health())
