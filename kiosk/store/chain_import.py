"""A member enrolled at another branch, copied into this kiosk's store with the chain's id and balance."""
from __future__ import annotations

import uuid

from kiosk import protocol
from kiosk.chain_card import ChainCard
from kiosk.clock import iso
from kiosk.store.database import Store
from kiosk.store.records import Card, Member

IMPORT_REASON = f"{protocol.CLOUD_CORRECTION_REASON} imported from the chain"


def member_for_import(found: ChainCard) -> Member:
    """The local member row for a chain member: same id, phone, birthday and language; the chain keeps one
    name field."""
    first, _, last = found.name.partition(" ")
    return Member(
        id=found.member_id, phone=found.phone_e164, first_name=first, last_name=last.strip(),
        birthday=found.birthday, consent_at=None, consent_version=None,  # consent stays at the home branch
        referral_code=uuid.uuid4().hex[:8].upper(), referred_by=None, language=found.language,
        device_id=f"chain:{found.branch}" if found.branch else "chain",
        created_at=iso(protocol.parse_time(found.enrolled_at)),
        # The chain's profile is dated, so a later reconcile takes only an edit made after it.
        profile_at=iso(protocol.parse_time(found.profile_at)) if found.profile_at else None,
    )


def import_chain_card(store: Store, found: ChainCard, *, tech: str, label: str) -> Card:
    """Copy the chain's member, card, balance and unused coupons into the local store (no re-enrolment sent)."""
    card = Card(card_ref=found.card_ref, member_id=found.member_id, tech=tech, label=label,
                state=found.card_state, bound_at=iso(protocol.parse_time(found.card_changed_at)))
    imported = store.import_member(member_for_import(found), card, found.balance, reason=IMPORT_REASON,
                                   credit_rial=found.credit_rial)
    if found.coupons:  # another branch's coupons are in the wallet from the first tap here
        store.hold_chain_coupons(found.member_id, found.coupons)
    return imported
