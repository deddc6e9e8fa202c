"""The values a member's text is rendered with, in the member's language: one place for every sender."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection

from cloud.messages.links import CODE_LENGTH, create_link
from cloud.messages.rules import localise_digits, render, template_fields
from cloud.messages.settings import MessageSettings

LinkMaker = Callable[[str], str]


def link_maker(conn: Connection, settings: MessageSettings, now: datetime) -> LinkMaker:
    """Makes a fresh status link per member (only called for texts that use {link})."""
    valid_for = timedelta(days=settings.link_days)
    return lambda member_id: settings.status_url + create_link(conn, member_id, now, valid_for)


def preview_links(settings: MessageSettings) -> LinkMaker:
    """A link of the real length that stores nothing, for counting parts before sending."""
    return lambda _member_id: settings.status_url + "x" * CODE_LENGTH


def render_for(template: str, settings: MessageSettings, *, member_id: str | None, first_name: str, points: int,
               language: str, links: LinkMaker | None, extra: Mapping[str, str] | None = None) -> str:
    values = {"first_name": first_name, "club": settings.club, "points": localise_digits(str(points), language),
              **(extra or {})}
    if "link" in template_fields(template):
        if links is None or member_id is None:
            raise ValueError("a text with {link} needs a member and a link maker")
        values["link"] = links(member_id)
    return render(template, values)
