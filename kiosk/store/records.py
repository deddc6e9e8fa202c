"""The plain records the store hands out."""
from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any

from kiosk.clock import parse_iso
from kiosk.rules.ledger import CREDIT_KINDS, Entry, LedgerKind, UniqueEntries


def new_event_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Member:
    id: str
    phone: str
    first_name: str
    last_name: str
    birthday: str | None
    consent_at: str | None
    consent_version: str | None
    referral_code: str | None
    referred_by: str | None
    language: str | None
    device_id: str
    created_at: str
    profile_at: str | None = None  # when the profile held here was made; None: as enrolled (created_at)


def member_row(member: Member) -> dict[str, Any]:
    """The members row of a member written now: ``profile_at`` only once there is one (NULL is "as enrolled"),
    so a new member's row is the same on a store whose schema predates the column."""
    row = asdict(member)
    if row["profile_at"] is None:
        del row["profile_at"]
    return row


@dataclass(frozen=True)
class Bonus:
    """Points written in the same transaction as a member's enrolment or profile (all or nothing).

    ``member_id`` None is the member being written; ``event_id`` fixed where a retry must be the same event.
    """
    points: int
    reason: str
    member_id: str | None = None
    event_id: str | None = None


@dataclass(frozen=True)
class NewCard:
    """The first card bound with the enrolment, in its transaction."""
    card_ref: str
    tech: str
    label: str


@dataclass(frozen=True)
class Card:
    card_ref: str
    member_id: str
    tech: str
    label: str
    state: str
    bound_at: str


@dataclass(frozen=True)
class Balance:
    member_id: str
    points: int
    earned_total: int
    spent_rial: int
    credit_rial: int = 0  # the purchase-credit wallet (cashback), distinct from points


@dataclass(frozen=True)
class LedgerRow:
    event_id: str
    member_id: str
    kind: str
    points: int
    amount: int
    reason: str
    receipt_id: str | None
    staff_id: str | None
    device_id: str
    created_at: str

    def entry(self) -> Entry:
        """The row as the rules' entry (checked when it was written: no second check)."""
        return Entry.stored(self.event_id, self.kind, self.points, self.amount, parse_iso(self.created_at))


@dataclass(frozen=True)
class MemberSnapshot:
    """One member as a tap sees them: the member row, the balance row and the ledger, newest first."""

    member: Member
    balance: Balance
    history: tuple[LedgerRow, ...]
    coupons: tuple[dict, ...] = ()  # unused coupons, newest first: code, reward_id, created_at, name, names

    @cached_property
    def entries(self) -> UniqueEntries | tuple[Entry, ...]:
        """The history as the rules' entries, converted once per snapshot (expiry, tier, segment and streak
        all read them; a long ledger made that the cost of a tap)."""
        return tuple(r.entry() for r in self.history)

    @classmethod
    def converted(cls, member: Member, balance: Balance, history: tuple[LedgerRow, ...], coupons: tuple[dict, ...],
                  entries: tuple[Entry, ...]) -> "MemberSnapshot":
        """A snapshot whose history was converted already (kiosk.store.member_ledger keeps both)."""
        snapshot = cls(member, balance, history, coupons)
        snapshot.__dict__["entries"] = entries  # cached_property's own slot: what it would compute from history
        return snapshot

    def with_recorded(self, recorded: "Recorded") -> "MemberSnapshot":
        """The snapshot after a ledger row this process just wrote (no read needed)."""
        if not recorded.applied:
            return self
        b, row = self.balance, recorded.row
        earned = max(row.points, 0) if row.kind in CREDIT_KINDS else 0
        spent = row.amount if row.kind == LedgerKind.EARN else 0
        balance = Balance(b.member_id, recorded.balance, b.earned_total + earned, b.spent_rial + spent,
                          b.credit_rial + recorded.cashback_rial)
        history = (recorded.row, *self.history)
        if "entries" not in self.__dict__:  # not converted yet: converted when asked, as for any snapshot
            return MemberSnapshot(self.member, balance, history, self.coupons)
        new = row.entry()
        entries = (new, *self.entries)
        if all(e.event_id != row.event_id for e in self.entries):  # (a snapshot read after the write has it)
            entries = UniqueEntries(entries)
        return MemberSnapshot.converted(self.member, balance, history, self.coupons, entries)


@dataclass(frozen=True)
class Recorded:
    """What :meth:`Store.record` did: ``applied`` is False for a repeat of a known event."""

    row: LedgerRow
    applied: bool
    balance: int
    campaigns: tuple[tuple[str, int], ...] = ()  # (campaign id, points it added) for a purchase
    cashback_rial: int = 0


@dataclass(frozen=True)
class OutboxItem:
    event_id: str
    payload: str
    attempts: int
