"""KioskService: the one event loop that turns reader events into ledger changes and UI events.

Readers put events on :attr:`KioskService.events`; one consumer thread applies
them so the screen sees taps in the order the readers saw them. UI events go to
subscribers (the Socket.IO bridge, the feedback LEDs) as ``(name, payload)``;
a payload never carries a raw card UID.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import threading
import uuid
from dataclasses import dataclass, replace
from secrets import token_bytes
from datetime import date, datetime, time, timedelta
from typing import Any, Callable, Iterable, Iterator, Sequence
from zoneinfo import ZoneInfo

from drivers.events import BadRead, CardRead, CardRefused, ReaderState, ReaderStatus
from kiosk import member_view, rules
from kiosk.config import Secrets, Settings
from kiosk.errors import (BudgetSpent, CardAlreadyBound, CardNotActive, DuplicateMember, InsufficientPoints,
                          KioskError, OfflineRedemptionCap, RewardNotAvailable, StoreError, UnknownCard)
from kiosk.identity import card_ref, mask_uid
from kiosk.clock import parse_iso, utcnow
from kiosk.rules.campaigns import Campaign, MemberDays, cap_coupons, eligible_campaigns, purchase_effects
from kiosk.rules.rewards import coupon_code
from kiosk.rules.branding import Branding
from kiosk.rules.budgets import campaign_budget_id
from kiosk.rules.cloud_config import BranchConfig, branch_config_from_cloud
from kiosk.rules.config import Tier
from kiosk.rules.ledger import LedgerKind
from kiosk.rules.segments import RfmRules, rfm
from kiosk.rules.complaints import DEFAULT_SUBJECTS, Subject
from kiosk.rules.surveys import Survey
from kiosk.store import Bonus, Card, Member, MemberSnapshot, NewCard, Recorded, Store
from kiosk.store.spending import derived_id
from kiosk.chain_card import ChainCard
from kiosk.store.chain_import import import_chain_card
from kiosk.qr import QrCache
from kiosk.ui_events import UiEvent

log = logging.getLogger(__name__)

Subscriber = Callable[[str, dict[str, Any]], None]


@dataclass(frozen=True)
class CardTap:
    """A tap as a card reference (the raw UID stops at :meth:`KioskService.resolve`), and once resolved,
    the card it is: this kiosk's, or the chain's imported here, or None when nobody knows it."""

    card_ref: str
    tech: str
    label: str
    reader_id: str
    card: Card | None = None
    resolved: bool = False

    def member_card(self) -> Card:
        """The member's active card; UnknownCard or CardNotActive (with its state) otherwise."""
        if self.card is None:
            raise UnknownCard("this card is not a member card yet")
        if self.card.state != "active":
            raise CardNotActive(self.card.state)
        return self.card


class KioskService:
    """Use as a context manager, or call :meth:`start` and :meth:`close`."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        secrets: Secrets,
        *,
        clock: Callable[[], datetime] = utcnow,
        chain_lookup: Callable[[str], ChainCard | None] | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.rules = settings.loyalty
        # The chain's campaigns and RFM thresholds (segment targets); campaigns come with the cloud's config.
        self.campaigns: tuple[Campaign, ...] = ()
        # The chain's surveys and complaint subjects (issue 14), from the same config.
        self.surveys: tuple[Survey, ...] = ()
        self.complaint_subjects: tuple[Subject, ...] = DEFAULT_SUBJECTS
        # The chain's brand from the cloud's config (name, welcome, colours, logo); None: the kiosk's [branding].
        self.branding: Branding | None = None
        self.segments = RfmRules()
        self.secrets = secrets  # the web layer reads pos_token, staff_pin_hash, branch_key from here
        self._secret = secrets.chain_secret
        self._clock = clock
        self.events: queue.Queue[object] = queue.Queue()
        self._subscribers: list[Subscriber] = []
        self._tap_handlers: list[Callable[[CardTap], bool]] = []
        # Called with (member_id, earn event id) after a new purchase is recorded (a draw's free entries).
        self.purchase_hooks: list[Callable[[str, str], object]] = []
        self._early_handlers: list[Callable[[CardTap], bool]] = []
        self.reader_status: dict[str, ReaderStatus] = {}
        # The cloud link as the sync worker last saw it; None when no cloud is configured,
        # in which case the local ledger is the only authority and nothing is capped.
        self.link: str | None = None
        # Asks the cloud about a card this kiosk does not know (kiosk.sync.lookup.ChainCardLookup);
        # set by the runtime once the sync worker exists.
        self.chain_lookup = chain_lookup
        # The chain's coupons for the till (kiosk.sync.coupons.ChainCoupons: find, claim), set with it.
        self.chain_coupons: Any = None
        # The chain's member id for a phone that joined by SMS (ChainCardLookup.joined_by_sms), set with it.
        self.chain_join_lookup: Callable[[str], str | None] | None = None
        self.zone = ZoneInfo(settings.device.timezone)
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.heartbeat = clock()
        self._taps_day = clock().date()
        self._taps_today = 0
        # A member's referral code never changes: its QR is made once, not on every tap (segno ~1 ms a code).
        self._referral_qr = QrCache(scale=4)

    # --- plumbing -----------------------------------------------------------------

    def subscribe(self, fn: Subscriber) -> None:
        self._subscribers.append(fn)

    def emit(self, name: str, payload: dict[str, Any]) -> None:
        for fn in list(self._subscribers):
            try:
                fn(name, payload)
            except Exception:  # one broken subscriber must not silence the others
                log.exception("subscriber %r failed on %s", fn, name)

    def add_tap_handler(self, handler: Callable[[CardTap], bool], *, before_resolve: bool = False) -> None:
        """A handler that may claim a tap (enrolment binding, POS earn) before the balance screen.

        Handlers see the resolved tap, newest first; ``before_resolve`` ones see it before any look-up
        (a staff card, known from the config, is nobody's member card and never the chain's business).
        """
        (self._early_handlers if before_resolve else self._tap_handlers).insert(0, handler)

    def remove_tap_handler(self, handler: Callable[[CardTap], bool]) -> None:
        for handlers in (self._early_handlers, self._tap_handlers):
            if handler in handlers:
                handlers.remove(handler)

    def put(self, event: object) -> None:
        """The sink readers are given."""
        self.events.put(event)

    def start(self) -> "KioskService":
        self._thread = threading.Thread(target=self._run, name="kiosk-service", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        self.events.put(None)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> "KioskService":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                event = self.events.get(timeout=1.0)
            except queue.Empty:
                self.heartbeat = self._clock()
                continue
            if event is None:
                break
            try:
                self.handle(event)
            except Exception as exc:  # a bad event must not stop the kiosk
                log.exception("failed to handle %r", event)
                self.emit_error(exc)
            self.heartbeat = self._clock()

    def emit_error(self, exc: BaseException) -> None:
        """Tell the screen a tap could not be handled; a full disk says so (``reason``), anything else "try again"."""
        reason = exc.reason if isinstance(exc, StoreError) else "try_again"
        self.emit(UiEvent.ERROR, {"message": str(exc) if isinstance(exc, StoreError) else
                                  "something went wrong; please try again", "reason": reason})

    # --- events ---------------------------------------------------------------------

    def handle(self, event: object) -> None:
        if isinstance(event, CardRead):
            self.on_card(event)
        elif isinstance(event, ReaderStatus):
            self.reader_status[event.reader_id] = event
            level = logging.INFO if event.state is ReaderState.CONNECTED else logging.WARNING
            log.log(level, "reader %s %s %s", event.reader_id, event.state.value, event.detail)
            self.emit(UiEvent.READER_STATUS, {"reader_id": event.reader_id, "state": event.state.value, "detail": event.detail})
        elif isinstance(event, BadRead):
            # A misread, not a failed reader: the shopper taps again; the reader's state stays as it was.
            self.emit(UiEvent.BAD_READ, {"reader_id": event.reader_id})
        elif isinstance(event, CardRefused):
            log.warning("reader %s refused a card: %s", event.reader_id, event.reason)
            self.emit(UiEvent.CARD_REFUSED, {"reason": event.reason})
        else:
            log.warning("ignoring unknown event type %s", type(event).__name__)

    def resolve(self, read: CardRead) -> CardTap:
        """The keyed hash of a read: the raw UID stops here."""
        return CardTap(
            card_ref=card_ref(self._secret, read.tech, read.uid),
            tech=read.tech,
            label=mask_uid(read.uid),
            reader_id=read.reader_id,
        )

    def on_card(self, read: CardRead) -> None:
        """One tap: recognised (a staff card), resolved once (here, then the chain), then offered to the
        flow waiting for it, and only then shown as the member's balance."""
        tap = self.resolve(read)
        log.info("tap on %s: card %s", tap.reader_id, tap.label)
        self._count_tap()
        for handler in list(self._early_handlers):
            if handler(tap):
                return
        tap = replace(tap, card=self.find_card(tap), resolved=True)
        for handler in list(self._tap_handlers):
            if handler(tap):
                return
        self.show_member(tap)

    def find_card(self, tap: CardTap) -> Card | None:
        """The card as this kiosk knows it, else as the chain does (imported here); None if nobody does."""
        card = self.store.card(tap.card_ref)
        return card if card is not None else self._card_from_chain(tap)

    def show_member(self, tap: CardTap) -> None:
        try:
            card = tap.member_card()
        except UnknownCard:
            self.emit(UiEvent.UNKNOWN_CARD, {"label": tap.label})
            return
        except CardNotActive as exc:
            self.emit(UiEvent.CARD_BLOCKED, {"label": tap.label, "state": exc.state})
            return
        snapshot = self.settled(self.store.member_snapshot(card.member_id))
        screen = self.screen(snapshot, card=card)
        # A draw won since the member's last tap is told now, once (the cloud also texts it when it can).
        wins = self.store.draw_wins_to_tell(card.member_id)
        self.emit(UiEvent.MEMBER, {**screen, "draw_wins": wins} if wins else screen)
        if wins:
            self.store.draw_wins_told(card.member_id, [w["draw_id"] for w in wins])

    def _card_from_chain(self, tap: CardTap) -> Card | None:
        """A card enrolled at another branch: the cloud's member, imported here; None if unknown.

        Offline the cloud is not asked (no change from a kiosk without a cloud). A card the
        chain has blocked is returned unimported, so an unblock at the home branch is seen
        on the next tap.
        """
        if self.chain_lookup is None or self.link == "offline":
            return None
        found = self.chain_lookup(tap.card_ref)
        if found is None:
            return None
        if not found.active:
            return Card(tap.card_ref, found.member_id, tap.tech, tap.label, found.card_state, found.card_changed_at)
        try:
            card = import_chain_card(self.store, found, tech=tap.tech, label=tap.label)
        except CardAlreadyBound:
            return self.store.card(tap.card_ref)  # bound here meanwhile (another thread): use that
        except DuplicateMember as exc:
            log.warning("cannot import the chain's member for card %s: %s", tap.label, exc)
            return None
        log.info("card %s belongs to chain member %s (branch %s); imported with %d points",
                 tap.label, found.member_id, found.branch, found.balance)
        return card

    def _count_tap(self) -> None:
        today = self._clock().date()
        if self._taps_day != today:
            self._taps_day, self._taps_today = today, 0
        self._taps_today += 1

    def now(self) -> datetime:
        """The service's clock (injected in tests), for the flows built on the service."""
        return self._clock()

    def local_today(self) -> date:
        """Today in the shop's time zone: campaigns and reward dates are shop days."""
        return self._clock().astimezone(self.zone).date()

    def taps_today(self) -> int:
        """Taps since local midnight (UTC day) for the staff status screen; resets at the day boundary."""
        return self._taps_today if self._taps_day == self._clock().date() else 0

    # --- queries ----------------------------------------------------------------------

    def card_ref_for(self, tech: str, uid: str) -> str:
        return card_ref(self._secret, tech, uid)

    def active_card(self, ref: str) -> Card:
        card = self.store.card(ref)
        if card is None:
            raise UnknownCard("this card is not a member card yet")
        if card.state != "active":
            raise CardNotActive(card.state)
        return card

    def tier_progress(self, member_id: str) -> rules.TierProgress:
        return member_view.tier_progress(self.store.member_snapshot(member_id), self._clock(), self.rules)

    def settle(self, member_id: str) -> MemberSnapshot:
        """Record what the rules say is due now (FIFO expiry, then the birthday bonus); the member after it."""
        return self.settled(self.store.member_snapshot(member_id))

    def settled(self, snapshot: MemberSnapshot) -> MemberSnapshot:
        """``snapshot`` with what is due now recorded, and what was recorded added without reading again.

        Both are lazy (applied when the member shows up), so their event ids are
        derived from the state they settle: two processes settling the same member
        at once write one event, not two.
        """
        member_id, rows = snapshot.member.id, snapshot.history
        now = self._clock()
        due = rules.expiring_points(snapshot.entries, now, self.rules)
        if due:
            expired_before = -sum(r.points for r in rows if r.kind == LedgerKind.EXPIRE)
            snapshot = snapshot.with_recorded(self.store.record(
                member_id, LedgerKind.EXPIRE, -due, reason="points expired",
                event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"expire:{member_id}:{expired_before + due}"))))
        birthday = snapshot.member.birthday
        if birthday:
            given = [parse_iso(r.created_at).date() for r in rows
                     if r.kind == LedgerKind.BONUS and r.reason == "birthday bonus"]
            today = now.date()
            bonus = rules.birthday_bonus(date.fromisoformat(birthday), today, max(given, default=None), self.rules)
            if bonus:
                snapshot = snapshot.with_recorded(self.store.record(
                    member_id, LedgerKind.BONUS, bonus, reason="birthday bonus",
                    event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"birthday:{member_id}:{today.year}"))))
        return snapshot

    def screen(self, snapshot: MemberSnapshot, *, card: Card | None = None) -> dict[str, Any]:
        """The member screen from one snapshot: one more read, for the catalogue."""
        rewards, taken = self.store.rewards_for(snapshot.member.id)
        now = self._clock()
        tier = member_view.tier_progress(snapshot, now, self.rules).tier
        return member_view.member_screen(snapshot, rewards=rewards, taken=taken, now=now, zone=self.zone,
                                         loyalty=self.rules, card=card, coupons=snapshot.coupons,
                                         campaigns=self.campaigns_for(snapshot, tier, with_limits=False),
                                         referral_qr=self._referral_qr)

    def summary(self, member_id: str, *, card: Card | None = None) -> dict[str, Any]:
        """What the balance screen shows for a member, read afresh (after a till earn or a receipt claim)."""
        return self.screen(self.store.member_snapshot(member_id), card=card)

    def heartbeat_age_s(self) -> float:
        """Seconds since the event loop last went round (it goes round at least once a second)."""
        return (self._clock() - self.heartbeat).total_seconds()

    def session_key(self) -> bytes:
        """Web session/CSRF key derived from the chain secret, so it survives restarts without its own file."""
        return hmac.new(self._secret, b"kiosk-web-session:" + self.settings.device.id.encode(), hashlib.sha256).digest()

    def health(self) -> dict[str, Any]:
        return {
            "status": "ok",
            "device_id": self.settings.device.id,
            "branch": self.settings.device.branch,
            "readers": {rid: st.state.value for rid, st in self.reader_status.items()},
            "outbox_depth": self.store.outbox_depth(),
        }

    # --- commands ---------------------------------------------------------------------

    def member_for_card(self, tech: str, uid: str) -> Card:
        return self.active_card(self.card_ref_for(tech, uid))

    def earn(self, member_id: str, amount_rial: int, *, receipt_id: str | None = None,
             event_id: str | None = None, snapshot: MemberSnapshot | None = None) -> Recorded:
        """Earn points for a purchase at the member's tier, with the campaigns running for them today, the
        cashback into their purchase credit and the visit-streak bonus it completes; idempotent per receipt id.

        ``snapshot`` is the member as just read (a tap's), so the tier needs no second read.
        """
        if isinstance(amount_rial, bool) or not isinstance(amount_rial, int) or amount_rial <= 0:
            raise KioskError(f"the purchase amount must be a positive whole number of rial, not {amount_rial!r}")
        snapshot = snapshot or self.store.member_snapshot(member_id)
        tier = member_view.tier_progress(snapshot, self._clock(), self.rules).tier
        for attempt in (1, 2):  # a second plan when another earn took the campaign grant's last points meanwhile
            eligible = self.campaigns_for(snapshot, tier)
            base, applied = purchase_effects(eligible, amount_rial, tier, self.rules)
            extra, spends = self._within_budgets([(a.campaign, a.points) for a in applied if a.points])
            points = base + sum(n for _, n in extra)
            caps = cap_coupons(eligible, snapshot.balance.points + points)
            reason = f"purchase at {tier.name} rate" + "".join(f"; {c.name} +{n}" for c, n in extra)
            try:
                recorded = self.store.record_purchase(
                    member_id, amount_rial, points, reason=reason, grant_spends=spends,
                    campaigns=[(c.campaign_id, n) for c, n in extra] + [(c.campaign_id, 0) for c in caps],
                    cashback_rial=rules.cashback_rial(amount_rial, self.rules, tier), receipt_id=receipt_id,
                    event_id=event_id)
                break
            except BudgetSpent:
                if attempt == 2:
                    raise
        if recorded.applied:
            for campaign in caps:
                recorded = self._cap_coupon(recorded, campaign)
            streak = self._streak_bonus(snapshot.with_recorded(recorded))
            if streak is not None:
                recorded = replace(recorded, balance=streak.balance)
            for hook in self.purchase_hooks:
                hook(member_id, recorded.row.event_id)
        return recorded

    def _cap_coupon(self, recorded: Recorded, campaign: Campaign) -> Recorded:
        """The points-cap campaign's coupon for the purchase that reached the cap (debits the reward's cost)."""
        try:
            coupon = self.store.redeem_reward(recorded.row.member_id, campaign.reward_id or "",
                                              coupon_code(token_bytes(8)),
                                              event_id=derived_id("cap", recorded.row.event_id, campaign.campaign_id))
        except (InsufficientPoints, RewardNotAvailable) as exc:  # spent meanwhile, or the reward is gone
            log.warning("campaign %s issued no coupon: %s", campaign.campaign_id, exc)
            return recorded
        return replace(recorded, balance=coupon.balance)

    def campaigns_for(self, snapshot: MemberSnapshot, tier: Tier, *, with_limits: bool = True) -> tuple[Campaign, ...]:
        """The campaigns this member takes part in today (shop day), by tier, RFM segment, member id, birthday
        and last purchase;
        with_limits leaves out those whose per-member limit the member reached or whose budget is spent (a read
        each, only if any campaign has one)."""
        if not self.campaigns:
            return ()
        member = snapshot.member
        segment = "new"
        if any(c.target_segments for c in self.campaigns):
            segment = rfm(snapshot.entries, self._clock(), self.segments,
                          enrolled_at=parse_iso(member.created_at)).segment
        taken = (self.store.campaigns_taken(member.id)
                 if with_limits and any(c.per_member_limit for c in self.campaigns) else {})
        last = max((e.created_at for e in snapshot.entries if e.kind == LedgerKind.EARN), default=None)
        days = MemberDays(date.fromisoformat(member.birthday) if member.birthday else None,
                          last.astimezone(self.zone).date() if last else None)
        given = self._budget_given() if with_limits else {}
        local = self._clock().astimezone(self.zone)
        return eligible_campaigns(self.campaigns, local.date(), tier, segment, member.id, taken, days, self.rules,
                                  given, now=local.time().replace(tzinfo=None))

    def _budget_given(self) -> dict[str, int]:
        """Points each campaign with a budget counts as given: at this kiosk alone when there is no cloud; with
        one, its budget less what this kiosk's grants of the chain-wide budget still hold (none: all given)."""
        budgeted = [c for c in self.campaigns if c.budget_points]
        if not budgeted:
            return {}
        if self.link is None:
            return self.store.campaigns_given()
        left = self.store.grants_left([campaign_budget_id(c.campaign_id) for c in budgeted])
        return {c.campaign_id: c.budget_points - left[campaign_budget_id(c.campaign_id)] for c in budgeted}

    def _within_budgets(self, extra: list[tuple[Campaign, int]]) -> tuple[list[tuple[Campaign, int]],
                                                                            list[tuple[str, int]]]:
        """What each campaign adds, cut to what its budget has left; and the grant spends that pays for it."""
        if not any(c.budget_points for c, _ in extra):
            return extra, []
        given = self._budget_given()
        cut = [(c, min(n, c.budget_points - given.get(c.campaign_id, 0)) if c.budget_points else n) for c, n in extra]
        cut = [(c, n) for c, n in cut if n > 0]
        spends = [(campaign_budget_id(c.campaign_id), n) for c, n in cut if c.budget_points and self.link is not None]
        return cut, spends

    def campaign_lines(self, applied: Iterable[tuple[str, int]], language: str | None) -> Iterator[dict[str, Any]]:
        """What each campaign added to a purchase, named in `language` ("double points: +200"); a campaign the
        cloud has since removed keeps its id as its name."""
        known = {c.campaign_id: c for c in self.campaigns}
        for campaign_id, points in applied:
            c = known.get(campaign_id)
            yield {"id": campaign_id, "name": c.name_in(language) if c else campaign_id,
                   "names": dict(c.names or {}) if c else {}, "points": points}

    def _streak_bonus(self, snapshot: MemberSnapshot) -> Recorded | None:
        """The visit-streak bonus when this purchase completes a streak (paid once per streak)."""
        rows = snapshot.history
        given = [parse_iso(r.created_at) for r in rows if r.kind == LedgerKind.BONUS and r.reason == "visit streak bonus"]
        bonus = rules.streak_bonus(snapshot.entries, self._clock(), max(given, default=None), self.rules)
        if not bonus:
            return None
        return self.store.record(snapshot.member.id, LedgerKind.BONUS, bonus, reason="visit streak bonus",
                                 event_id=derived_id("streak", rows[0].event_id))

    def apply_config(self, document: dict[str, Any]) -> BranchConfig:
        """The cloud's branch config in force: rules, campaigns, and the catalogue (rewards it no longer
        lists are deactivated here). Raises ConfigError and changes nothing for a config it cannot use."""
        config = branch_config_from_cloud(document)
        self.store.replace_rewards([
            {"id": r.reward_id, "name": r.name, "names": json.dumps(r.names, ensure_ascii=False),
             "cost_points": r.cost_points, "active": int(r.active), "per_member_limit": r.per_member_limit,
             "min_tier": r.min_tier, "starts_on": r.starts_on.isoformat() if r.starts_on else None,
             "ends_on": r.ends_on.isoformat() if r.ends_on else None}
            for r in config.rewards])
        self.rules, self.campaigns = config.rules, config.campaigns
        self.surveys, self.complaint_subjects = config.surveys, config.complaint_subjects
        self.branding = config.branding
        return config

    def redeem(self, member_id: str, points: int, *, reason: str = "redeemed for purchase credit",
               event_id: str | None = None) -> Recorded:
        self.settle(member_id)  # never let a shopper spend points that have already expired
        balance = self.store.balance(member_id).points
        rules.check_redeem(balance, points)
        if self.link is not None and self.link != "online":
            self.check_offline_allowance(member_id, points)
        return self.store.record(member_id, LedgerKind.REDEEM, -points, reason=reason, event_id=event_id)

    def offline_allowance(self, member_id: str) -> int:
        """Points the member may still redeem today (shop day) while the kiosk is offline."""
        local = self._clock().astimezone(self.zone)
        start = datetime.combine(local.date(), time(0), tzinfo=self.zone)
        end = start + timedelta(days=1)
        today = rules.redeemed_points(member_view.entries(self.store.history_since(member_id, start)), start, end)
        return rules.offline_redeem_allowance(today, self.rules)

    def offline(self) -> bool:
        """True while a configured cloud cannot confirm balances (no cloud at all is never offline)."""
        return self.link is not None and self.link != "online"

    def check_offline_allowance(self, member_id: str, points: int) -> None:
        """Offline, another branch may be spending the same points: cap what one day can redeem."""
        allowance = self.offline_allowance(member_id)
        if points > allowance:
            raise OfflineRedemptionCap(allowance, self.rules.offline_daily_redeem_cap)

    def joined_by_sms(self, phone_e164: str) -> str | None:
        """The member id of the chain's record for a phone that joined by SMS (the kiosk then completes it), or
        None: no such join, no cloud, or offline."""
        if self.chain_join_lookup is None or self.link == "offline":
            return None
        return self.chain_join_lookup(phone_e164)

    def enroll(self, phone_e164: str, first_name: str, last_name: str = "", *, birthday: str | None = None,
               consent: bool = False, language: str | None = None, referred_by: str | None = None,
               member_id: str | None = None, bonuses: Sequence[Bonus] = (), card: NewCard | None = None) -> Member:
        """The member with the enrolment bonus, any further ``bonuses`` and its first ``card``: one transaction.

        A phone that joined the chain by SMS keeps that record's id, so the kiosk completes it."""
        member_id = member_id or self.joined_by_sms(phone_e164)
        welcome = rules.enrollment_bonus(self.rules)
        return self.store.add_member(
            phone_e164, first_name, last_name, birthday=birthday,
            consent_version=self.settings.members.consent_version if consent else None, language=language,
            referred_by=referred_by, member_id=member_id, card=card,
            bonuses=((Bonus(welcome, "enrolment bonus"),) if welcome else ()) + tuple(bonuses),
        )

    def bind(self, member_id: str, tech: str, uid: str) -> Card:
        return self.store.bind_card(member_id, self.card_ref_for(tech, uid), tech, mask_uid(uid))
