"""The cloud's branch config document checked into LoyaltyRules (pure; ConfigError names the bad key)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kiosk.errors import ConfigError
from kiosk.rules.config import LoyaltyRules, rules_from_mapping

_REWARD_KEYS = {"id": str, "name": str, "cost_points": int}
_REWARD_OPTIONAL = {"active": bool, "per_member_limit": (int, type(None))}


def rules_from_cloud(document: Mapping[str, Any]) -> LoyaltyRules:
    """LoyaltyRules from the cloud's branch config; ConfigError names the bad key.

    `rules` holds the same keys as the [loyalty] table of kiosk.toml, `tiers` the same
    tier tables; rewards must each have id, name and a positive cost_points.
    """
    rules = rules_from_mapping({**document["rules"], "tiers": document["tiers"]}, section="cloud config")
    for i, reward in enumerate(document["rewards"]):
        if not isinstance(reward, Mapping):
            raise ConfigError(f"[cloud config] rewards[{i}] must be an object with id, name, cost_points")
        for key, kind in _REWARD_KEYS.items():
            if not isinstance(reward.get(key), kind) or isinstance(reward.get(key), bool):
                raise ConfigError(f"[cloud config] rewards[{i}] needs {key} ({kind.__name__})")
        if reward["cost_points"] <= 0:
            raise ConfigError(f"[cloud config] rewards[{i}] cost_points must be more than zero")
        for key, kind in _REWARD_OPTIONAL.items():
            if key in reward and not isinstance(reward[key], kind):
                raise ConfigError(f"[cloud config] rewards[{i}] {key} has the wrong type")
        unknown = set(reward) - set(_REWARD_KEYS) - set(_REWARD_OPTIONAL)
        if unknown:
            raise ConfigError(f"[cloud config] rewards[{i}] has unknown keys {sorted(unknown)}")
    for i, campaign in enumerate(document["campaigns"]):
        if not isinstance(campaign, Mapping) or not isinstance(campaign.get("id"), str):
            raise ConfigError(f"[cloud config] campaigns[{i}] must be an object with an id")
    return rules
