"""Campaigns: which promotions a member is eligible for today, as pure functions.

A campaign runs from `starts_on` to `ends_on` inclusive (shop-local dates; the caller
decides what "today" is). It targets tiers and/or RFM segments: each non-empty target
list must match (gold members who are at risk), an empty list matches everyone. A
campaign may raise the earn rate; multipliers of overlapping campaigns do not stack,
the highest one applies.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from kiosk.errors import ConfigError
from kiosk.rules.config import LoyaltyRules, Tier
from kiosk.rules.ledger import is_plain_date
from kiosk.rules.segments import SEGMENTS


@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    name: str
    starts_on: date
    ends_on: date  # inclusive: the last day the campaign runs
    target_tiers: frozenset[str] = frozenset()
    target_segments: frozenset[str] = frozenset()
    earn_multiplier_percent: int = 100  # 200 = double points on top of the tier multiplier

    def __post_init__(self) -> None:
        label = f"campaign {self.campaign_id!r}"
        if not isinstance(self.campaign_id, str) or not self.campaign_id.strip():
            raise ConfigError(
                f"campaign id = {self.campaign_id!r} is not allowed: use a non-empty text id"
            )
        if not isinstance(self.name, str) or not self.name.strip():
            raise ConfigError(f"{label} name = {self.name!r} is not allowed: give it a name")
        for field in ("starts_on", "ends_on"):
            if not is_plain_date(getattr(self, field)):
                raise ConfigError(
                    f"{label} {field} = {getattr(self, field)!r} is not allowed: use a date "
                    f"such as 2026-03-21"
                )
        if self.ends_on < self.starts_on:
            raise ConfigError(
                f"{label} ends_on = {self.ends_on.isoformat()} is not allowed: it is before "
                f"starts_on {self.starts_on.isoformat()}"
            )
        for field in ("target_tiers", "target_segments"):
            value = getattr(self, field)
            if isinstance(value, str) or not isinstance(value, (set, frozenset, list, tuple)) \
                    or not all(isinstance(v, str) for v in value):
                raise ConfigError(
                    f"{label} {field} = {value!r} is not allowed: give a list of names, "
                    f"empty for everyone"
                )
            object.__setattr__(self, field, frozenset(value))
        unknown = sorted(self.target_segments - set(SEGMENTS))
        if unknown:
            raise ConfigError(
                f"{label} target_segments has unknown segment {unknown[0]!r}: use "
                f"{', '.join(SEGMENTS)}"
            )
        m = self.earn_multiplier_percent
        if isinstance(m, bool) or not isinstance(m, int) or m < 100:
            raise ConfigError(
                f"{label} earn_multiplier_percent = {m!r} is not allowed: use a whole number "
                f"of at least 100 (100 = no extra points, 200 = double points)"
            )

    def check_tiers(self, rules: LoyaltyRules) -> None:
        """Refuse target tiers that the loyalty rules do not define (a typo targets nobody)."""
        known = [t.name for t in rules.tiers]
        unknown = sorted(self.target_tiers - set(known))
        if unknown:
            raise ConfigError(
                f"campaign {self.campaign_id!r} target_tiers has unknown tier {unknown[0]!r}: "
                f"use {', '.join(known)}"
            )


def is_running(campaign: Campaign, today: date) -> bool:
    """True from starts_on to ends_on, both included."""
    if not is_plain_date(today):
        raise TypeError(f"today must be a datetime.date (no time), got {today!r}")
    return campaign.starts_on <= today <= campaign.ends_on


def is_eligible(campaign: Campaign, today: date, tier: Tier | str, segment: str) -> bool:
    """True when the campaign runs today and targets the member's tier and segment."""
    tier_name = tier.name if isinstance(tier, Tier) else tier
    if segment not in SEGMENTS:
        raise ValueError(f"segment {segment!r} is not a known segment: use {', '.join(SEGMENTS)}")
    return (
        is_running(campaign, today)
        and (not campaign.target_tiers or tier_name in campaign.target_tiers)
        and (not campaign.target_segments or segment in campaign.target_segments)
    )


def eligible_campaigns(campaigns: Iterable[Campaign], today: date, tier: Tier | str,
                       segment: str) -> tuple[Campaign, ...]:
    """The campaigns the member may take part in today, ending soonest first."""
    chosen = [c for c in campaigns if is_eligible(c, today, tier, segment)]
    return tuple(sorted(chosen, key=lambda c: (c.ends_on, c.campaign_id)))


def campaign_multiplier_percent(eligible: Iterable[Campaign]) -> int:
    """The earn multiplier for a purchase: the highest of the eligible campaigns, or 100."""
    return max((c.earn_multiplier_percent for c in eligible), default=100)


_KEYS = ("id", "name", "starts_on", "ends_on", "target_tiers", "target_segments",
         "earn_multiplier_percent")


def campaigns_from_mapping(items: Sequence[Mapping[str, Any]], rules: LoyaltyRules,
                           section: str = "campaigns") -> tuple[Campaign, ...]:
    """Build campaigns from a parsed TOML array of tables or the cloud's JSON list.

    Dates may be TOML dates or ISO "YYYY-MM-DD" strings. Ids must be unique and target
    tiers must exist in `rules`. Errors start with "[section][index]".
    """
    if isinstance(items, (str, bytes)) or not isinstance(items, Sequence):
        raise ConfigError(f"[{section}] must be a list of campaign tables, got {items!r}")
    campaigns: list[Campaign] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        where = f"[{section}][{i}]"
        try:
            campaign = _campaign_from_table(item)
            campaign.check_tiers(rules)
        except ConfigError as exc:
            raise ConfigError(f"{where} {exc}") from exc
        if campaign.campaign_id in seen:
            raise ConfigError(
                f"{where} id = {campaign.campaign_id!r} is not allowed: campaign ids must be "
                f"unique"
            )
        seen.add(campaign.campaign_id)
        campaigns.append(campaign)
    return tuple(campaigns)


def _campaign_from_table(item: object) -> Campaign:
    if not isinstance(item, Mapping):
        raise ConfigError(f"= {item!r} is not allowed: give a table with {', '.join(_KEYS)}")
    unknown = sorted(set(item) - set(_KEYS))
    if unknown:
        raise ConfigError(f"has unknown key {unknown[0]!r}: use {', '.join(_KEYS)}")
    missing = [k for k in ("id", "name", "starts_on", "ends_on") if k not in item]
    if missing:
        raise ConfigError(f"has no {missing[0]!r}: every campaign needs id, name, starts_on "
                          f"and ends_on")
    return Campaign(
        campaign_id=item["id"],
        name=item["name"],
        starts_on=_parse_date("starts_on", item["starts_on"], item["id"]),
        ends_on=_parse_date("ends_on", item["ends_on"], item["id"]),
        target_tiers=item.get("target_tiers", frozenset()),
        target_segments=item.get("target_segments", frozenset()),
        earn_multiplier_percent=item.get("earn_multiplier_percent", 100),
    )


def _parse_date(field: str, value: object, campaign_id: object) -> date:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ConfigError(
                f"campaign {campaign_id!r} {field} = {value!r} is not allowed: use a date "
                f"such as 2026-03-21"
            ) from None
    return value  # type: ignore[return-value]  # Campaign validates non-strings
