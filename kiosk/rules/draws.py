"""Draws: buying entries with points, and the verifiable choice of winners (docs/draws.md).

The cloud commits to a secret seed by publishing SHA-256(seed) before the draw closes; after it closes the
seed is revealed and anyone recomputes the winners from the seed and the published entries with
:func:`draw_winners`. Pure functions: the kiosk, the cloud and `kiosk-cloud draws verify` share them.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from kiosk.errors import EngagementRefused, InsufficientPoints
from kiosk.rules.ledger import require_aware, require_int

SEED_HEX = re.compile(r"[0-9a-f]{64}")
MAX_ENTRIES_PER_PURCHASE = 20


@dataclass(frozen=True)
class Ticket:
    """One chance in a draw: entry `entry_id` bought `count` chances, numbered 1..count."""

    ticket_id: str
    member_id: str


@dataclass(frozen=True)
class Winner:
    rank: int          # 1 = the first prize in the draw's prize list
    prize: str
    ticket_id: str
    member_id: str


def seed_hash(seed_hex: str) -> str:
    """The commitment published before the draw closes: SHA-256 over the seed's 32 raw bytes, as hex."""
    if not isinstance(seed_hex, str) or not SEED_HEX.fullmatch(seed_hex):
        raise ValueError("a draw seed is 64 lowercase hex characters (32 bytes)")
    return hashlib.sha256(bytes.fromhex(seed_hex)).hexdigest()


def entry_cost(price_points: int, count: int) -> int:
    """Points for `count` entries; EngagementRefused for a count outside 1..MAX_ENTRIES_PER_PURCHASE."""
    require_int("price_points", price_points)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_ENTRIES_PER_PURCHASE:
        raise EngagementRefused("bad_count", f"buy 1 to {MAX_ENTRIES_PER_PURCHASE} entries at a time, got {count!r}")
    if price_points < 1:
        raise ValueError(f"a draw entry costs at least 1 point, got {price_points}")
    return price_points * count


def check_open(starts_at: datetime, ends_at: datetime, now: datetime) -> None:
    """EngagementRefused("draw_closed") outside [starts_at, ends_at)."""
    require_aware("now", now)
    if not starts_at <= now < ends_at:
        raise EngagementRefused("draw_closed", f"the draw takes entries from {starts_at.isoformat()} "
                                               f"until {ends_at.isoformat()}")


def check_entry(*, balance: int, price_points: int, count: int, starts_at: datetime, ends_at: datetime,
                now: datetime) -> int:
    """The points to debit for `count` entries bought at `now`, or EngagementRefused / InsufficientPoints."""
    check_open(starts_at, ends_at, now)
    cost = entry_cost(price_points, count)
    if cost > balance:
        raise InsufficientPoints(cost, max(balance, 0))
    return cost


def tickets(entries: Iterable[tuple[str, str, int]]) -> list[Ticket]:
    """Every chance as a ticket, sorted by ticket id: (entry_id, member_id, count) -> entry_id:1..count.

    The sort makes the list independent of the order the entries arrived in, so the cloud and anyone
    verifying build the same list from the published entries.
    """
    out = []
    for entry_id, member_id, count in entries:
        require_int("count", count)
        out.extend(Ticket(f"{entry_id}:{n:03d}", member_id) for n in range(1, count + 1))
    ids = [t.ticket_id for t in out]
    if len(set(ids)) != len(ids):
        raise ValueError("an entry id is listed twice; each entry is listed once with its count")
    return sorted(out, key=lambda t: t.ticket_id)


def draw_winners(seed_hex: str, ordered: Sequence[Ticket], prizes: Sequence[str]) -> list[Winner]:
    """The winners, one prize per member at most, deterministic in (seed, tickets, prizes).

    For prize rank r (1-based) and attempt a = 0, 1, ...: index = int(SHA-256(seed_bytes || "r:a")) mod
    len(tickets); the ticket at that index wins unless its member already won, in which case the next
    attempt is tried. Stops when every prize is given or every member has won.
    """
    seed = bytes.fromhex(seed_hex) if SEED_HEX.fullmatch(seed_hex or "") else None
    if seed is None:
        raise ValueError("a draw seed is 64 lowercase hex characters (32 bytes)")
    if list(ordered) != sorted(ordered, key=lambda t: t.ticket_id):
        raise ValueError("tickets must be sorted by ticket id (use tickets())")
    members = {t.member_id for t in ordered}
    won: set[str] = set()
    winners = []
    for rank, prize in enumerate(prizes, start=1):
        if len(won) == len(members):
            break
        attempt = 0
        while True:
            digest = hashlib.sha256(seed + f"{rank}:{attempt}".encode()).digest()
            ticket = ordered[int.from_bytes(digest, "big") % len(ordered)]
            attempt += 1
            if ticket.member_id not in won:
                won.add(ticket.member_id)
                winners.append(Winner(rank, prize, ticket.ticket_id, ticket.member_id))
                break
    return winners
