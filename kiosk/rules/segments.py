"""RFM segmentation of one member from their ledger, as pure functions.

Recency (days since the last purchase), frequency (purchases in the window) and monetary
value (rial spent in the window) are scored 1..5 against fixed thresholds from the chain's
config, then mapped to a named segment. Fixed thresholds, not population quintiles, so a
kiosk can score a member from that member's ledger alone; `quintile_thresholds` derives
thresholds from a population (e.g. on the cloud) for the config.

A purchase is an "earn" entry; its `amount` is the rial spent. Bonuses, redemptions and
adjustments are not purchases.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from kiosk.errors import ConfigError
from kiosk.rules.ledger import Entry, require_aware, require_int, unique_entries

# Segment names, in the order they are tested (first match wins); see segment_for.
SEGMENTS = (
    "new",
    "champions",
    "loyal",
    "potential_loyalist",
    "promising",
    "at_risk",
    "needs_attention",
    "about_to_sleep",
    "hibernating",
)


def _check_thresholds(field: str, value: object, meaning: str) -> None:
    if (not isinstance(value, (tuple, list)) or len(value) != 4
            or any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in value)
            or any(a >= b for a, b in pairwise(value))):
        raise ConfigError(
            f"{field} = {value!r} is not allowed: give 4 whole numbers >= 0 in increasing "
            f"order ({meaning})"
        )


def _check_whole(field: str, value: object, minimum: int, meaning: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(
            f"{field} = {value!r} is not allowed: use a whole number of at least {minimum} "
            f"({meaning})"
        )


@dataclass(frozen=True)
class RfmRules:
    """Thresholds for RFM scores; each tuple holds the bounds for scores 5/4/3/2 or 2..5."""

    window_days: int = 365
    # Days since the last purchase: <= 14 -> 5, <= 30 -> 4, <= 90 -> 3, <= 180 -> 2, else 1.
    recency_days: tuple[int, int, int, int] = (14, 30, 90, 180)
    # Purchases in the window: >= 2 -> 2, >= 4 -> 3, >= 8 -> 4, >= 16 -> 5, else 1.
    frequency_purchases: tuple[int, int, int, int] = (2, 4, 8, 16)
    # Rial spent in the window, same reading as frequency.
    monetary_rial: tuple[int, int, int, int] = (
        1_000_000, 5_000_000, 20_000_000, 50_000_000)
    # A member enrolled fewer days ago than this is "new" whatever their scores.
    new_member_days: int = 30

    def __post_init__(self) -> None:
        _check_whole("window_days", self.window_days, 1, "days of ledger scored for F and M")
        _check_whole("new_member_days", self.new_member_days, 0,
                     "days after enrollment a member counts as new, 0 = never")
        for name, meaning in (
            ("recency_days", "most days since the last purchase for scores 5, 4, 3, 2"),
            ("frequency_purchases", "fewest purchases in the window for scores 2, 3, 4, 5"),
            ("monetary_rial", "fewest rial spent in the window for scores 2, 3, 4, 5"),
        ):
            value = getattr(self, name)
            _check_thresholds(name, value, meaning)
            object.__setattr__(self, name, tuple(value))


def rfm_rules_from_mapping(data: Mapping[str, Any], section: str = "segments") -> RfmRules:
    """Build RfmRules from a parsed config table; unknown keys are refused."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"[{section}] must be a table of RFM settings, got {data!r}")
    allowed = [f.name for f in fields(RfmRules)]
    for key in data:
        if key not in allowed:
            raise ConfigError(
                f"[{section}] {key!r} is not a known RFM setting: use one of {', '.join(allowed)}"
            )
    try:
        return RfmRules(**data)
    except ConfigError as exc:
        raise ConfigError(f"[{section}] {exc}") from exc


@dataclass(frozen=True)
class RfmValues:
    """Raw figures: recency_days is None for a member who never bought anything."""

    recency_days: int | None
    frequency: int
    monetary: int


@dataclass(frozen=True)
class RfmScores:
    recency: int
    frequency: int
    monetary: int


@dataclass(frozen=True)
class Rfm:
    values: RfmValues
    scores: RfmScores
    segment: str


def rfm_values(entries: Iterable[Entry], now: datetime, rules: RfmRules) -> RfmValues:
    """Recency over the whole ledger; frequency and monetary over (now - window_days, now].

    Entries dated after `now` are ignored; recency is counted in whole days (floored).
    """
    require_aware("now", now)
    start = now - timedelta(days=rules.window_days)
    purchases = [e for e in unique_entries(entries) if e.kind == "earn" and e.created_at <= now]
    if not purchases:
        return RfmValues(None, 0, 0)
    last = max(e.created_at for e in purchases)
    in_window = [e for e in purchases if e.created_at > start]
    return RfmValues(
        recency_days=(now - last).days,
        frequency=len(in_window),
        monetary=sum(max(e.amount, 0) for e in in_window),
    )


def _score_at_least(value: int, bounds: Sequence[int]) -> int:
    return 1 + sum(1 for bound in bounds if value >= bound)


def rfm_scores(values: RfmValues, rules: RfmRules) -> RfmScores:
    """Scores 1..5, 5 being best (most recent, most frequent, most spent)."""
    if values.recency_days is None:
        recency = 1
    else:
        recency = 5 - sum(1 for bound in rules.recency_days if values.recency_days > bound)
    return RfmScores(
        recency=recency,
        frequency=_score_at_least(values.frequency, rules.frequency_purchases),
        monetary=_score_at_least(values.monetary, rules.monetary_rial),
    )


def segment_for(scores: RfmScores, member_age_days: int, rules: RfmRules) -> str:
    """The named segment; the first matching row wins.

    new                 enrolled fewer than new_member_days ago
    champions           R >= 4, F >= 4, M >= 4
    loyal               R >= 3, F >= 4
    potential_loyalist  R >= 4, F >= 2
    promising           R >= 4 (a single recent purchase)
    at_risk             R <= 2, F >= 3 (used to buy often, not lately)
    needs_attention     R == 3
    about_to_sleep      R == 2
    hibernating         everyone else (R == 1, little or no buying)
    """
    require_int("member_age_days", member_age_days)
    r, f, m = scores.recency, scores.frequency, scores.monetary
    if 0 <= member_age_days < rules.new_member_days:
        return "new"
    if r >= 4 and f >= 4 and m >= 4:
        return "champions"
    if r >= 3 and f >= 4:
        return "loyal"
    if r >= 4 and f >= 2:
        return "potential_loyalist"
    if r >= 4:
        return "promising"
    if r <= 2 and f >= 3:
        return "at_risk"
    if r == 3:
        return "needs_attention"
    if r == 2:
        return "about_to_sleep"
    return "hibernating"


def rfm(entries: Iterable[Entry], now: datetime, rules: RfmRules,
        enrolled_at: datetime | None = None) -> Rfm:
    """Values, scores and segment of one member in one call.

    `enrolled_at` defaults to the member's earliest ledger entry (the enrollment bonus).
    A member with no ledger at all and no enrollment time is treated as just enrolled.
    """
    entries = unique_entries(entries)
    values = rfm_values(entries, now, rules)
    if enrolled_at is None and entries:
        enrolled_at = min(e.created_at for e in entries)
    if enrolled_at is None:
        age = 0
    else:
        require_aware("enrolled_at", enrolled_at)
        age = (now - enrolled_at).days
    scores = rfm_scores(values, rules)
    return Rfm(values, scores, segment_for(scores, age, rules))


def quintile_thresholds(values: Iterable[int]) -> tuple[int, int, int, int]:
    """Bounds that split a population into five near-equal groups for scores 2..5.

    Feed it every member's frequency (or monetary) to set frequency_purchases (or
    monetary_rial). Bounds are values taken from the data (no interpolation, integers
    only) and forced strictly increasing so they pass RfmRules validation.
    """
    data = sorted(values)
    if not data:
        raise ValueError("quintile_thresholds needs at least one value")
    for v in data:
        require_int("value", v)
        if v < 0:
            raise ValueError(f"values must be >= 0, got {v}")
    n = len(data)
    bounds: list[int] = []
    for k in (1, 2, 3, 4):
        bound = data[min(n - 1, k * n // 5)]
        if bounds and bound <= bounds[-1]:
            bound = bounds[-1] + 1
        bounds.append(bound)
    return tuple(bounds)  # type: ignore[return-value]
