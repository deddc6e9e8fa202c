"""Rewards catalogue rules and coupon codes, as pure functions.

Whether a member may take a reward depends on the reward (active, dates, minimum tier,
per-member limit) and the member (balance, tier, how often they took it). The answer is
plain data with reason codes so the screen can show a locked reward and say why.

Coupon codes are Crockford base32 with a Luhn mod 32 check symbol, grouped by hyphens:
"7K3M-Q9TX-2B4H-R". That alphabet has no I, L, O or U, so a code read aloud or typed at
the till survives the usual confusions, and it fits the QR alphanumeric mode (smaller
codes). Randomness is passed in (secrets.token_bytes(8)), so the function stays pure.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from kiosk.errors import ConfigError, InsufficientPoints, InvalidCouponCode, RewardNotAvailable
from kiosk.rules.config import LoyaltyRules, Tier
from kiosk.rules.ledger import is_plain_date, require_int
from kiosk.rules.names import parse_names, pick_name

# Reason codes, in the order they are reported; "points" is last because it is the one
# the member can fix at this kiosk today.
BLOCKERS = ("inactive", "not_started", "ended", "tier", "member_limit", "points")


@dataclass(frozen=True)
class Reward:
    reward_id: str
    name: str
    cost_points: int
    active: bool = True
    per_member_limit: int | None = None  # None = no limit
    min_tier: str | None = None  # lowest tier that may take it; None = every tier
    starts_on: date | None = None  # first day offered (inclusive); None = always
    ends_on: date | None = None  # last day offered (inclusive); None = no end
    names: Mapping[str, str] | None = None  # per language; None = `name` in every language

    def __post_init__(self) -> None:
        label = f"reward {self.reward_id!r}"
        if not isinstance(self.reward_id, str) or not self.reward_id.strip():
            raise ConfigError(f"reward id = {self.reward_id!r} is not allowed: use a non-empty id")
        if not isinstance(self.name, str) or not self.name.strip():
            raise ConfigError(f"{label} name = {self.name!r} is not allowed: give it a name")
        object.__setattr__(self, "names", parse_names(self.names or self.name, label))
        c = self.cost_points
        if isinstance(c, bool) or not isinstance(c, int) or c < 1:
            raise ConfigError(
                f"{label} cost_points = {c!r} is not allowed: use a whole number of at least 1"
            )
        if not isinstance(self.active, bool):
            raise ConfigError(f"{label} active = {self.active!r} is not allowed: use true or false")
        lim = self.per_member_limit
        if lim is not None and (isinstance(lim, bool) or not isinstance(lim, int) or lim < 1):
            raise ConfigError(
                f"{label} per_member_limit = {lim!r} is not allowed: use a whole number of at "
                f"least 1, or leave it out for no limit"
            )
        if self.min_tier is not None and (not isinstance(self.min_tier, str) or not self.min_tier):
            raise ConfigError(
                f"{label} min_tier = {self.min_tier!r} is not allowed: use a tier name"
            )
        for field in ("starts_on", "ends_on"):
            value = getattr(self, field)
            if value is not None and not is_plain_date(value):
                raise ConfigError(
                    f"{label} {field} = {value!r} is not allowed: use a date such as 2026-03-21"
                )
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise ConfigError(
                f"{label} ends_on = {self.ends_on.isoformat()} is not allowed: it is before "
                f"starts_on {self.starts_on.isoformat()}"
            )

    def name_in(self, language: str | None) -> str:
        return pick_name(self.names or {}, language)

    def check_tiers(self, rules: LoyaltyRules) -> None:
        """Refuse a min_tier that the loyalty rules do not define."""
        names = [t.name for t in rules.tiers]
        if self.min_tier is not None and self.min_tier not in names:
            raise ConfigError(
                f"reward {self.reward_id!r} min_tier = {self.min_tier!r} is not a tier: use "
                f"{', '.join(names)}"
            )


def reward_from_row(row: Mapping[str, Any]) -> Reward:
    """A Reward from a store row or cloud JSON: keys id, name, cost_points and optionally
    active (bool or 0/1), per_member_limit, min_tier, starts_on, ends_on (ISO strings ok).

    `name` may be one name or {"fa": ..., "ar": ..., "en": ...}; a store row keeps the
    per-language names as JSON text in `names`."""
    dates = {}
    for field in ("starts_on", "ends_on"):
        value = row.get(field)
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value)
            except ValueError:
                raise ConfigError(
                    f"reward {row.get('id')!r} {field} = {value!r} is not allowed: use a date "
                    f"such as 2026-03-21"
                ) from None
        dates[field] = value
    active = row.get("active", True)
    if active in (0, 1) and not isinstance(active, bool):
        active = bool(active)  # SQLite stores booleans as 0/1
    name, names = row.get("name"), row.get("names")
    if isinstance(names, str):
        names = json.loads(names)
    if isinstance(name, Mapping):
        names = parse_names(name, f"reward {row.get('id')!r}")
        name = pick_name(names, None)
    return Reward(
        reward_id=row.get("id"),  # type: ignore[arg-type]
        name=name,  # type: ignore[arg-type]
        names=names,
        cost_points=row.get("cost_points"),  # type: ignore[arg-type]
        active=active,
        per_member_limit=row.get("per_member_limit"),
        min_tier=row.get("min_tier"),
        **dates,
    )


@dataclass(frozen=True)
class RewardOffer:
    """A reward as one member sees it today; `blockers` empty means they can take it."""

    reward: Reward
    blockers: tuple[str, ...]
    points_short: int  # points still missing, 0 when the balance covers the cost

    @property
    def available(self) -> bool:
        return not self.blockers


def _tier_index(tier: Tier | str, rules: LoyaltyRules) -> int:
    name = tier.name if isinstance(tier, Tier) else tier
    for i, t in enumerate(rules.tiers):
        if t.name == name:
            return i
    raise ValueError(f"tier {name!r} is not one of the rules' tiers "
                     f"({', '.join(t.name for t in rules.tiers)})")


def reward_offer(reward: Reward, *, balance: int, tier: Tier | str, taken: int, today: date,
                 rules: LoyaltyRules) -> RewardOffer:
    """Everything that stands between this member and this reward today.

    `taken` is how many times the member already took the reward (their coupons for it).
    """
    require_int("balance", balance)
    require_int("taken", taken)
    if taken < 0:
        raise ValueError(f"taken must be >= 0, got {taken}")
    if not is_plain_date(today):
        raise TypeError(f"today must be a datetime.date (no time), got {today!r}")
    blockers = []
    if not reward.active:
        blockers.append("inactive")
    if reward.starts_on is not None and today < reward.starts_on:
        blockers.append("not_started")
    if reward.ends_on is not None and today > reward.ends_on:
        blockers.append("ended")
    if reward.min_tier is not None and (
            _tier_index(tier, rules) < _tier_index(reward.min_tier, rules)):
        blockers.append("tier")
    if reward.per_member_limit is not None and taken >= reward.per_member_limit:
        blockers.append("member_limit")
    short = max(reward.cost_points - balance, 0)
    if short:
        blockers.append("points")
    return RewardOffer(reward, tuple(blockers), short)


# Blockers that mean "not on offer to anyone right now": such rewards are not listed.
_HIDDEN = frozenset({"inactive", "not_started", "ended"})


def reward_offers(rewards: Iterable[Reward], *, balance: int, tier: Tier | str,
                  taken: Mapping[str, int], today: date,
                  rules: LoyaltyRules) -> tuple[RewardOffer, ...]:
    """The catalogue for one member: rewards on offer today, cheapest first.

    Rewards that are inactive or outside their dates are left out; rewards the member
    cannot take yet (tier, limit, points) stay in with their blockers so the screen can
    show them locked. `taken` maps reward id to the member's count (missing = 0).
    """
    offers = [
        reward_offer(r, balance=balance, tier=tier, taken=taken.get(r.reward_id, 0),
                     today=today, rules=rules)
        for r in rewards
    ]
    shown = [o for o in offers if not _HIDDEN.intersection(o.blockers)]
    return tuple(sorted(shown, key=lambda o: (o.reward.cost_points, o.reward.reward_id)))


def check_reward(reward: Reward, *, balance: int, tier: Tier | str, taken: int, today: date,
                 rules: LoyaltyRules) -> None:
    """Raise if the member cannot take the reward now.

    InsufficientPoints(cost, balance) when points are the only problem; otherwise
    RewardNotAvailable naming the first blocker (see BLOCKERS for the order).
    """
    offer = reward_offer(reward, balance=balance, tier=tier, taken=taken, today=today,
                         rules=rules)
    if not offer.blockers:
        return
    first = offer.blockers[0]
    if first == "points":
        raise InsufficientPoints(reward.cost_points, max(balance, 0))
    raise RewardNotAvailable(reward.reward_id, reward.name, first, _detail(reward, first))


def _detail(reward: Reward, blocker: str) -> str:
    if blocker == "not_started":
        return reward.starts_on.isoformat()  # type: ignore[union-attr]
    if blocker == "ended":
        return reward.ends_on.isoformat()  # type: ignore[union-attr]
    if blocker == "tier":
        return reward.min_tier or ""
    if blocker == "member_limit":
        return str(reward.per_member_limit)
    return ""


# --- coupon codes -----------------------------------------------------------------------

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32
_VALUE = {ch: i for i, ch in enumerate(_ALPHABET)}
# Crockford's decoding aliases: letters people type for look-alike digits.
_ALIASES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_DATA_SYMBOLS = 12  # 60 bits: collisions stay negligible across a chain's whole history


def _luhn_mod32_check(symbols: str) -> str:
    """Luhn mod N check symbol: catches every single-symbol error and most swaps."""
    factor = 2
    total = 0
    for ch in reversed(symbols):
        addend = factor * _VALUE[ch]
        factor = 3 - factor
        total += addend // 32 + addend % 32
    return _ALPHABET[(32 - total % 32) % 32]


def _luhn_mod32_valid(symbols: str) -> bool:
    factor = 1
    total = 0
    for ch in reversed(symbols):
        addend = factor * _VALUE[ch]
        factor = 3 - factor
        total += addend // 32 + addend % 32
    return total % 32 == 0


def coupon_code(raw: bytes) -> str:
    """A coupon code from 8 random bytes (pass secrets.token_bytes(8)): 'XXXX-XXXX-XXXX-C'."""
    if not isinstance(raw, bytes) or len(raw) < 8:
        raise ValueError("coupon_code needs at least 8 random bytes, e.g. secrets.token_bytes(8)")
    number = int.from_bytes(raw[:8], "big") >> 4  # keep 60 bits = 12 symbols
    data = "".join(_ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(_DATA_SYMBOLS)))
    code = data + _luhn_mod32_check(data)
    return "-".join((code[0:4], code[4:8], code[8:12], code[12]))


def parse_coupon_code(text: str) -> str:
    """The canonical form of a typed or scanned code, or InvalidCouponCode.

    Case, spaces and hyphens do not matter, and O/I/L are read as 0/1/1.
    """
    if not isinstance(text, str):
        raise InvalidCouponCode(repr(text), "it is not text")
    compact = "".join(text.split()).replace("-", "").upper().translate(_ALIASES)
    if len(compact) != _DATA_SYMBOLS + 1:
        raise InvalidCouponCode(text, f"a code has {_DATA_SYMBOLS + 1} letters and digits, "
                                      f"this has {len(compact)}")
    bad = sorted({ch for ch in compact if ch not in _VALUE})
    if bad:
        raise InvalidCouponCode(text, f"{bad[0]!r} never appears in a coupon code")
    if not _luhn_mod32_valid(compact):
        raise InvalidCouponCode(
            text, "a letter or digit is wrong (the check symbol does not match)"
        )
    return "-".join((compact[0:4], compact[4:8], compact[8:12], compact[12]))
