"""Receipt self-claim: a signed receipt scanned at the kiosk, then the member's tap earns its points once."""
from __future__ import annotations

from kiosk import rules
from kiosk.errors import CardNotActive, UnknownCard
from kiosk.receipts import Receipt, ReceiptRefused, verify_receipt
from kiosk.service import CardTap, KioskService
from kiosk.flows.claims import TapClaims
from kiosk.ui_events import UiEvent


class ReceiptDesk:
    def __init__(self, service: KioskService, claims: TapClaims, branch_key: bytes | None) -> None:
        self._service = service
        self._claims = claims
        self._key = branch_key

    def check(self, code: str) -> Receipt:
        """Refuse a bad receipt before the shopper taps: damaged, forged, expired, other branch, already claimed."""
        if not self._key:
            raise ReceiptRefused("not_configured", "this kiosk has no branch key, so receipts cannot be claimed here")
        settings = self._service.settings
        receipt = verify_receipt(self._key, code, now=self._service.now(), max_age_s=settings.receipts.max_age_s,
                                 branch=settings.device.branch)
        if self._service.store.ledger_by_receipt(receipt.receipt_id) is not None:
            raise ReceiptRefused("already_claimed", "the points for this receipt were already added")
        return receipt

    def base_points(self, receipt: Receipt) -> int:
        return rules.earn_points(receipt.amount_rial, self._service.rules.tiers[0], self._service.rules)

    def claim_by_phone(self, receipt: Receipt, member_id: str | None) -> int:
        """"Forgot your card?": the receipt's points to the member of a typed number; the points earned, or
        ReceiptRefused ("no_member", "already_claimed"). The lights say the outcome like a tap's."""
        service = self._service
        try:
            if member_id is None:
                raise ReceiptRefused("no_member", "no member has that phone number")
            recorded = service.earn(member_id, receipt.amount_rial, receipt_id=receipt.receipt_id)
            if not recorded.applied:
                raise ReceiptRefused("already_claimed", "the points for this receipt were already added")
        except ReceiptRefused as exc:
            service.emit(UiEvent.RECEIPT_BY_PHONE, {"state": "refused", "reason": exc.reason})
            raise
        self._claims.cancel("receipt")
        service.emit(UiEvent.RECEIPT_BY_PHONE, {"state": "claimed", "points_earned": recorded.row.points})
        return recorded.row.points

    def await_card(self, receipt: Receipt, ttl_s: float) -> None:
        self._claims.claim("receipt", lambda tap: self._on_tap(receipt, tap), ttl_s)

    def _on_tap(self, receipt: Receipt, tap: CardTap) -> bool:
        service = self._service
        try:
            card = tap.member_card()  # resolved once by the service: this kiosk's card or the chain's
        except UnknownCard:
            service.emit(UiEvent.RECEIPT_RESULT, {"state": "refused", "reason": "unknown_card"})
            return True
        except CardNotActive:
            service.emit(UiEvent.RECEIPT_RESULT, {"state": "refused", "reason": "card_blocked"})
            return True
        snapshot = service.store.member_snapshot(card.member_id)
        recorded = service.earn(card.member_id, receipt.amount_rial, receipt_id=receipt.receipt_id, snapshot=snapshot)
        if not recorded.applied:
            # Two kiosks raced for the same receipt: the ledger's unique receipt id decided.
            service.emit(UiEvent.RECEIPT_RESULT, {"state": "refused", "reason": "already_claimed"})
            return True
        summary = service.screen(snapshot.with_recorded(recorded), card=card)
        service.emit(UiEvent.RECEIPT_RESULT, {"state": "claimed", "points_earned": recorded.row.points, **summary})
        return True
