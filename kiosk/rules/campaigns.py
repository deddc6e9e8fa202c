"""Campaigns: which promotions a member is eligible for today, as pure functions.

A campaign runs from `starts_on` to `ends_on` inclusive (shop-local dates; the caller
passes "today" in the shop's time zone, so a campaign ending on the 22nd stops at the
shop's midnight). It targets tiers, RFM segments and/or a list of member ids: each
non-empty target list must match (gold members who are at risk), an empty list matches
everyone. `per_member_limit` caps how many purchases of one member it applies to. `hours`
("17:00-20:00", shop-local, the end excluded; "22:00-02:00" runs past midnight) keeps a campaign
to a time of day on each day it runs: happy hours for high scorers.

Types (`kind`) and the precedence of overlapping campaigns (see purchase_effects):
- "multiplier": raises the earn rate; multipliers do not stack, the highest one applies.
- "bonus": fixed points on each purchase; every eligible bonus campaign adds its points.
- "discount": percent off the bill at the till; they do not stack, the highest applies.
- "birthday": percent off the bill on the member's birthday or in their birth month (the rules'
  birthday_mode and calendar, Jalali aware); a discount like the others.
- "birthday_gift": fixed points (`bonus_points`) on a purchase on the member's birthday or in their birth
  month (as "birthday"); a bonus like the others. Set per_member_limit 1 for one gift per member.
- "second_purchase": percent off the member's next purchase within `within_days` days of their
  last one; a discount like the others.
- "points_cap": once a purchase brings the balance to `cap_points`, a coupon for `reward_id` (a
  free purchase) is issued automatically, for the reward's cost in points.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any

from kiosk.errors import ConfigError
from kiosk.rules import earn_points
from kiosk.rules.bonus import is_birthday_period
from kiosk.rules.config import LoyaltyRules, Tier
from kiosk.rules.ledger import is_plain_date
from kiosk.rules.names import parse_names, pick_name
from kiosk.rules.segments import SEGMENTS

KINDS = ("multiplier", "bonus", "discount", "birthday", "birthday_gift", "second_purchase", "points_cap")
DISCOUNT_KINDS = frozenset({"discount", "birthday", "second_purchase"})
BONUS_KINDS = frozenset({"bonus", "birthday_gift"})  # fixed points on a purchase
BIRTHDAY_KINDS = frozenset({"birthday", "birthday_gift"})  # only in the member's birthday period
# The one field that gives each type its effect; a field of another type is refused.
_EFFECT = {"multiplier": "earn_multiplier_percent", "bonus": "bonus_points", "discount": "discount_percent",
           "birthday": "discount_percent", "birthday_gift": "bonus_points", "second_purchase": "discount_percent",
           "points_cap": "cap_points"}


@dataclass(frozen=True)
class Campaign:
    campaign_id: str
    name: str
    starts_on: date
    ends_on: date  # inclusive: the last day the campaign runs
    target_tiers: frozenset[str] = frozenset()
    target_segments: frozenset[str] = frozenset()
    earn_multiplier_percent: int = 100  # 200 = double points on top of the tier multiplier
    kind: str = "multiplier"
    bonus_points: int = 0  # "bonus": points added to each purchase
    discount_percent: int = 0  # "discount": percent off the bill at the till
    target_members: frozenset[str] = frozenset()
    per_member_limit: int | None = None  # purchases of one member it applies to; None = all
    names: Mapping[str, str] | None = None  # per language; None = `name` in every language
    within_days: int | None = None  # "second_purchase": days after the last purchase it stays open
    budget_points: int | None = None  # points it may give in all (at this kiosk); None = no budget
    cap_points: int = 0  # "points_cap": the balance that issues the coupon
    reward_id: str | None = None  # "points_cap": the reward whose coupon is issued
    hours: tuple[time, time] | None = None  # shop-local (from, until), until excluded; None = all day

    def __post_init__(self) -> None:
        label = f"campaign {self.campaign_id!r}"
        if not isinstance(self.campaign_id, str) or not self.campaign_id.strip():
            raise ConfigError(
                f"campaign id = {self.campaign_id!r} is not allowed: use a non-empty text id"
            )
        if not isinstance(self.name, str) or not self.name.strip():
            raise ConfigError(f"{label} name = {self.name!r} is not allowed: give it a name")
        object.__setattr__(self, "names", parse_names(self.names or self.name, label))
        if self.kind not in KINDS:
            raise ConfigError(f"{label} type = {self.kind!r} is not a campaign type: use {', '.join(KINDS)}")
        for field, low, high in (("bonus_points", 0, None), ("discount_percent", 0, 100)):
            v = getattr(self, field)
            if isinstance(v, bool) or not isinstance(v, int) or v < low or (high and v > high):
                raise ConfigError(f"{label} {field} = {v!r} is not allowed: use a whole number "
                                  f"from {low}{f' to {high}' if high else ' up'}")
        if self.kind in BONUS_KINDS and self.bonus_points < 1:
            raise ConfigError(f"{label} of type {self.kind!r} needs bonus_points of at least 1")
        if self.kind in DISCOUNT_KINDS and self.discount_percent < 1:
            raise ConfigError(f"{label} of type {self.kind!r} needs discount_percent from 1 to 100")
        w = self.within_days
        if (self.kind == "second_purchase") != (w is not None):
            raise ConfigError(f"{label} within_days = {w!r} is not allowed: a 'second_purchase' campaign needs "
                              f"within_days and no other type takes it")
        budget = self.budget_points
        if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int) or budget < 1):
            raise ConfigError(f"{label} budget_points = {budget!r} is not allowed: use a whole number of at least "
                              f"1, or leave it out for no budget")
        cap, reward = self.cap_points, self.reward_id
        if isinstance(cap, bool) or not isinstance(cap, int) or cap < 0:
            raise ConfigError(f"{label} cap_points = {cap!r} is not allowed: use a whole number of at least 1")
        if (self.kind == "points_cap") != (reward is not None) or (self.kind == "points_cap" and cap < 1):
            raise ConfigError(f"{label} reward_id = {reward!r}, cap_points = {cap!r} is not allowed: a 'points_cap' "
                              f"campaign needs cap_points of at least 1 and a reward_id, and no other type takes them")
        if reward is not None and (not isinstance(reward, str) or not reward):
            raise ConfigError(f"{label} reward_id = {reward!r} is not allowed: use the id of a reward")
        if w is not None and (isinstance(w, bool) or not isinstance(w, int) or w < 1):
            raise ConfigError(f"{label} within_days = {w!r} is not allowed: use a whole number of at least 1")
        if self.hours is not None and not (isinstance(self.hours, tuple) and len(self.hours) == 2
                                           and all(isinstance(h, time) for h in self.hours)
                                           and self.hours[0] != self.hours[1]):
            raise ConfigError(f"{label} hours = {self.hours!r} is not allowed: give a start and a different end")
        lim = self.per_member_limit
        if lim is not None and (isinstance(lim, bool) or not isinstance(lim, int) or lim < 1):
            raise ConfigError(f"{label} per_member_limit = {lim!r} is not allowed: use a whole number "
                              f"of at least 1, or leave it out for no limit")
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
        for field in ("target_tiers", "target_segments", "target_members"):
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

    def name_in(self, language: str | None) -> str:
        return pick_name(self.names or {}, language)

    def check_tiers(self, rules: LoyaltyRules) -> None:
        """Refuse target tiers that the loyalty rules do not define (a typo targets nobody)."""
        known = [t.name for t in rules.tiers]
        unknown = sorted(self.target_tiers - set(known))
        if unknown:
            raise ConfigError(
                f"campaign {self.campaign_id!r} target_tiers has unknown tier {unknown[0]!r}: "
                f"use {', '.join(known)}"
            )


def is_running(campaign: Campaign, today: date, now: time | None = None) -> bool:
    """True from starts_on to ends_on, both included, and within its hours when it has some.

    A campaign with hours needs the shop-local time of day: without `now` it is not running, so a
    caller that forgot the clock never gives happy-hour points all day. Hours that run past
    midnight ("22:00-02:00") belong to the day they start on: the small hours after `ends_on`
    still count, those before `starts_on` do not.
    """
    if not is_plain_date(today):
        raise TypeError(f"today must be a datetime.date (no time), got {today!r}")
    if campaign.hours is None:
        return campaign.starts_on <= today <= campaign.ends_on
    if now is None:
        return False
    start, until = campaign.hours
    if start < until:
        return campaign.starts_on <= today <= campaign.ends_on and start <= now < until
    if now >= start:
        return campaign.starts_on <= today <= campaign.ends_on
    if now < until:
        return campaign.starts_on < today <= campaign.ends_on + timedelta(days=1)
    return False


def is_eligible(campaign: Campaign, today: date, tier: Tier | str, segment: str,
                member_id: str | None = None, now: time | None = None) -> bool:
    """True when the campaign runs today (at `now`, for one with hours) and targets the member's tier,
    segment and id."""
    tier_name = tier.name if isinstance(tier, Tier) else tier
    if segment not in SEGMENTS:
        raise ValueError(f"segment {segment!r} is not a known segment: use {', '.join(SEGMENTS)}")
    return (
        is_running(campaign, today, now)
        and (not campaign.target_tiers or tier_name in campaign.target_tiers)
        and (not campaign.target_segments or segment in campaign.target_segments)
        and (not campaign.target_members or member_id in campaign.target_members)
    )


@dataclass(frozen=True)
class MemberDays:
    """What the birthday and second-purchase campaigns need to know of a member (shop-local dates)."""

    birthday: date | None = None
    last_purchase_on: date | None = None  # the day of their latest purchase before this one


def _occasion(campaign: Campaign, today: date, days: MemberDays, rules: LoyaltyRules | None) -> bool:
    if campaign.kind in BIRTHDAY_KINDS:
        return rules is not None and is_birthday_period(days.birthday, today, rules)
    if campaign.kind == "second_purchase":
        last = days.last_purchase_on
        return last is not None and 0 <= (today - last).days <= campaign.within_days  # type: ignore[operator]
    return True


def eligible_campaigns(campaigns: Iterable[Campaign], today: date, tier: Tier | str,
                       segment: str, member_id: str | None = None,
                       taken: Mapping[str, int] | None = None, days: MemberDays = MemberDays(),
                       rules: LoyaltyRules | None = None,
                       given: Mapping[str, int] | None = None, now: time | None = None) -> tuple[Campaign, ...]:
    """The campaigns the member may take part in today, ending soonest first.

    `taken` maps campaign id to the purchases of this member it already applied to; a
    campaign whose per_member_limit is reached is left out. Birthday campaigns need `days`
    and `rules` (birthday_mode, calendar); second-purchase ones need `days`. `given` maps
    campaign id to the points it gave so far: one whose budget_points is used up is left out
    (the purchase that crosses the budget still gets its points: a budget is never refused
    half way through a purchase). `now` is the shop-local time of day, for campaigns with hours.
    """
    taken, given = taken or {}, given or {}
    chosen = [c for c in campaigns if is_eligible(c, today, tier, segment, member_id, now)
              and _occasion(c, today, days, rules)
              and (c.per_member_limit is None or taken.get(c.campaign_id, 0) < c.per_member_limit)
              and (c.budget_points is None or given.get(c.campaign_id, 0) < c.budget_points)]
    return tuple(sorted(chosen, key=lambda c: (c.ends_on, c.campaign_id)))


def campaign_multiplier_percent(eligible: Iterable[Campaign]) -> int:
    """The earn multiplier for a purchase: the highest of the eligible campaigns, or 100."""
    return max((c.earn_multiplier_percent for c in eligible if c.kind == "multiplier"), default=100)


@dataclass(frozen=True)
class Applied:
    """What one campaign did to one purchase: extra points, or rial off the bill."""

    campaign: Campaign
    points: int = 0
    discount_rial: int = 0


def purchase_effects(eligible: Sequence[Campaign], amount_rial: int, tier: Tier,
                     rules: LoyaltyRules) -> tuple[int, tuple[Applied, ...]]:
    """(base points at the tier rate, what each applying campaign adds) for one purchase.

    Precedence: the highest multiplier wins alone (a tie goes to the one ending soonest,
    then the smaller id, i.e. the first in `eligible`); every bonus adds; the highest
    discount wins alone. Rounding is earn_points' single floor on the whole purchase.
    """
    base = earn_points(amount_rial, tier, rules)
    applied: list[Applied] = []
    multipliers = [c for c in eligible if c.kind == "multiplier" and c.earn_multiplier_percent > 100]
    if multipliers:
        best = max(multipliers, key=lambda c: c.earn_multiplier_percent)
        extra = earn_points(amount_rial, tier, rules, best.earn_multiplier_percent) - base
        applied.append(Applied(best, points=extra))
    applied += [Applied(c, points=c.bonus_points) for c in eligible if c.kind in BONUS_KINDS]
    discounts = [c for c in eligible if c.kind in DISCOUNT_KINDS]
    if discounts:
        best = max(discounts, key=lambda c: c.discount_percent)
        applied.append(Applied(best, discount_rial=amount_rial * best.discount_percent // 100))
    return base, tuple(applied)


def cap_coupons(eligible: Iterable[Campaign], balance_after: int) -> tuple[Campaign, ...]:
    """The points-cap campaigns whose cap the balance reaches after a purchase: each issues its coupon."""
    return tuple(c for c in eligible if c.kind == "points_cap" and balance_after >= c.cap_points)


_KEYS = ("id", "type", "name", "starts_on", "ends_on", "target_tiers", "target_segments",
         "target_members", "per_member_limit", "earn_multiplier_percent", "bonus_points",
         "discount_percent", "within_days", "cap_points", "reward_id", "budget_points", "hours")


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
    kind = item.get("type", "multiplier")
    if kind not in KINDS:
        raise ConfigError(f"type = {kind!r} is not a campaign type: use {', '.join(KINDS)}")
    foreign = sorted(f for f in set(_EFFECT.values()) if f in item and f != _EFFECT[kind])
    if foreign:
        raise ConfigError(f"{foreign[0]!r} is not a field of a {kind!r} campaign: use "
                          f"{_EFFECT[kind]!r}")
    names = item["name"]
    return Campaign(
        campaign_id=item["id"],
        name=names if isinstance(names, str) else pick_name(parse_names(names, f"campaign {item['id']!r}"), None),
        names=None if isinstance(names, str) else names,
        kind=kind,
        bonus_points=item.get("bonus_points", 0),
        discount_percent=item.get("discount_percent", 0),
        target_members=item.get("target_members", frozenset()),
        per_member_limit=item.get("per_member_limit"),
        within_days=item.get("within_days"),
        cap_points=item.get("cap_points", 0),
        budget_points=item.get("budget_points"),
        reward_id=item.get("reward_id"),
        starts_on=_parse_date("starts_on", item["starts_on"], item["id"]),
        ends_on=_parse_date("ends_on", item["ends_on"], item["id"]),
        target_tiers=item.get("target_tiers", frozenset()),
        target_segments=item.get("target_segments", frozenset()),
        earn_multiplier_percent=item.get("earn_multiplier_percent", 100),
        hours=_parse_hours(item.get("hours"), item["id"]),
    )


def _parse_hours(value: object, campaign_id: object) -> tuple[time, time] | None:
    """ "17:00-20:00" as (17:00, 20:00); None stays None (all day)."""
    if value is None:
        return None
    wrong = ConfigError(f"campaign {campaign_id!r} hours = {value!r} is not allowed: use shop-local hours "
                        f"such as \"17:00-20:00\" (the end excluded; \"22:00-02:00\" runs past midnight)")
    if not isinstance(value, str) or value.count("-") != 1:
        raise wrong
    try:
        start, until = (time.fromisoformat(part.strip()) for part in value.split("-"))
    except ValueError:
        raise wrong from None
    if start == until or start.second or until.second or start.microsecond or until.microsecond:
        raise wrong
    return start, until


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
