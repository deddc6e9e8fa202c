"""The cloud is authoritative: turn a balance difference it reports into an `adjust` event.

Never an edit: the kiosk appends an adjust whose reason starts with
protocol.CLOUD_CORRECTION_REASON; it is forwarded like any event and the cloud keeps it
out of the chain-wide balance (it mirrors a figure the cloud already has).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from kiosk import protocol
from kiosk.chain_card import chain_coupons_from_reply, chain_profile_from_reply
from kiosk.errors import InsufficientPoints, SpendRefused, UnknownMember
from kiosk.store import Store
from kiosk.store.profiles import take_chain_profile
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


@dataclass(frozen=True)
class Reconciled:
    """What one reconcile did: the points correction (sent on like any event), and whether anything of the
    member changed here at all (points, credit, coupons, profile), which is when a screen showing them repaints."""
    correction: Correction | None
    changed: bool


def reconcile_member(store: Store, client: CloudClient, member_id: str) -> Correction | None:
    """Ask the cloud for the member's balance and append an adjust for any difference (see :func:`reconcile`)."""
    return reconcile(store, client, member_id).correction


def reconcile(store: Store, client: CloudClient, member_id: str) -> Reconciled:
    """Bring the member to the chain's figures: points, purchase credit, the chain's coupons and a newer profile.

    Call it from the sync worker's thread (SyncWorker.request_reconcile), so no batch is
    marked delivered between the cloud's answer and the local read.
    """
    found = client.lookup(member_id=member_id)
    if found is None:
        return Reconciled(None, False)  # the cloud has not heard of the member yet: nothing to correct against
    changed = _reconcile_credit(store, member_id, found.get("credit_rial"))
    changed = _reconcile_coupons(store, member_id, found) or changed
    changed = _reconcile_profile(store, member_id, found) or changed
    correction = _reconcile_points(store, member_id, int(found["balance"]))
    return Reconciled(correction, changed or correction is not None)


def _reconcile_points(store: Store, member_id: str, cloud_balance: int) -> Correction | None:
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


def local_credit_position(store: Store, member_id: str) -> tuple[int, int]:
    """(local purchase credit, rial of this member's credit moves still waiting in the outbox), in one SELECT."""
    row = store.query(
        "SELECT b.credit_rial AS credit, COALESCE(("
        "  SELECT SUM(c.amount_rial) FROM credit_ledger c JOIN outbox o ON o.event_id = c.event_id"
        "  WHERE c.member_id = b.member_id AND o.sent_at IS NULL AND o.rejected_at IS NULL), 0) AS pending"
        " FROM balances b WHERE b.member_id = ?", (member_id,))
    if not row:
        raise UnknownMember(f"no member with id {member_id} on this kiosk")
    return int(row[0]["credit"]), int(row[0]["pending"])


def _reconcile_coupons(store: Store, member_id: str, found: dict) -> bool:
    """Other branches' unused coupons join the member's wallet here (and used ones leave it); True if any did."""
    if "coupons" not in found:
        return False  # a cloud that does not list them changes nothing
    try:
        return store.hold_chain_coupons(member_id, chain_coupons_from_reply(found))
    except protocol.ProtocolError as exc:
        log.error("the chain's coupons of %s left as they were: %s", member_id, exc)
        return False


def _reconcile_profile(store: Store, member_id: str, found: dict) -> bool:
    """A profile edited at another branch after the one held here (name, birthday, language) is taken here, so
    the birthday campaigns and the screen's language follow it; an older one changes nothing."""
    try:
        profile = chain_profile_from_reply(found, member_id)
    except protocol.ProtocolError as exc:
        log.error("the profile of %s left as it was: %s", member_id, exc)
        return False
    if profile is not None and take_chain_profile(store, profile):
        log.info("member %s: took the chain's profile edited at %s", member_id, protocol.format_time(profile.at))
        return True
    return False


def _reconcile_credit(store: Store, member_id: str, cloud_credit: object) -> bool:
    """The purchase credit follows the chain like the points: credit earned or spent at another branch is
    corrected here with a 'correction' row (never sent back). A cloud without credit figures changes nothing."""
    if not isinstance(cloud_credit, int) or isinstance(cloud_credit, bool) or cloud_credit < 0:
        return False
    local, pending = local_credit_position(store, member_id)
    rial = correction_points(cloud_credit, local, pending)
    if rial == 0:
        return False
    try:
        store.correct_credit(member_id, rial, f"{protocol.CLOUD_CORRECTION_REASON} chain credit {cloud_credit}")
    except SpendRefused as exc:  # spent here meanwhile below the chain's figure: the next reconcile tries again
        log.error("cannot apply cloud credit correction of %d rial to %s: %s", rial, member_id, exc)
        return False
    log.info("cloud credit correction for member %s: %+d rial (cloud %d, local %d, pending %d)",
             member_id, rial, cloud_credit, local, pending)
    return True
