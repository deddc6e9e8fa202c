"""Rules over the ledger: balance, applying an entry, the tier window and FIFO expiry.

Entries are plain data; every function here is pure. An event id counts once: when the
same id appears twice (a retried POS request, a re-sent sync batch) the first one wins.
All datetimes must be timezone-aware so that device and cloud times compare correctly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from enum import StrEnum
from datetime import date, datetime, timedelta

from kiosk.errors import InsufficientPoints
from kiosk.rules.config import LoyaltyRules



class LedgerKind(StrEnum):
    """The kinds of ledger row: the one spelling for the rules, the store, the protocol and the cloud."""

    EARN = "earn"
    REDEEM = "redeem"
    ADJUST = "adjust"
    EXPIRE = "expire"
    BONUS = "bonus"


KINDS = frozenset(LedgerKind)
# Kinds whose sign is fixed; "adjust" (staff or cloud corrections) may go either way.
CREDIT_KINDS = frozenset({LedgerKind.EARN, LedgerKind.BONUS})
DEBIT_KINDS = frozenset({LedgerKind.REDEEM, LedgerKind.EXPIRE})


def is_plain_date(value: object) -> bool:
    """A ``date`` without a time part (datetime is a date subclass whose time would be ignored)."""
    return isinstance(value, date) and not isinstance(value, datetime)


def require_aware(name: str, value: object) -> None:
    """Refuse a naive or non-datetime value with a message that says how to fix it."""
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{name} = {value.isoformat()} has no time zone: pass an aware datetime, "
            f"for example datetime.now(timezone.utc)"
        )


def require_int(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a whole number (int), got {value!r}")


@dataclass(frozen=True)
class Entry:
    """One ledger row as plain data; `points` is signed (+credit, -debit)."""

    event_id: str
    kind: str
    points: int
    amount: int
    created_at: datetime

    def __post_init__(self) -> None:
        if not isinstance(self.event_id, str) or not self.event_id:
            raise ValueError(f"event_id must be a non-empty string, got {self.event_id!r}")
        if self.kind not in KINDS:
            raise ValueError(
                f"kind = {self.kind!r} is not a ledger kind: use one of {', '.join(sorted(KINDS))}"
            )
        require_int("points", self.points)
        require_int("amount", self.amount)
        if self.kind in CREDIT_KINDS and self.points < 0:
            raise ValueError(
                f"a {self.kind} entry credits points, so points must be >= 0, got {self.points}; "
                f"record a correction as an adjust entry"
            )
        if self.kind in DEBIT_KINDS and self.points > 0:
            raise ValueError(
                f"a {self.kind} entry debits points, so points must be <= 0, got {self.points}"
            )
        require_aware("created_at", self.created_at)

    @classmethod
    def stored(cls, event_id: str, kind: str, points: int, amount: int, created_at: datetime) -> "Entry":
        """An entry read back from the kiosk's own ledger, whose rows were checked when written (the kind
        also by the table's CHECK): no second check. A tap converts every row of a member's ledger, and the
        checks were a large share of a long ledger's quote time (benchmarks/till.py)."""
        entry = object.__new__(cls)
        for name, value in (("event_id", event_id), ("kind", kind), ("points", points), ("amount", amount),
                            ("created_at", created_at)):
            object.__setattr__(entry, name, value)
        return entry


class UniqueEntries(tuple):
    """Entries already known to hold each event id once (a store's ledger, whose event id is its primary key):
    unique_entries takes them as they are. A long ledger's quote checked 2,000 ids four times over."""


def unique_entries(entries: Iterable[Entry]) -> Sequence[Entry]:
    """The entries in their given order with repeated event ids dropped (first wins)."""
    if isinstance(entries, UniqueEntries):
        return entries
    seen: set[str] = set()
    out = []
    for entry in entries:
        if entry.event_id not in seen:
            seen.add(entry.event_id)
            out.append(entry)
    return out


def balance_of(entries: Iterable[Entry]) -> int:
    """The sum of points, each event id counted once (first wins)."""
    return sum(e.points for e in unique_entries(entries))


def check_redeem(balance: int, cost: int) -> None:
    """Refuse a redemption of `cost` points the balance cannot cover.

    Raises ValueError for a cost that is not positive (a bug in the caller, not the
    shopper's fault) and InsufficientPoints(needed=cost, available=balance) otherwise.
    """
    require_int("balance", balance)
    require_int("cost", cost)
    if cost <= 0:
        raise ValueError(f"a redemption must cost at least 1 point, got cost={cost}")
    if cost > balance:
        raise InsufficientPoints(cost, max(balance, 0))


def apply(entries: tuple[Entry, ...], new: Entry) -> tuple[Entry, ...]:
    """The ledger with `new` appended, idempotent by event id.

    An event id that is already present returns the ledger unchanged (the first entry
    wins, even if the repeat differs). A debit that would make the balance negative is
    refused with InsufficientPoints and the ledger is not changed.
    """
    entries = tuple(entries)
    if not isinstance(new, Entry):
        raise TypeError(f"new must be an Entry, got {new!r}")
    if any(e.event_id == new.event_id for e in entries):
        return entries
    if new.points < 0:
        balance = balance_of(entries)
        if balance + new.points < 0:
            raise InsufficientPoints(-new.points, max(balance, 0))
    return (*entries, new)


def window_points(entries: Iterable[Entry], now: datetime, rules: LoyaltyRules) -> int:
    """Points credited by earn and bonus entries within the tier window ending at `now`.

    The window is (now - tier_window_days, now]: an entry exactly tier_window_days old
    has left it, and an entry dated after `now` does not count yet. Redemptions do not
    lower the tier (spending points must not cost the member their tier).
    """
    require_aware("now", now)
    start = now - timedelta(days=rules.tier_window_days)
    return sum(
        e.points
        for e in unique_entries(entries)
        if e.kind in CREDIT_KINDS and e.points > 0 and start < e.created_at <= now
    )


_CREATED_AT = attrgetter("created_at")


def open_lots(entries: Iterable[Entry]) -> list[tuple[datetime, int]]:
    """Credits still unspent after FIFO consumption, oldest first, as (created_at, points).

    Entries are taken in created_at order (ledger order for equal times). Every positive
    entry is a lot; every negative entry (redeem, expire, negative adjust) consumes the
    oldest lots first. A debit larger than all open lots leaves a deficit that later
    credits pay off before they become lots, so the open lots always sum to
    max(balance, 0).
    """
    ordered = sorted(unique_entries(entries), key=_CREATED_AT)
    # Debits always take the oldest credit left, and a deficit the next credits, so what all of them take is
    # the first `owed` points of the credits in that order, wherever the debits fall between them.
    owed = -sum(e.points for e in ordered if e.points < 0)
    lots: list[tuple[datetime, int]] = []
    for entry in ordered:
        if entry.points <= 0:
            continue
        if owed >= entry.points:
            owed -= entry.points
        else:
            lots.append((entry.created_at, entry.points - owed))
            owed = 0
    return lots


def expiring_points(entries: Iterable[Entry], now: datetime, rules: LoyaltyRules) -> int:
    """How many points to expire at `now` (>= 0, never more than the balance).

    FIFO: debits consume the oldest credits first (see open_lots), and already recorded
    "expire" entries count as debits, so recording the returned amount as an expire
    entry makes the next call return 0. A credit expires once it is expiry_days old
    (created_at + expiry_days <= now). expiry_days = 0 means points never expire.

    Expiry is lazy: the service should record it before a redemption so that a shopper
    never spends points that had already expired.
    """
    require_aware("now", now)
    if rules.expiry_days == 0:
        return 0
    age = timedelta(days=rules.expiry_days)
    return sum(left for at, left in open_lots(entries) if at + age <= now)


def expiry_schedule(entries: Iterable[Entry], now: datetime,
                    rules: LoyaltyRules) -> tuple[tuple[datetime, int], ...]:
    """Points that will expire after `now`, as (expires_at, points) sorted by time.

    Lots that expire at the same moment are merged. Points already due at `now` are not
    listed (they are expiring_points). Empty when points never expire.
    """
    require_aware("now", now)
    if rules.expiry_days == 0:
        return ()
    age = timedelta(days=rules.expiry_days)
    schedule: list[tuple[datetime, int]] = []
    for at, left in open_lots(entries):
        expires_at = at + age
        if expires_at <= now:
            continue
        if schedule and schedule[-1][0] == expires_at:
            schedule[-1] = (expires_at, schedule[-1][1] + left)
        else:
            schedule.append((expires_at, left))
    return tuple(schedule)


def redeemed_points(entries: Iterable[Entry], start: datetime, end: datetime) -> int:
    """Points spent by "redeem" entries in [start, end), e.g. one shop day; >= 0."""
    require_aware("start", start)
    require_aware("end", end)
    return -sum(e.points for e in unique_entries(entries)
                if e.kind == LedgerKind.REDEEM and start <= e.created_at < end)


def offline_redeem_allowance(redeemed_today: int, rules: LoyaltyRules) -> int:
    """Points the member may still redeem today while the kiosk is offline (>= 0).

    `redeemed_today` is redeemed_points(...) over the shop's current day. The service
    refuses a redemption above this while it cannot reach the cloud.
    """
    require_int("redeemed_today", redeemed_today)
    if redeemed_today < 0:
        raise ValueError(f"redeemed_today must be >= 0, got {redeemed_today}")
    return max(rules.offline_daily_redeem_cap - redeemed_today, 0)
