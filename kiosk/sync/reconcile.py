"""The cloud is authoritative: turn a balance difference it reports into an `adjust` event.

Never an edit: the kiosk appends an adjust whose reason starts with
protocol.CLOUD_CORRECTION_REASON; it is forwarded like any event and the cloud keeps it
out of the chain-wide balance (it mirrors a figure the cloud already has).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from kiosk import protocol
from kiosk.errors import InsufficientPoints, UnknownMember
from kiosk.store import Store
from kiosk.sync.client import CloudClient
from kiosk.rules.ledger import LedgerKind

log = logging.getLogger(__name__)


def correction_points(cloud_balance: int, local_balance: int, pending_device_points: int) -> int:
    """Points to add locally so that local == cloud + what the cloud has not received yet."""
    return cloud_balance + pending_device_points - local_balance


@dataclass(frozen=True)
class Correction:
    member_id: str
    points: int
    cloud_balance: int
    local_balance: int


def local_position(store: Store, member_id: str) -> tuple[int, int]:
    """(local balance, points of this member's device events still waiting in the outbox).

    One SELECT, so both numbers come from the same snapshot. Corrections are left out of
    the pending sum because the cloud does not count them either.
    """
    row = store.query(
        "SELECT b.points AS balance, COALESCE(("
        "  SELECT SUM(l.points) FROM ledger l JOIN outbox o ON o.event_id = l.event_id"
        "  WHERE l.member_id = b.member_id AND o.sent_at IS NULL AND o.rejected_at IS NULL"
        "  AND NOT (l.kind = 'adjust' AND l.reason LIKE ? || '%')), 0) AS pending"
        " FROM balances b WHERE b.member_id = ?",
        (protocol.CLOUD_CORRECTION_REASON, member_id),
    )
    if not row:
        raise UnknownMember(f"no member with id {member_id} on this kiosk")
    return int(row[0]["balance"]), int(row[0]["pending"])


def reconcile_member(store: Store, client: CloudClient, member_id: str) -> Correction | None:
    """Ask the cloud for the member's balance and append an adjust for any difference.

    Call it from the sync worker's thread (SyncWorker.request_reconcile), so no batch is
    marked delivered between the cloud's answer and the local read.
    """
    found = client.lookup(member_id=member_id)
    if found is None:
        return None  # the cloud has not heard of the member yet: nothing to correct against
    cloud_balance = int(found["balance"])
    local_balance, pending = local_position(store, member_id)
    points = correction_points(cloud_balance, local_balance, pending)
    if points == 0:
        return None
    reason = f"{protocol.CLOUD_CORRECTION_REASON} chain balance {cloud_balance}"
    try:
        store.record(member_id, LedgerKind.ADJUST, points, reason=reason)
    except InsufficientPoints as exc:
        log.error("cannot apply cloud correction of %d points to %s: %s", points, member_id, exc)
        return None
    log.info("cloud correction for member %s: %+d points (cloud %d, local %d, pending %d)",
             member_id, points, cloud_balance, local_balance, pending)
    return Correction(member_id, points, cloud_balance, local_balance)
