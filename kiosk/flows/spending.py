"""Spending at the till (docs/pos-api.yaml): quote a bill, commit the quote once, void it, refund a purchase.

The till asks for a quote for a bill and a member (by a tap: the quote is ready once the shopper taps,
by the member id a tap-to-earn result gave it, or by a coupon code the shopper shows); the kiosk answers what can be applied under the chain's
caps: the campaign discount, the coupon, the purchase credit (cashback wallet) and points (at most
max_points_percent of the bill, within the offline daily cap). A commit applies exactly that
quote once per idempotency key; a quote that expired, or whose bill or member changed since, is
refused with a reason code (kiosk.errors.SpendRefused). Voids and refunds are new ledger rows.

Quotes live in memory for QUOTE_TTL_S: one lost in a restart is simply asked for again. A quote above
the chain's staff_approval_rial needs a staff member: their PIN with the commit, or their staff card tapped
at the kiosk once the till asks for it (`await_staff_card`); the commit row keeps who approved it.
"""
from __future__ import annotations

import logging
import re
import threading
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from kiosk import rules
from kiosk.clock import iso
from kiosk.errors import (ChainUnreachable, CardNotActive, InvalidCouponCode, KioskError, SpendRefused, UnknownCard,
                          UnknownMember)
from kiosk.flows.claims import TapClaims
from kiosk.flows.staff import PinLock
from kiosk.member_view import coupon_names, tier_progress
from kiosk.protocol import CLOUD_CORRECTION_REASON, RECEIPT_ID
from kiosk.rules.campaigns import campaign_multiplier_percent, purchase_effects
from kiosk.rules.rewards import parse_coupon_code
from kiosk.service import CardTap, KioskService
from kiosk.ui_events import UiEvent

log = logging.getLogger(__name__)

QUOTE_TTL_S = 120
# Idempotency keys and refund ids are the till's ids: the receipt id's grammar, matched whole.
KEY = RECEIPT_ID
MAX_BILL_RIAL = 10**13


@dataclass(frozen=True)
class Quote:
    quote_id: str
    member_id: str
    first_name: str
    bill_rial: int
    tier: str
    tier_names: dict[str, str]  # the chain's names of the tier per language; {} = the till's own word for it
    multiplier_percent: int  # the member's earn rate today: tier x the best campaign multiplier
    discount_rial: int
    discount_campaign: str | None
    coupon: str | None
    coupon_reward: str | None
    credit_rial: int
    points: int
    points_rial: int
    to_pay_rial: int
    needs_staff: bool
    expires_at: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _whole(body: dict[str, Any], field: str, *, required: bool = True) -> int | None:
    value = body.get(field)
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_BILL_RIAL:
        raise SpendRefused("bad_request", f"{field} must be a whole number of rial greater than 0", 400)
    return value


def _text(body: dict[str, Any], field: str, *, required: bool = True, pattern: re.Pattern | None = None) -> str | None:
    value = body.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or (pattern is not None and not pattern.fullmatch(value)):
        raise SpendRefused("bad_request", f"{field} must be text"
                           + (" of 1-64 letters, digits, '.', '_', ':' or '-'" if pattern else ""), 400)
    return value


def _only(body: Any, allowed: set[str]) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise SpendRefused("bad_request", f"the body must be a JSON object with {', '.join(sorted(allowed))}", 400)
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise SpendRefused("bad_request", f"unknown field {unknown[0]!r}; send only {', '.join(sorted(allowed))}", 400)
    return body


class TillDesk:
    def __init__(self, service: KioskService, claims: TapClaims, pin_lock: PinLock, *,
                 ttl_s: int = QUOTE_TTL_S) -> None:
        self._service = service
        self._claims = claims
        self._pin_lock = pin_lock
        self._ttl = timedelta(seconds=ttl_s)
        self._lock = threading.Lock()
        self._quotes: dict[str, tuple[Quote | None, datetime]] = {}  # None: waiting for the tap
        self._refused: dict[str, SpendRefused] = {}  # a tapped quote that could not be made (e.g. unknown coupon)
        self._approved: dict[str, str] = {}  # quote id -> the staff id whose card approved it
        self._awaiting: str | None = None  # the one quote waiting for a staff card, if any

    # --- quote --------------------------------------------------------------------------

    def quote(self, body: Any) -> Quote | dict[str, Any]:
        """A quote now (member_id or coupon_code), or, with "member": "tap", a pending quote that the next
        member tap fills in (poll :meth:`quote_status`)."""
        body = _only(body, {"bill_rial", "member", "member_id", "coupon_code", "use_points", "use_credit"})
        if body.get("member", "id") not in ("id", "tap"):
            raise SpendRefused("bad_request", 'member must be "tap" (the next card tapped) or left out', 400)
        if body.get("member") != "tap":
            return self._quote(body, str(uuid.uuid4()))
        if body.get("member_id") is not None:
            raise SpendRefused("bad_request", 'send member "tap" or a member_id, not both', 400)
        _whole(body, "bill_rial")  # refuse a bad bill before anyone taps
        quote_id = str(uuid.uuid4())
        until = self._service.now() + self._ttl
        with self._lock:
            self._quotes[quote_id] = (None, until)

        def on_tap(tap: CardTap) -> bool:
            try:
                card = tap.member_card()
            except (UnknownCard, CardNotActive):
                return False  # keep waiting: the shopper may try their other card
            try:
                self._quote({**body, "member": "id", "member_id": card.member_id}, quote_id)
            except SpendRefused as exc:
                with self._lock:
                    self._refused[quote_id] = exc
            self._service.emit(UiEvent.MEMBER, self._service.summary(card.member_id, card=card))
            return True

        self._claims.claim(f"quote:{quote_id}", on_tap, self._ttl.total_seconds())
        return {"quote_id": quote_id, "state": "pending", "expires_at": iso(until)}

    def quote_status(self, quote_id: str) -> Quote | dict[str, Any]:
        """A quote by its id: ready, or still waiting for the tap; SpendRefused when unknown or refused."""
        self._claims.owner()  # lets an overdue claim expire
        with self._lock:
            found = self._quotes.get(quote_id)
            refused = self._refused.get(quote_id)
        if refused is not None:
            raise refused
        if found is None:
            raise SpendRefused("quote_unknown", f"no quote {quote_id}; ask for a new quote", 404)
        quote, until = found
        if quote is None:
            if self._service.now() >= until:
                raise SpendRefused("quote_expired", "no member card was tapped in time; ask for a new quote")
            return {"quote_id": quote_id, "state": "pending", "expires_at": iso(until)}
        return quote

    def _quote(self, body: dict[str, Any], quote_id: str) -> Quote:
        bill = _whole(body, "bill_rial")
        member_id = _text(body, "member_id", required=False)
        use = {f: body.get(f, True) for f in ("use_points", "use_credit")}
        for field, value in use.items():
            if not isinstance(value, bool):
                raise SpendRefused("bad_request", f"{field} must be true or false", 400)
        code, reward_name = None, None
        service, store = self._service, self._service.store
        if body.get("coupon_code") is not None:
            try:
                code = parse_coupon_code(body["coupon_code"])
            except InvalidCouponCode as exc:
                raise SpendRefused("bad_request", str(exc), 400) from None
            coupon = self._usable_coupon(code, member_id)
            member_id = coupon["member_id"]
        if member_id is None:
            raise SpendRefused("bad_request", "send member_id (from the tap-to-earn result) or coupon_code", 400)
        try:
            snapshot = service.settle(member_id)  # expired points are gone before anything is quoted
        except UnknownMember:
            if code is not None:  # another branch's coupon, for a member this kiosk has not met yet
                raise SpendRefused("unknown_member", f"coupon {code} belongs to a member of another branch not seen "
                                                     'here yet: quote with "member": "tap" and the coupon', 404) from None
            raise SpendRefused("unknown_member", f"no member with id {member_id}", 404) from None
        if code is not None:
            reward_name = coupon_names(coupon, snapshot.member.language)
        loyalty, now = service.rules, service.now()
        tier = tier_progress(snapshot, now, loyalty).tier
        campaigns = service.campaigns_for(snapshot, tier)
        _, applied = purchase_effects(campaigns, bill, tier, loyalty)
        discount = next((a for a in applied if a.discount_rial), None)
        left = bill - (discount.discount_rial if discount else 0)
        credit = min(snapshot.balance.credit_rial, left) if use["use_credit"] else 0
        left -= credit
        points = rules.points_payable(left, snapshot.balance.points, loyalty) if use["use_points"] else 0
        if points and service.offline():
            points = min(points, service.offline_allowance(member_id))
        points_rial = rules.credit_rial(points, loyalty)
        applied_rial = bill - left + points_rial
        quote = Quote(
            quote_id=quote_id, member_id=member_id, first_name=snapshot.member.first_name, bill_rial=bill,
            tier=tier.name, tier_names=dict(tier.names or {}), multiplier_percent=tier.multiplier_percent * campaign_multiplier_percent(campaigns) // 100,
            discount_rial=discount.discount_rial if discount else 0,
            discount_campaign=discount.campaign.name_in(snapshot.member.language) if discount else None,
            coupon=code, coupon_reward=reward_name, credit_rial=credit, points=points, points_rial=points_rial,
            to_pay_rial=left - points_rial,
            needs_staff=bool(loyalty.staff_approval_rial) and applied_rial > loyalty.staff_approval_rial,
            expires_at=iso(now + self._ttl))
        with self._lock:
            self._quotes = {k: v for k, v in self._quotes.items() if v[1] > now}  # forget expired quotes
            self._refused = {k: v for k, v in self._refused.items() if k in self._quotes}
            self._approved = {k: v for k, v in self._approved.items() if k in self._quotes}
            self._quotes[quote.quote_id] = (quote, now + self._ttl)
        return quote

    def _usable_coupon(self, code: str, member_id: str | None) -> dict[str, Any]:
        coupon = self._service.store.coupon(code) or self._chain_coupon(code)
        if member_id is not None and coupon["member_id"] != member_id:
            raise SpendRefused("coupon_other_member", f"coupon {code} belongs to another member")
        if coupon["used_at"] is not None:
            raise SpendRefused("coupon_used", f"coupon {code} was already used at {coupon['used_at']}")
        return coupon

    def coupon(self, text: str) -> dict[str, Any]:
        """What a till needs to accept a coupon: its reward and whether it is still unused."""
        try:
            code = parse_coupon_code(text)
        except InvalidCouponCode as exc:
            raise SpendRefused("bad_request", str(exc), 400) from None
        coupon = self._service.store.coupon(code) or self._chain_coupon(code)
        return {"code": code, "valid": coupon["used_at"] is None, "used_at": coupon["used_at"],
                "reward_id": coupon["reward_id"], "reward": coupon_names(coupon, None),
                "member_id": coupon["member_id"], "issued_at": coupon["created_at"],
                "branch": coupon.get("branch", self._service.settings.device.branch)}

    # --- coupons of other branches (kiosk.sync.coupons through service.chain_coupons) -------------

    def _offline_refusal(self, code: str, why: str) -> SpendRefused:
        return SpendRefused("coupon_offline", f"coupon {code} was not issued at this kiosk and the chain cannot be "
                                              f"asked now ({why}); it can be used once the kiosk is online again", 503)

    def _chain_coupon(self, code: str) -> dict[str, Any]:
        """A coupon another branch issued, as the chain knows it (with its reward's names if sold here too)."""
        service = self._service
        if service.chain_coupons is None:
            raise SpendRefused("coupon_unknown", f"no coupon {code} was issued here", 404)
        if service.offline():
            raise self._offline_refusal(code, "the kiosk is offline")
        try:
            found = service.chain_coupons.find(code)
        except ChainUnreachable as exc:
            raise self._offline_refusal(code, str(exc)) from None
        if found is None:
            raise SpendRefused("coupon_unknown", f"no coupon {code} was issued in the chain", 404)
        reward = service.store.reward(found["reward_id"]) or {"name": found["reward_id"], "names": None}
        return {**found, "name": reward["name"], "names": reward["names"], "created_at": found["issued_at"]}

    def _claim(self, code: str, member_id: str, key: str) -> tuple[dict[str, Any] | None, bool]:
        """Claim the coupon chain-wide for commit `key` before it is used here: (the other branch's coupon to
        record, or None for this kiosk's own; whether the chain holds a claim). This kiosk's own coupon goes by
        its own ledger when the chain cannot be asked or has not heard of it yet (the outbox tells it later);
        another branch's coupon is refused then."""
        service = self._service
        own = service.store.coupon(code) is not None
        if service.chain_coupons is None or (own and service.offline()):
            return None, False
        if service.offline():
            raise self._offline_refusal(code, "the kiosk is offline")
        try:
            found = service.chain_coupons.claim(code, member_id, key)
        except ChainUnreachable as exc:
            if own:
                return None, False
            raise self._offline_refusal(code, str(exc)) from None
        except SpendRefused as exc:
            if own and exc.reason == "coupon_used":
                self._used_elsewhere(code)
            raise
        if found is None:
            if own:
                return None, False
            raise SpendRefused("coupon_unknown", f"no coupon {code} was issued in the chain", 404)
        return (None if own else found), True

    def _hold_credit(self, member_id: str, amount_rial: int, key: str) -> bool:
        """Hold the member's chain credit for commit `key` before spending it here (True: the chain holds it).

        Offline, or when the chain cannot be asked, the kiosk spends by its own ledger (the credit it last
        imported, plus what it earned since): two branches spending it then can overdraw the chain, and the
        reconcile logs that. Refused (credit_short) when the chain says it was spent or held elsewhere."""
        service = self._service
        if service.chain_coupons is None or service.offline():
            return False
        # Read before the unsent moves the request lists: credit earned here in between then leaves the
        # wallet too high, never too low, when the chain's answer is applied to it.
        local = service.store.balance(member_id).credit_rial
        try:
            service.chain_coupons.hold_credit(member_id, amount_rial, key, service.store.unsent_credit(member_id))
        except ChainUnreachable:
            return False
        except SpendRefused as exc:
            self._credit_ceiling(member_id, local, exc.available_rial)
            raise SpendRefused("credit_short", f"{exc}; ask for a new quote",
                               available_rial=exc.available_rial) from None
        return True

    def _credit_ceiling(self, member_id: str, local_rial: int, available_rial: int | None) -> None:
        """The chain refused a hold: what it says this kiosk may spend (its figure, plus this kiosk's unsent
        moves, less what other branches hold) becomes the member's wallet here at once, as a correction like
        the reconcile's, so the next quote offers no more. The next reconcile moves it to the chain's figure
        again, up as well if the other branch's hold is given back."""
        if available_rial is None or available_rial >= local_rial:
            return
        try:
            self._service.store.correct_credit(member_id, available_rial - local_rial,
                                               f"{CLOUD_CORRECTION_REASON} chain credit free {available_rial}")
        except SpendRefused as exc:  # spent here meanwhile below the chain's figure: the reconcile decides
            log.warning("credit of %s left as it was after credit_short: %s", member_id, exc)

    def _used_elsewhere(self, code: str) -> None:
        """This kiosk's coupon was used at another branch: it leaves the member's wallet here too."""
        try:
            found = self._service.chain_coupons.find(code)
        except (ChainUnreachable, SpendRefused):
            return
        if found is not None and found["used_at"]:
            self._service.store.coupon_used_elsewhere(code, found["used_at"], found["used_branch"] or "")

    # --- commit, void --------------------------------------------------------------------

    def commit(self, body: Any) -> tuple[dict[str, Any], bool]:
        body = _only(body, {"quote_id", "idempotency_key", "bill_rial", "staff_pin"})
        quote_id = _text(body, "quote_id")
        key = _text(body, "idempotency_key", pattern=KEY)
        bill = _whole(body, "bill_rial")
        service = self._service
        done = service.store.till_commit(key)
        if done is not None:
            return self._replayed(done, quote_id, bill), False
        with self._lock:
            found = self._quotes.get(quote_id)
        if found is None or found[0] is None:
            raise SpendRefused("quote_unknown", f"no quote {quote_id} (quotes last {self._ttl.seconds} s and not "
                                                f"across a restart); ask for a new quote", 404)
        quote, until = found
        if service.now() >= until:
            raise SpendRefused("quote_expired", f"quote {quote_id} expired at {quote.expires_at}; ask for a new quote")
        if bill != quote.bill_rial:
            raise SpendRefused("quote_changed", f"the bill is {bill} rial but quote {quote_id} was for "
                                                f"{quote.bill_rial} rial; ask for a new quote")
        with self._lock:
            approved_by = self._approved.get(quote_id)
        if quote.needs_staff and approved_by is None:
            pin = body.get("staff_pin")
            try:
                self._pin_lock.check(pin if isinstance(pin, str) else "", service.secrets.staff_pin_hash)
            except KioskError as exc:
                raise SpendRefused("staff_required", f"this bill needs a staff PIN or a staff card: {exc}",
                                   403) from None
            approved_by = "pin"
        if quote.points and service.offline():
            allowance = service.offline_allowance(quote.member_id)
            if quote.points > allowance:
                raise SpendRefused("quote_changed", f"offline, only {allowance} more points may be spent today")
        chain_coupon, claimed = self._claim(quote.coupon, quote.member_id, key) if quote.coupon else (None, False)
        try:
            held = self._hold_credit(quote.member_id, quote.credit_rial, key) if quote.credit_rial else False
        except SpendRefused:
            if claimed:
                service.store.release_coupon_claim(quote.coupon, quote.member_id, key)
            raise
        try:
            row, created = service.store.commit_spend({
                "idempotency_key": key, "quote_id": quote_id, "member_id": quote.member_id, "bill_rial": bill,
                "points": quote.points, "points_rial": quote.points_rial, "credit_rial": quote.credit_rial,
                "discount_rial": quote.discount_rial, "coupon": quote.coupon, "to_pay_rial": quote.to_pay_rial,
                "approved_by": approved_by if quote.needs_staff else None}, chain_coupon=chain_coupon)
        except SpendRefused:
            if claimed:  # nothing was used here: the chain gets the coupon back
                service.store.release_coupon_claim(quote.coupon, quote.member_id, key)
            if held:  # and the credit held for it
                service.store.release_credit_hold(quote.member_id, key)
            raise
        if not created:  # the same key committed meanwhile by another request
            return self._replayed(row, quote_id, bill), False
        with self._lock:
            self._quotes.pop(quote_id, None)
            self._approved.pop(quote_id, None)
        return row, True

    # --- a staff card approves a quote ----------------------------------------------------

    def await_staff_card(self, quote_id: str) -> dict[str, Any]:
        """Ask for a staff card at the kiosk to approve a quote that needs staff (instead of a PIN at the till).

        The next staff card tapped approves it (and does not open staff mode); the screen says so meanwhile.
        """
        quote = self.quote_status(quote_id)
        if not isinstance(quote, Quote):
            raise SpendRefused("quote_pending", "the shopper has not tapped yet; ask for the staff card after")
        if not quote.needs_staff:
            raise SpendRefused("staff_not_needed", f"quote {quote_id} needs no staff approval", 409)
        with self._lock:
            asked = quote_id not in self._approved
            if asked:
                self._awaiting = quote_id
        if asked:
            self._service.emit(UiEvent.TILL_APPROVAL, {"state": "waiting", "discount_rial": quote.bill_rial -
                                                       quote.to_pay_rial})
        return self.approval(quote_id)

    def approval(self, quote_id: str) -> dict[str, Any]:
        """Where a quote's staff approval stands: approved (by whom), awaiting the card, or not asked."""
        self.quote_status(quote_id)  # unknown or expired quotes are refused as everywhere
        with self._lock:
            if quote_id in self._approved:
                return {"quote_id": quote_id, "state": "approved", "approved_by": self._approved[quote_id]}
            waiting = self._awaiting == quote_id
        return {"quote_id": quote_id, "state": "awaiting_staff_card" if waiting else "not_asked"}

    def approve_by_staff_card(self, staff_id: str) -> bool:
        """A staff card was tapped: approve the quote waiting for one, if any (True: the tap is used)."""
        now = self._service.now()
        with self._lock:
            quote_id, self._awaiting = self._awaiting, None
            found = self._quotes.get(quote_id) if quote_id else None
            if found is None or found[0] is None or found[1] <= now:
                return False
            self._approved[quote_id] = staff_id
        self._service.emit(UiEvent.TILL_APPROVAL, {"state": "approved"})
        return True

    @staticmethod
    def _replayed(done: dict[str, Any], quote_id: str, bill: int) -> dict[str, Any]:
        if done["quote_id"] != quote_id or done["bill_rial"] != bill:
            raise SpendRefused("replay_mismatch", f"idempotency key {done['idempotency_key']} was already used for "
                                                  f"quote {done['quote_id']} and a bill of {done['bill_rial']} rial")
        return done

    def void(self, key: str) -> dict[str, Any]:
        return self._service.store.void_spend(key)

    # --- refunds ---------------------------------------------------------------------------

    def refund(self, receipt_id: str, body: Any) -> tuple[dict[str, Any], bool]:
        body = _only(body, {"refund_id", "amount_rial"})
        refund_id = _text(body, "refund_id", pattern=KEY)
        amount = _whole(body, "amount_rial")
        return self._service.store.refund(receipt_id, refund_id, amount)
