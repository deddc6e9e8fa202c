"""The read-only member page a status link opens: GET /m/<code>, on a phone, nothing without a live link.

No remote content (inline style only, CSP default-src 'none'), no caching, no referrer; an unknown or
expired code gets the same 404 page as any other, so codes cannot be probed for members.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import jdatetime
import sqlalchemy as sa
from flask import Blueprint, Response, render_template_string
from sqlalchemy.engine import Engine

from cloud.messages import tables as t
from cloud.messages.links import member_for_link
from cloud.messages.rules import localise_digits
from cloud.messages.settings import LANGUAGES, MessageSettings

_POINTS = sa.text("SELECT points FROM balances WHERE member_id = :member_id")  # cloud/store.py's table

_WORDS = {
    "fa": {"points": "امتیاز شما", "until": "این پیوند تا {date} کار می‌کند.", "gone": "این پیوند معتبر نیست یا منقضی شده است."},
    "ar": {"points": "نقاطك", "until": "يعمل هذا الرابط حتى {date}.", "gone": "هذا الرابط غير صالح أو منتهي الصلاحية."},
    "en": {"points": "Your points", "until": "This link works until {date}.", "gone": "This link is not valid or has expired."},
}

_PAGE = """<!doctype html>
<html lang="{{ lang }}" dir="{{ 'rtl' if lang in ('fa', 'ar') else 'ltr' }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{{ club }}</title>
<style>body{font:18px system-ui,sans-serif;margin:1.5rem;color:#222}.n{font-size:2.4rem;font-weight:700}
.s{color:#666;font-size:.9rem}</style></head><body><h1>{{ club }}</h1>
{% if points is none %}<p>{{ words.gone }}</p>{% else %}
<p>{{ name }}</p><p>{{ words.points }}</p><p class="n">{{ points }}</p><p class="s">{{ until }}</p>{% endif %}
</body></html>
"""


def _headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _date(at: datetime, language: str, settings: MessageSettings) -> str:
    local = at.astimezone(settings.zone).date()
    text = jdatetime.date.fromgregorian(date=local).strftime("%Y/%m/%d") if language == "fa" else local.isoformat()
    return localise_digits(text, language)


def status_blueprint(engine: Engine, settings: MessageSettings, clock: Callable[[], datetime]) -> Blueprint:
    pages = Blueprint("member_status", __name__)

    @pages.get("/m/<code>")
    def member_status(code: str) -> Response:
        with engine.connect() as conn:
            found = member_for_link(conn, code, clock())
            contact = None if found is None else conn.execute(
                sa.select(t.contacts.c.first_name, t.contacts.c.language)
                .where(t.contacts.c.member_id == found[0])).first()
            points = None if contact is None else (conn.execute(_POINTS, {"member_id": found[0]}).scalar() or 0)
        if found is None or contact is None:
            lang = settings.default_language
            page = render_template_string(_PAGE, lang=lang, club=settings.club, words=_WORDS[lang], points=None)
            return _headers(Response(page, status=404, mimetype="text/html"))
        lang = contact.language if contact.language in LANGUAGES else settings.default_language
        page = render_template_string(
            _PAGE, lang=lang, club=settings.club, words=_WORDS[lang], name=contact.first_name,
            points=localise_digits(f"{points:,}", lang),
            until=_WORDS[lang]["until"].format(date=_date(found[1], lang, settings)))
        return _headers(Response(page, status=200, mimetype="text/html"))

    return pages
