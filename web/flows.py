"""What the web layer keeps beside the kiosk's built flows: the page's tokens and the last link state.

The flows themselves are built by the composition root (kiosk.flows.build_flows, called from
appliance.runtime) and handed to create_app; they live in ``app.extensions["kiosk_flows"]``.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app

from kiosk.clock import parse_iso
from kiosk.flows import KioskFlows, LastTap
from kiosk.flows.claims import TapClaims
from kiosk.flows.enrollment import Enrollment
from kiosk.flows.phone_codes import PhoneCodeService
from kiosk.flows.receipts import ReceiptDesk
from kiosk.flows.staff import PinLock, StaffDesk
from kiosk.flows.spending import TillDesk
from kiosk.flows.till import PosTill
from kiosk.service import KioskService
from kiosk.ui_events import UiEvent
from web.localize import format_all
from web.tokens import Tokens


# How long after a staff card tap the page may fetch the staff token.
STAFF_CARD_CLAIM_S = 10.0


@dataclass
class WebFlows:
    """The built flows as the blueprints see them, plus the tokens that stand for ids on the page."""

    core: KioskFlows
    tokens: Tokens
    link_status: dict[str, Any] = field(default_factory=dict)  # the sync worker's last link_state payload
    # The staff card just tapped, (staff id, monotonic deadline): the page fetches its token over HTTP, once.
    staff_card_entry: tuple[str, float] | None = None
    _entry_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def service(self) -> KioskService:
        return self.core.service

    @property
    def claims(self) -> TapClaims:
        return self.core.claims

    @property
    def enrollment(self) -> Enrollment:
        return self.core.enrollment

    @property
    def pos(self) -> PosTill:
        return self.core.pos

    @property
    def till(self) -> TillDesk:
        return self.core.till

    @property
    def receipts(self) -> ReceiptDesk:
        return self.core.receipts

    @property
    def desk(self) -> StaffDesk:
        return self.core.desk

    @property
    def pin_lock(self) -> PinLock:
        return self.core.pin_lock

    @property
    def last_tap(self) -> LastTap:
        return self.core.last_tap

    @property
    def codes(self) -> PhoneCodeService | None:
        return self.core.codes

    @property
    def screen_ttl_s(self) -> float:
        # A token outlives the idle timeout a little: the page clears itself first.
        settings = self.service.settings
        return max(settings.web.idle_timeout_s * 3, settings.enrollment.timeout_s * 3) + 30

    def observe(self, name: str, payload: dict[str, Any]) -> None:
        if name == UiEvent.LINK_STATE:
            self.link_status = dict(payload)
        if name == UiEvent.STAFF_ENTER:
            with self._entry_lock:
                self.staff_card_entry = (payload["staff_id"], time.monotonic() + STAFF_CARD_CLAIM_S)

    def take_staff_entry(self) -> str | None:
        """The staff id of a staff card tapped in the last few seconds, once; None otherwise."""
        with self._entry_lock:
            entry, self.staff_card_entry = self.staff_card_entry, None
        if entry is None or entry[1] < time.monotonic():
            return None
        return entry[0]

    def decorate(self, name: str, payload: dict[str, Any]) -> dict[str, Any]:
        """What the bridge adds before a payload leaves the server: sealed ids, localised dates."""
        payload = dict(payload)
        member_id = payload.pop("member_id", None)
        if member_id is not None:
            payload["session"] = self.tokens.seal("member", member_id)
        if "recent" in payload:
            calendar = self.service.settings.web.calendar
            payload["recent"] = [{**r, "dates": format_all(parse_iso(r["at"]), calendar)} for r in payload["recent"]]
        if "expiring" in payload:
            calendar = self.service.settings.web.calendar
            payload["expiring"] = [{**e, "dates": format_all(datetime.fromisoformat(e["on"] + "T12:00:00+00:00"), calendar)}
                                   for e in payload["expiring"]]
        if name == UiEvent.UNKNOWN_CARD:
            tap = self.last_tap.get()
            if tap is not None:
                payload["card"] = self.tokens.seal("card", [tap.card_ref, tap.tech, tap.label])
        if name == UiEvent.STAFF_ENTER:
            payload = {}  # not even who: the page asks for the token over its own session (take_staff_entry)
        return payload


def flows() -> WebFlows:
    return current_app.extensions["kiosk_flows"]
