"""The kiosk flows the web layer drives, built once per app and kept in ``app.extensions["kiosk_flows"]``."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from kiosk import coupons
from kiosk.enrollment import Enrollment
from kiosk.phone_codes import PhoneCodes
from kiosk.pos import PosTill
from kiosk.receipt_claims import ReceiptDesk
from kiosk.service import CardTap, KioskService
from kiosk.staff import PinLock, StaffDesk
from kiosk.store import parse_iso
from kiosk.tap_claims import TapClaims
from web.localize import format_all
from web.tokens import Tokens


@dataclass
class LastTap:
    """The most recent tap nobody claimed, so "join with this card" can bind it without a second tap."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    tap: CardTap | None = None


@dataclass
class Flows:
    service: KioskService
    tokens: Tokens
    claims: TapClaims
    enrollment: Enrollment
    pos: PosTill
    receipts: ReceiptDesk
    desk: StaffDesk
    pin_lock: PinLock
    last_tap: LastTap
    link_status: dict[str, Any] = field(default_factory=dict)  # the sync worker's last link_state payload
    codes: PhoneCodes | None = None  # one-time SMS codes through the cloud, when [enrollment] sms_otp is on

    @property
    def screen_ttl_s(self) -> float:
        # A token outlives the idle timeout a little: the page clears itself first.
        return self.service.settings.web.idle_timeout_s * 3 + 30

    def decorate(self, name: str, payload: dict[str, Any]) -> dict[str, Any]:
        """What the bridge adds before a payload leaves the server: sealed ids, localised dates."""
        payload = dict(payload)
        member_id = payload.pop("member_id", None)
        if member_id is not None:
            payload["session"] = self.tokens.seal("member", member_id)
        if member_id is not None and "rewards" in payload:
            # The whole catalogue with its blockers, so a locked reward says why before anything is confirmed.
            every = coupons.offers(self.service, member_id)
            payload["rewards"] = [o for o in every if not o["blockers"]]
            payload["locked_rewards"] = [{**o, "locked": True} for o in every if o["blockers"]][:3]
        if "recent" in payload:
            calendar = self.service.settings.web.calendar
            payload["recent"] = [{**r, "dates": format_all(parse_iso(r["at"]), calendar)} for r in payload["recent"]]
        if name == "unknown_card":
            with self.last_tap.lock:
                tap = self.last_tap.tap
            if tap is not None:
                payload["card"] = self.tokens.seal("card", [tap.card_ref, tap.tech, tap.label])
        return payload


def build(service: KioskService, secret: bytes, *, codes: PhoneCodes | None = None) -> Flows:
    settings = service.settings
    last_tap = LastTap()

    def remember(tap: CardTap) -> bool:
        with last_tap.lock:
            last_tap.tap = tap
        return False

    service.add_tap_handler(remember)  # registered first, so it runs after every claiming handler
    claims = TapClaims(service)
    desk = StaffDesk(service, claims)
    flows = Flows(
        service=service,
        tokens=Tokens(secret),
        claims=claims,
        enrollment=Enrollment(service, claims),
        pos=PosTill(service, claims, pending_timeout_s=settings.pos.pending_timeout_s),
        receipts=ReceiptDesk(service, claims, service.secrets.branch_key),
        desk=desk,
        pin_lock=PinLock(settings.device.data_dir / "staff-lock.json", max_attempts=settings.staff.max_attempts,
                         lockout_s=settings.staff.lockout_s),
        last_tap=last_tap,
        codes=codes,
    )

    def staff_card(tap: CardTap) -> bool:
        staff_id = desk.staff_for_card(tap.card_ref)
        if staff_id is None:
            return False
        service.emit("staff_enter", {"token": flows.tokens.seal("staff", staff_id), "staff_id": staff_id})
        return True

    service.add_tap_handler(staff_card)  # registered last, so a staff card is never taken for a member card

    def remember_link(name: str, payload: dict[str, Any]) -> None:
        if name == "link_state":
            flows.link_status = dict(payload)

    service.subscribe(remember_link)
    return flows


def flows() -> Flows:
    return current_app.extensions["kiosk_flows"]
