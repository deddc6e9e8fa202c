"""The cloud's branch config document checked into rules, rewards and campaigns (pure).

Strict: an unknown section, field, type or value is refused with a ConfigError naming it,
so the sync worker keeps the last good config (kiosk.sync.worker) and the cloud refuses
the document before any kiosk sees it (cloud/cli.py, cloud/app.py).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kiosk.errors import ConfigError
from kiosk.rules.branding import Branding, branding_from_mapping
from kiosk.rules.campaigns import Campaign, campaigns_from_mapping
from kiosk.rules.complaints import DEFAULT_SUBJECTS, Subject, subjects_from_config
from kiosk.rules.config import LoyaltyRules, rules_from_mapping
from kiosk.rules.rewards import Reward, reward_from_row
from kiosk.rules.surveys import Survey, surveys_from_config

SECTIONS = ("rules", "tiers", "rewards", "campaigns")
# Sections a config may leave out (older configs have none of them): no surveys, the default complaint subjects,
# no brand (the kiosk keeps its own [branding]).
OPTIONAL_SECTIONS = ("surveys", "complaint_subjects", "branding")
_REWARD_KEYS = ("id", "name", "cost_points", "active", "per_member_limit", "min_tier", "starts_on", "ends_on")


@dataclass(frozen=True)
class BranchConfig:
    """Everything a branch config sets: the loyalty rules, the reward catalogue, the campaigns.

    A reward or campaign missing from it is no longer offered anywhere (the kiosk
    deactivates rewards the cloud dropped, and replaces its campaigns wholesale).
    """

    rules: LoyaltyRules
    rewards: tuple[Reward, ...]
    campaigns: tuple[Campaign, ...]
    surveys: tuple[Survey, ...] = ()
    complaint_subjects: tuple[Subject, ...] = DEFAULT_SUBJECTS
    branding: Branding | None = None


def branch_config_from_cloud(document: Mapping[str, Any]) -> BranchConfig:
    """The branch config from the cloud's JSON; ConfigError names the bad section, key or value."""
    if not isinstance(document, Mapping):
        raise ConfigError(f"[cloud config] must be an object with {', '.join(SECTIONS)}")
    unknown = sorted(set(document) - set(SECTIONS) - set(OPTIONAL_SECTIONS))
    if unknown:
        raise ConfigError(f"[cloud config] has unknown section {unknown[0]!r}: use "
                          f"{', '.join(SECTIONS + OPTIONAL_SECTIONS)}")
    missing = [s for s in SECTIONS if s not in document]
    if missing:
        raise ConfigError(f"[cloud config] has no {missing[0]!r} section")
    rules = rules_from_mapping({**document["rules"], "tiers": document["tiers"]}, section="cloud config")
    if not isinstance(document["rewards"], list):
        raise ConfigError("[cloud config] rewards must be a list of reward objects")
    rewards, seen = [], set()
    for i, item in enumerate(document["rewards"]):
        where = f"[cloud config] rewards[{i}]"
        if not isinstance(item, Mapping):
            raise ConfigError(f"{where} must be an object with id, name, cost_points")
        extra = sorted(set(item) - set(_REWARD_KEYS))
        if extra:
            raise ConfigError(f"{where} has unknown key {extra[0]!r}: use {', '.join(_REWARD_KEYS)}")
        for key in ("id", "name", "cost_points"):
            if key not in item:
                raise ConfigError(f"{where} has no {key!r}: every reward needs id, name and cost_points")
        if "active" in item and not isinstance(item["active"], bool):
            raise ConfigError(f"{where} active = {item['active']!r} is not allowed: use true or false")
        try:
            reward = reward_from_row(item)
            reward.check_tiers(rules)
        except ConfigError as exc:
            raise ConfigError(f"{where} {exc}") from exc
        if reward.reward_id in seen:
            raise ConfigError(f"{where} id = {reward.reward_id!r} is not allowed: reward ids must be unique")
        seen.add(reward.reward_id)
        rewards.append(reward)
    campaigns = campaigns_from_mapping(document["campaigns"], rules, section="cloud config campaigns")
    for campaign in campaigns:
        if campaign.reward_id is not None and campaign.reward_id not in seen:
            raise ConfigError(f"[cloud config campaigns] campaign {campaign.campaign_id!r} reward_id = "
                              f"{campaign.reward_id!r} is not a reward of this config: use {', '.join(sorted(seen))}")
    surveys = surveys_from_config(document.get("surveys", []))
    subjects = (subjects_from_config(document["complaint_subjects"]) if "complaint_subjects" in document
                else DEFAULT_SUBJECTS)
    branding = branding_from_mapping(document["branding"]) if "branding" in document else None
    return BranchConfig(rules, tuple(rewards), campaigns, surveys, subjects, branding)


def rules_from_cloud(document: Mapping[str, Any]) -> LoyaltyRules:
    """The loyalty rules of a branch config, after checking the whole document."""
    return branch_config_from_cloud(document).rules
