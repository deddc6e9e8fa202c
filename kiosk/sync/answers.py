"""Pure checks that a reply from "the cloud" is a protocol answer and not something else that answered.

A captive portal, a proxy's error page or a wrong URL answers too: 200 with HTML, a redirect, JSON of the
wrong shape, a body cut short. Each of these is a MalformedAnswer with a reason a technician can act on,
never a traceback and never a success.
"""

from __future__ import annotations

import json
from typing import Any

from kiosk.sync.errors import MalformedAnswer

# Statuses below 400 the protocol uses: 200 answers, 201 a registration, 202 a queued code, 304 an unchanged config.
PROTOCOL_STATUSES = frozenset({200, 201, 202, 304})


def check_status(status: int, location: str | None) -> None:
    """Refuse a status below 400 that the protocol never sends (redirects above all: requests never follows)."""
    if status in PROTOCOL_STATUSES or status >= 400:
        return
    if 300 <= status < 400:
        where = f" to {location}" if location else ""
        raise MalformedAnswer(f"the cloud URL answered a redirect (HTTP {status}){where}, not the protocol; "
                              "a captive portal or a wrong cloud.url?", status=status)
    raise MalformedAnswer(f"the cloud answered HTTP {status}, which the protocol never sends", status=status)


def decode_json(body: bytes, *, status: int, content_type: str, what: str) -> Any:
    """The JSON document in ``body``, or MalformedAnswer naming what came instead."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError):
        pass
    kind = content_type.split(";", 1)[0].strip() or "no content type"
    hint = "an HTML page (a captive portal or proxy?)" if b"<html" in body[:512].lower() or "html" in kind \
        else f"{len(body)} bytes of {kind} that are not JSON (cut short?)"
    raise MalformedAnswer(f"the cloud's {what} (HTTP {status}) is {hint}", status=status)


def require_object(document: Any, what: str, *, status: int = 200) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise MalformedAnswer(f"the cloud's {what} is a JSON {type(document).__name__}, not an object",
                              status=status)
    return document


def match_results(document: Any, event_ids: list[str]) -> dict[str, dict[str, Any]]:
    """A batch reply's results by event id: every sent event named exactly once, nothing else.

    Results are never matched by position: a reply that does not name its events cannot be trusted
    to be about them.
    """
    reply = require_object(document, "batch reply")
    results = reply.get("results")
    if not isinstance(results, list):
        raise MalformedAnswer('the cloud\'s batch reply has no "results" list', status=200)
    by_id: dict[str, dict[str, Any]] = {}
    for result in results:
        if not isinstance(result, dict) or not isinstance(result.get("event_id"), str):
            raise MalformedAnswer("the cloud's batch reply has a result that names no event; will resend",
                                  status=200)
        if result["event_id"] in by_id:
            raise MalformedAnswer(f"the cloud's batch reply answers event {result['event_id']} twice; will resend",
                                  status=200)
        by_id[result["event_id"]] = result
    sent = set(event_ids)
    if set(by_id) != sent:
        missing, extra = len(sent - set(by_id)), len(set(by_id) - sent)
        raise MalformedAnswer(f"the cloud's batch reply leaves out {missing} sent events and names {extra} "
                              "others; will resend", status=200)
    return by_id
