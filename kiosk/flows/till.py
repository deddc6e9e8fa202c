"""POS "tap to earn": the till posts a pending purchase, the next member tap earns it, the till polls the result.

Idempotent by receipt id: the ledger's unique receipt id decides, so a purchase
posted twice (a retried request, a till restart) earns once, even across a
kiosk restart. Pending purchases live in memory: one lost in a restart is
simply posted again by the till.
"""
from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, replace
from typing import Any

from kiosk import rules
from kiosk.errors import CardNotActive, KioskError, StoreError, UnknownCard
from kiosk.service import CardTap, KioskService
from kiosk.flows.claims import TapClaims
from kiosk.ui_events import UiEvent
from kiosk.protocol import is_receipt_id

MAX_AMOUNT_RIAL = 10**13


class PurchaseRejected(KioskError):
    """A purchase the till must correct; ``status`` is the HTTP status the API answers with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Purchase:
    receipt_id: str
    amount_rial: int
    state: str  # pending | earned | failed | expired | cancelled
    points: int | None = None
    balance: int | None = None
    card_label: str | None = None
    detail: str = ""
    member_id: str | None = None  # once earned: what the till quotes the member's spending with
    campaigns: tuple[dict[str, Any], ...] = ()  # the campaigns that added points: id, name, points

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def check_purchase(body: Any) -> tuple[str, int]:
    """Validate the till's JSON body; every message says which field and what is allowed."""
    if not isinstance(body, dict):
        raise PurchaseRejected("the body must be a JSON object with receipt_id and amount_rial")
    receipt_id, amount = body.get("receipt_id"), body.get("amount_rial")
    if not is_receipt_id(receipt_id):
        raise PurchaseRejected("receipt_id must be 1-64 characters of letters, digits, '.', '_', ':' or '-'")
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= MAX_AMOUNT_RIAL:
        raise PurchaseRejected("amount_rial must be a whole number of rial greater than 0 (no decimals, no strings)")
    unknown = sorted(set(body) - {"receipt_id", "amount_rial"})
    if unknown:
        raise PurchaseRejected(f"unknown field {unknown[0]!r}; send only receipt_id and amount_rial")
    return receipt_id, amount


class PosTill:
    def __init__(self, service: KioskService, claims: TapClaims, *, pending_timeout_s: int) -> None:
        self._service = service
        self._claims = claims
        self._timeout = pending_timeout_s
        self._lock = threading.Lock()
        self._purchases: dict[str, Purchase] = {}

    def post(self, receipt_id: str, amount_rial: int) -> tuple[Purchase, bool]:
        """Register a purchase; returns (purchase, created). A repeat returns the first one unchanged."""
        done = self._from_ledger(receipt_id)
        if done is not None:
            if done.amount_rial != amount_rial:
                raise PurchaseRejected(f"receipt {receipt_id} was already earned for {done.amount_rial} rial", 409)
            return done, False
        with self._lock:
            known = self._purchases.get(receipt_id)
            if known is not None and known.state == "pending":
                if known.amount_rial != amount_rial:
                    raise PurchaseRejected(f"receipt {receipt_id} is pending for {known.amount_rial} rial", 409)
                return known, False
            purchase = Purchase(receipt_id, amount_rial, "pending")
            self._purchases[receipt_id] = purchase
        base_points = rules.earn_points(amount_rial, self._service.rules.tiers[0], self._service.rules)
        self._claims.claim(f"pos:{receipt_id}", lambda tap: self._on_tap(receipt_id, tap), self._timeout,
                           on_expire=lambda: self._finish(receipt_id, "expired", detail="no card was tapped in time"))
        self._service.emit(UiEvent.POS_PENDING, {"amount_rial": amount_rial, "points": base_points})
        return purchase, True

    def status(self, receipt_id: str) -> Purchase | None:
        self._claims.owner()  # lets an overdue claim expire before we answer
        with self._lock:
            known = self._purchases.get(receipt_id)
        if known is not None and known.state != "pending":
            return known
        return self._from_ledger(receipt_id) or known

    def cancel(self, receipt_id: str) -> Purchase | None:
        self._claims.cancel(f"pos:{receipt_id}")
        return self._finish(receipt_id, "cancelled", detail="cancelled by the till")

    def _finish(self, receipt_id: str, state: str, *, reason: str = "", **changes: Any) -> Purchase | None:
        with self._lock:
            known = self._purchases.get(receipt_id)
            if known is None or known.state != "pending":
                return known
            known = replace(known, state=state, **changes)
            self._purchases[receipt_id] = known
        if state != "earned":
            self._service.emit(UiEvent.POS_RESULT, {"state": state, "detail": known.detail, **({"reason": reason}
                                                                                             if reason else {})})
        return known

    def _on_tap(self, receipt_id: str, tap: CardTap) -> bool:
        service = self._service
        try:
            card = tap.member_card()  # resolved once by the service: this kiosk's card or the chain's
        except UnknownCard:
            service.emit(UiEvent.POS_RESULT, {"state": "unknown_card", "label": tap.label})
            return False  # keep waiting: the shopper may try their other card
        except CardNotActive as exc:
            service.emit(UiEvent.POS_RESULT, {"state": "card_blocked", "label": tap.label, "card_state": exc.state})
            return False
        with self._lock:
            amount = self._purchases[receipt_id].amount_rial
        snapshot = service.store.member_snapshot(card.member_id)
        try:
            recorded = service.earn(card.member_id, amount, receipt_id=receipt_id, snapshot=snapshot)
        except StoreError as exc:
            # The cashier must hear why (e.g. a full disk) instead of a purchase left pending;
            # nothing was written, so the till can post the same receipt again later.
            self._finish(receipt_id, "failed", detail=str(exc), card_label=tap.label, reason=exc.reason)
            return True
        summary = service.screen(snapshot.with_recorded(recorded), card=card)
        applied = tuple(service.campaign_lines(recorded.campaigns, summary["language"]))
        self._finish(receipt_id, "earned", points=recorded.row.points, balance=recorded.balance,
                     card_label=tap.label, member_id=card.member_id, campaigns=applied)
        service.emit(UiEvent.POS_RESULT, {"state": "earned", "points_earned": recorded.row.points,
                                          "campaigns_applied": list(applied), "cashback_rial": recorded.cashback_rial,
                                          **summary})
        return True

    def _from_ledger(self, receipt_id: str) -> Purchase | None:
        row = self._service.store.ledger_by_receipt(receipt_id)
        if row is None:
            return None
        store = self._service.store
        return Purchase(receipt_id, row.amount, "earned", points=row.points, balance=store.balance(row.member_id).points,
                        member_id=row.member_id,
                        campaigns=tuple(self._service.campaign_lines(store.purchase_campaigns(row.event_id), None)))

