"""The console's text campaigns (issue 13): audience, texts in fa/ar/en, count and cost, send now or schedule.

The page only drives cloud.messages: the preview is cloud.messages.campaigns.preview (what
`kiosk-cloud messages campaign` prints), and a send is saved by cloud.messages.scheduled, which queues it at
once ("now") or at the next `kiosk-cloud jobs run` after its time. Admins and marketers only; every change
is in the audit log.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.engine import Engine

from cloud.console import sessions
from cloud.console.views import CHAIN_ROLES
from cloud.messages import campaigns, scheduled
from cloud.messages.audiences import parse_phones, tier_names
from cloud.messages.contacts import import_enrolments
from cloud.messages.queue import MessageQueue
from cloud.messages.settings import CAMPAIGN_VARIABLES, LANGUAGES, MessageSettings
from cloud.names import ascii_digits
from kiosk.rules.segments import SEGMENTS

AUDIENCES = ("segment", "tier", "members", "phones")


def campaign_from_form(form: Any) -> campaigns.Campaign:
    """The campaign the form describes, or BadCampaign saying what to fix."""
    kind = form.get("audience", "")
    if kind not in AUDIENCES:
        raise campaigns.BadCampaign("choose who gets it: a segment, a tier, members or phone numbers")
    texts = {lang: form.get(f"text_{lang}", "").strip() for lang in LANGUAGES}
    texts = {lang: text for lang, text in texts.items() if text}
    listed = [item for line in form.get("list", "").splitlines() for item in line.split(",") if item.strip()]
    phones: list[str] = []
    if kind == "phones":
        phones, bad = parse_phones(listed)
        if bad:
            raise campaigns.BadCampaign(f"not mobile numbers: {', '.join(bad)}")
    return campaigns.Campaign(
        form.get("name", "").strip(), texts,
        segment=form.get("segment") if kind == "segment" else None,
        tier=form.get("tier", "") if kind == "tier" else None,
        member_ids=tuple(m.strip() for m in listed) if kind == "members" else (), phones=tuple(phones),
        coupon=form.get("coupon", "").strip() or None)


def send_time(form: Any, settings: MessageSettings, now: datetime) -> datetime | None:
    """None for "now", else the form's local date and time in the chain's zone; BadCampaign if unusable."""
    if form.get("when", "now") == "now":
        return None
    raw = ascii_digits(form.get("send_at", "")).strip()
    try:
        at = datetime.fromisoformat(raw).replace(tzinfo=settings.zone)
    except ValueError:
        raise campaigns.BadCampaign("give the date and time to send at, like 2026-03-20T10:00") from None
    if at <= now:
        raise campaigns.BadCampaign("that time has passed: choose a later one or send now")
    return at


def blueprint(engine: Engine, settings: MessageSettings, clock: Callable[[], datetime]) -> Blueprint:
    pages = Blueprint("message_campaigns", __name__)
    queue = MessageQueue(engine, settings, clock=clock)

    def page(form: dict[str, Any], *, preview: campaigns.Preview | None = None, error: str | None = None,
             status: int = 200) -> Any:
        return render_template("console/message_campaigns.html", form=form, preview=preview, error=error,
                               saved=scheduled.listing(engine), segments=SEGMENTS, tiers=tier_names(engine),
                               audiences=AUDIENCES, variables=sorted(CAMPAIGN_VARIABLES), zone=settings.zone.key,
                               price=settings.cost_per_part_rial), status

    @pages.get("/messages/campaigns")
    @sessions.login_required(*CHAIN_ROLES)
    def compose() -> Any:
        return page({"audience": "segment", "when": "now"})

    @pages.post("/messages/campaigns")
    @sessions.login_required(*CHAIN_ROLES)
    def act() -> Any:
        form = request.form.to_dict()
        now = clock()
        try:
            campaign = campaign_from_form(request.form)
            at = send_time(request.form, settings, now)
            import_enrolments(engine)  # count today's members, as the CLI does
            if request.form.get("action") != "send":
                shown = campaigns.preview(engine, campaign, settings, now, settings.cost_per_part_rial, at)
                return page(form, preview=shown)
            campaign_id = scheduled.save(engine, campaign, at or now, actor=g.user.username, now=now)
        except campaigns.BadCampaign as exc:
            return page(form, error=str(exc), status=422)
        if at is None:
            queued = scheduled.queue_due(engine, queue, settings, now, only=campaign_id)
            flash(_("Campaign %(name)s: %(n)s messages queued; they go out with the next send of the queue.",
                    name=campaign.name, n=str(queued)))
        else:
            flash(_("Campaign %(name)s is scheduled; the jobs run after its time queues it.", name=campaign.name))
        return redirect(url_for("message_campaigns.compose"))

    @pages.post("/messages/campaigns/<int:campaign_id>/cancel")
    @sessions.login_required(*CHAIN_ROLES)
    def cancel(campaign_id: int) -> Any:
        if scheduled.cancel(engine, campaign_id, actor=g.user.username, now=clock()):
            flash(_("The campaign is cancelled; nobody was texted."))
        else:
            flash(_("The campaign was queued already, or cancelled: nothing changed."))
        return redirect(url_for("message_campaigns.compose"))

    return pages


def blueprint_for(db: Any, settings_path: Path | None, clock: Callable[[], datetime]) -> Blueprint:
    """The pages over the cloud database `db`, with the message settings file (None: the built-in ones)."""
    from cloud.messages.cli import engine_for
    from cloud.messages.settings import load_settings

    return blueprint(engine_for(db), load_settings(settings_path), clock)
