"""Members enrolled at another branch: ask the cloud about a card this kiosk does not know.

The cloud's `GET /v1/members/lookup?card_ref=` is the chain-wide answer. A card the
chain knows is copied into the local store (Store.import_member) with the member's id
and the chain balance, so the member sees their points at any branch. The look-up runs
on a thread of its own and the tap waits for it at most `timeout` seconds: a slow or
absent cloud costs one tap that long and then shows the unknown-card screen as before.
"""

from __future__ import annotations

import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from kiosk import protocol
from kiosk.store import Card, Member, Store, iso
from kiosk.sync_client import CloudClient
from kiosk.sync_errors import SyncError

log = logging.getLogger(__name__)

IMPORT_REASON = f"{protocol.CLOUD_CORRECTION_REASON} imported from the chain"


@dataclass(frozen=True)
class ChainCard:
    """What the cloud knows about one card: its member, its state and the chain balance."""

    card_ref: str
    card_state: str
    card_changed_at: str
    member_id: str
    phone_e164: str
    name: str
    enrolled_at: str
    branch: str
    balance: int

    @property
    def active(self) -> bool:
        return self.card_state == "active"


def chain_card_from_reply(reply: Any, card_ref: str) -> ChainCard:
    """Check the cloud's look-up reply for this card; ProtocolError names what is wrong."""
    def need(condition: bool, what: str) -> None:
        if not condition:
            raise protocol.ProtocolError(f"the cloud's member look-up reply is unusable: {what}")

    need(isinstance(reply, dict), "not a JSON object")
    card, member = reply.get("card"), reply.get("member")
    need(isinstance(card, dict), "no card in the reply")
    need(isinstance(member, dict), "the card's member has not reached the cloud yet")
    need(card.get("card_ref") == card_ref, "it answers for another card")
    need(card.get("state") in protocol.CARD_STATES, f"card state {card.get('state')!r} is unknown")
    need(isinstance(reply.get("member_id"), str) and reply["member_id"] == member.get("member_id")
         == card.get("member_id"), "member ids of card and member differ")
    balance = reply.get("balance")
    need(isinstance(balance, int) and not isinstance(balance, bool) and balance >= 0,
         f"balance {balance!r} is not a whole number of points >= 0")
    for key in ("phone_e164", "name", "enrolled_at"):
        need(isinstance(member.get(key), str) and member[key].strip() != "", f"member {key} is missing")
    need(isinstance(card.get("changed_at"), str), "card changed_at is missing")
    try:
        protocol.parse_time(member["enrolled_at"])
        protocol.parse_time(card["changed_at"])
    except (protocol.ProtocolError, ValueError) as exc:
        raise protocol.ProtocolError(f"the cloud's member look-up reply has a bad time: {exc}") from None
    return ChainCard(
        card_ref=card_ref, card_state=card["state"], card_changed_at=card["changed_at"],
        member_id=member["member_id"], phone_e164=member["phone_e164"], name=member["name"].strip(),
        enrolled_at=member["enrolled_at"], branch=str(member.get("branch") or ""), balance=balance,
    )


def member_for_import(found: ChainCard) -> Member:
    """The local member row for a chain member: same id and phone; the chain keeps one name field."""
    first, _, last = found.name.partition(" ")
    return Member(
        id=found.member_id, phone=found.phone_e164, first_name=first, last_name=last.strip(),
        birthday=None, consent_at=None, consent_version=None,  # consent was given (and is kept) at the home branch
        referral_code=uuid.uuid4().hex[:8].upper(), referred_by=None, language=None,
        device_id=f"chain:{found.branch}" if found.branch else "chain",
        created_at=iso(protocol.parse_time(found.enrolled_at)),
    )


def import_chain_card(store: Store, found: ChainCard, *, tech: str, label: str) -> Card:
    """Copy the chain's member, card and balance into the local store (no re-enrolment sent)."""
    card = Card(card_ref=found.card_ref, member_id=found.member_id, tech=tech, label=label,
                state=found.card_state, bound_at=iso(protocol.parse_time(found.card_changed_at)))
    return store.import_member(member_for_import(found), card, found.balance, reason=IMPORT_REASON)


class ChainCardLookup:
    """Callable card_ref -> ChainCard | None; None for unknown, unreachable, slow or garbled.

    One look-up thread: a hung request holds it until the client's own timeouts end it,
    and a tap behind it still waits no longer than `timeout`. Use as a context manager
    or call close().
    """

    def __init__(self, client: CloudClient, *, timeout: float | None = None) -> None:
        self.client = client
        self.timeout = client.timeout[1] if timeout is None else timeout
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chain-lookup")

    def __call__(self, card_ref: str) -> ChainCard | None:
        try:
            future = self._pool.submit(self.client.lookup, card_ref=card_ref)
        except RuntimeError:  # closed while the kiosk shuts down
            return None
        try:
            reply = future.result(timeout=self.timeout)
        except FutureTimeout:
            future.cancel()
            log.info("the cloud did not answer a card look-up within %.1f s; treating the card as unknown",
                     self.timeout)
            return None
        except SyncError as exc:
            log.info("card look-up failed, treating the card as unknown: %s", exc)
            return None
        if reply is None:
            return None
        try:
            return chain_card_from_reply(reply, card_ref)
        except protocol.ProtocolError as exc:
            log.warning("%s; treating the card as unknown", exc)
            return None

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.client.close()

    def __enter__(self) -> ChainCardLookup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
