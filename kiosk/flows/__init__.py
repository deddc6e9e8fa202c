"""The kiosk's use cases (till earn and spending, enrolment, receipts, staff, coupons, digital cards), built once on the service.

`build_flows` is called by the composition root (appliance.runtime) and the result handed to the web
layer, which only adapts HTTP and Socket.IO to it.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from kiosk.flows.claims import TapClaims
from kiosk.flows.complaints import CaseLookup, ComplaintDesk
from kiosk.flows.engagement import EngagementDesk
from kiosk.flows.on_screen import MemberOnScreen
from kiosk.flows.enrollment import Enrollment
from kiosk.flows.phone_codes import PhoneCodeService
from kiosk.flows.receipts import ReceiptDesk
from kiosk.flows.spending import TillDesk
from kiosk.flows.staff import PinLock, StaffDesk
from kiosk.flows.surveys import SurveyDesk
from kiosk.flows.till import PosTill
from kiosk.service import CardTap, KioskService
from kiosk.ui_events import UiEvent


@dataclass
class LastTap:
    """The most recent tap nobody claimed, so "join with this card" can bind it without a second tap."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    tap: CardTap | None = None

    def get(self) -> CardTap | None:
        with self.lock:
            return self.tap


@dataclass
class KioskFlows:
    service: KioskService
    claims: TapClaims
    enrollment: Enrollment
    pos: PosTill
    receipts: ReceiptDesk
    desk: StaffDesk
    pin_lock: PinLock
    last_tap: LastTap
    till: TillDesk
    surveys: SurveyDesk
    complaints: ComplaintDesk
    codes: PhoneCodeService | None = None  # one-time SMS codes through the cloud, when [enrollment] sms_otp is on
    engagement: EngagementDesk | None = None  # draws and the instant-win game (always built by build_flows)
    on_screen: MemberOnScreen | None = None  # whose balance is shown, for the tap's reconcile (always built)

    def close(self) -> None:
        self.claims.close()


def build_flows(service: KioskService, *, codes: PhoneCodeService | None = None,
                cases: CaseLookup | None = None) -> KioskFlows:
    """Every use case on one service; the claim slot and the staff card are registered as tap handlers."""
    settings = service.settings
    last_tap = LastTap()

    def remember(tap: CardTap) -> bool:
        with last_tap.lock:
            last_tap.tap = tap
        return False

    service.add_tap_handler(remember)  # registered first, so it runs after every claiming handler
    claims = TapClaims(service)
    desk = StaffDesk(service, claims)

    def staff_card(tap: CardTap) -> bool:
        staff_id = desk.staff_for_card(tap.card_ref)
        if staff_id is None:
            return False
        if not till.approve_by_staff_card(staff_id):  # a till waiting for approval takes the card first
            service.emit(UiEvent.STAFF_ENTER, {"staff_id": staff_id})
        return True

    pin_lock = PinLock(settings.device.data_dir / "staff-lock.json", max_attempts=settings.staff.max_attempts,
                       lockout_s=settings.staff.lockout_s)
    till = TillDesk(service, claims, pin_lock)
    # A staff card is recognised before the card is resolved: it is never a member's card, nor the chain's.
    service.add_tap_handler(staff_card, before_resolve=True)
    engagement = EngagementDesk(service)
    service.purchase_hooks.append(lambda member_id, event_id: engagement.free_entries(member_id, "purchase", event_id))
    return KioskFlows(
        service=service,
        claims=claims,
        enrollment=Enrollment(service, claims),
        pos=PosTill(service, claims, pending_timeout_s=settings.pos.pending_timeout_s),
        receipts=ReceiptDesk(service, claims, service.secrets.branch_key),
        desk=desk,
        pin_lock=pin_lock,
        last_tap=last_tap,
        till=till,
        surveys=SurveyDesk(service, engagement.free_entries),
        complaints=ComplaintDesk(service, cases),  # complaint look-ups ask the cloud, when there is one
        codes=codes,
        engagement=engagement,
        on_screen=MemberOnScreen(service, settings.web.idle_timeout_s),
    )
