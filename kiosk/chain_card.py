"""What the chain's cloud knows about one card, checked from its member look-up reply (pure)."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from kiosk import protocol


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
    credit_rial: int = 0  # the chain-wide purchase credit (0 from a cloud that does not keep it)
    coupons: tuple[dict[str, str], ...] = ()  # the member's unused coupons, issued at any branch
    birthday: str | None = None  # YYYY-MM-DD, as enrolled or last edited at any kiosk
    language: str | None = None
    profile_at: str | None = None  # when that profile was made (enrolment or the latest edit), if the cloud says

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
    credit = reply.get("credit_rial", 0)
    need(isinstance(credit, int) and not isinstance(credit, bool) and credit >= 0,
         f"credit_rial {credit!r} is not a whole number of rial >= 0")
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
        credit_rial=credit, coupons=chain_coupons_from_reply(reply), birthday=_birthday(member.get("birthday")),
        language=_language(member.get("language")), profile_at=_profile_at(member.get("profile_at")),
    )


@dataclass(frozen=True)
class ChainProfile:
    """A member's profile as the chain holds it: the latest edit made at any branch, and when it was made."""

    member_id: str
    first_name: str
    last_name: str
    birthday: str | None
    language: str | None
    at: datetime


def chain_profile_from_reply(reply: Any, member_id: str) -> ChainProfile | None:
    """The member's profile in a look-up reply; None from a cloud that does not date its profiles (nothing to
    compare with, so nothing is taken); ProtocolError names what is wrong."""
    member = reply.get("member") if isinstance(reply, dict) else None
    if not isinstance(member, dict) or member.get("profile_at") is None:
        return None
    if member.get("member_id") != member_id:
        raise protocol.ProtocolError("the cloud's member look-up reply answers for another member")
    name = member.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise protocol.ProtocolError(f"the cloud's member name {str(name)[:40]!r} is not 1..100 characters")
    try:
        at = protocol.parse_time(member["profile_at"])
    except (protocol.ProtocolError, TypeError) as exc:
        raise protocol.ProtocolError(f"the cloud's member profile_at is not a time: {exc}") from None
    first, _, last = name.strip().partition(" ")
    return ChainProfile(member_id, first, last.strip(), _birthday(member.get("birthday")),
                        _language(member.get("language")), at)


def _language(value: Any) -> str | None:
    return value if isinstance(value, str) and re.fullmatch(r"[a-z]{2,3}", value) else None


def _profile_at(value: Any) -> str | None:
    try:
        return protocol.format_time(protocol.parse_time(value)) if isinstance(value, str) else None
    except protocol.ProtocolError:
        return None


def _birthday(value: Any) -> str | None:
    """A whole date of birth the kiosk's rules can use; None for none, a day without a year or a bad one."""
    try:
        return date.fromisoformat(value).isoformat() if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        return None


MAX_CHAIN_COUPONS = 50


def chain_coupons_from_reply(reply: Any) -> tuple[dict[str, str], ...]:
    """The member's unused coupons of the whole chain in a look-up reply ({code, reward_id, branch, issued_at}
    each); () from a cloud that does not send them; ProtocolError naming what is wrong."""
    listed = reply.get("coupons", [])
    if not isinstance(listed, list) or len(listed) > MAX_CHAIN_COUPONS:
        raise protocol.ProtocolError(f"the cloud's coupons must be a list of at most {MAX_CHAIN_COUPONS}")
    found = []
    for item in listed:
        if not isinstance(item, dict) or not protocol.is_coupon_code(item.get("code")) \
                or not all(isinstance(item.get(k), str) and 0 < len(item[k]) <= 64 for k in ("reward_id", "branch")):
            raise protocol.ProtocolError(f"the cloud's coupon {str(item)[:80]!r} is not a coupon with its reward and "
                                         "branch")
        try:
            issued = protocol.parse_time(item.get("issued_at"))
        except (protocol.ProtocolError, ValueError, TypeError) as exc:
            raise protocol.ProtocolError(f"the cloud's coupon {item['code']} has a bad issued_at: {exc}") from None
        found.append({"code": item["code"], "reward_id": item["reward_id"], "branch": item["branch"],
                      "issued_at": protocol.format_time(issued)})
    return tuple(found)
