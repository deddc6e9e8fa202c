"""Tiers, earn rules and rewards set up in the console, saved into a branch's config the kiosks pull.

The form's fields become sections of the config document with as little interpretation as possible:
numbers are read as numbers, empty fields are left out (the kiosk's default), and every other field goes
into the document as it came. The whole new document is then checked by the kiosks' own code
(kiosk.protocol.validate_config and kiosk.rules.cloud_config), so an unknown field or a bad value is
refused with the kiosk's message naming it, and the stored config stays the last good one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any

from cloud.errors import BadConfig
from cloud.names import ascii_digits
from cloud.store import BranchConfig, CloudStore
from kiosk import protocol
from kiosk.errors import KioskError
from kiosk.rules.cloud_config import BranchConfig as KioskConfig, branch_config_from_cloud
from kiosk.rules.config import BIRTHDAY_MODES, CALENDARS, LoyaltyRules
from kiosk.rules.names import LANGUAGES

# Fields of the form itself, never part of what is saved.
CONTROL_FIELDS = frozenset({"csrf_token", "branch", "etag", "action"})
# The loyalty settings the rules form shows, in the kiosk's own order; the tiers have their own table.
RULE_FIELDS = tuple(f.name for f in fields(LoyaltyRules) if f.name != "tiers")
RULE_CHOICES = {"birthday_mode": BIRTHDAY_MODES, "calendar": CALENDARS}
# name_<lang> columns are the tier's `names`, the word its screens show in that language.
TIER_COLUMNS = ("name", *(f"name_{lang}" for lang in LANGUAGES), "min_points", "multiplier_percent",
                "cashback_basis_points")
REWARD_TEXT = ("id", "min_tier", "starts_on", "ends_on")
EMPTY_TIER_ROWS = 2  # blank rows under the tiers, to add a tier without a second page


def number_or_text(raw: str) -> int | str:
    """A whole number (Persian and Arabic digits too) as an int; anything else as typed, for the kiosk to refuse."""
    value = ascii_digits(raw).strip()
    try:
        return int(value)
    except ValueError:
        return raw.strip()


def rules_from_form(form: Mapping[str, str]) -> dict[str, Any]:
    """The `rules` section from fields named rule_<setting>; an empty field keeps the kiosk's default."""
    rules: dict[str, Any] = {}
    for key, raw in form.items():
        if not key.startswith("rule_") or not raw.strip():
            continue
        name = key.removeprefix("rule_")
        rules[name] = raw.strip() if name in RULE_CHOICES else number_or_text(raw)
    return rules


def tiers_from_form(form: Mapping[str, str]) -> list[dict[str, Any]]:
    """The `tiers` list from rows tier<i>_<column>, in row order; a row left all empty is no tier.

    tier<i>_name_<lang> fields become the tier's `names`, as typed (the kiosk refuses an unknown language).
    """
    rows: dict[int, dict[str, Any]] = {}
    for key, raw in form.items():
        head, _, column = key.partition("_")
        if not head.startswith("tier") or not head[4:].isdigit() or not column or not raw.strip():
            continue
        row = rows.setdefault(int(head[4:]), {})
        if column.startswith("name_"):
            row.setdefault("names", {})[column.removeprefix("name_")] = raw.strip()
        else:
            row[column] = raw.strip() if column == "name" else number_or_text(raw)
    return [rows[i] for i in sorted(rows)]


def tier_form(tiers: list[Mapping[str, Any]]) -> dict[str, str]:
    """The tier table's fields for a config's tiers, the inverse of tiers_from_form."""
    form: dict[str, str] = {}
    for i, tier in enumerate(tiers):
        for key, value in tier.items():
            if key == "names" and isinstance(value, Mapping):
                form.update({f"tier{i}_name_{lang}": str(text) for lang, text in value.items()})
            else:
                form[f"tier{i}_{key}"] = str(value)
    return form


def reward_from_form(form: Mapping[str, str]) -> dict[str, Any]:
    """One reward from the reward form: its name per language, numbers as numbers, `active` a checkbox."""
    reward: dict[str, Any] = {}
    names = {lang: form.get(f"name_{lang}", "").strip() for lang in LANGUAGES}
    names = {lang: text for lang, text in names.items() if text}
    if names:
        reward["name"] = names
    reward["active"] = bool(form.get("active"))
    for key, raw in form.items():
        if key in CONTROL_FIELDS or key == "active" or key.startswith("name_") or not raw.strip():
            continue
        reward[key] = raw.strip() if key in REWARD_TEXT else number_or_text(raw)
    return reward


def checked(document: Mapping[str, Any]) -> KioskConfig:
    """The document as a kiosk reads it; BadConfig with the kiosk's own reason if a kiosk would refuse it."""
    try:
        return branch_config_from_cloud(protocol.validate_config(dict(document)))
    except (KioskError, protocol.InvalidConfig) as exc:
        raise BadConfig(f"the kiosks would refuse this: {exc}") from exc


def branch_document(store: CloudStore, branch: str) -> tuple[dict[str, Any], str]:
    """The branch's config and its ETag; BadConfig when the branch has none to edit yet."""
    if branch not in store.branches():
        raise BadConfig(f"unknown branch {branch!r}")
    config = store.config(branch)
    if config is None:
        # A made-up config would replace the kiosks' own settings with defaults nobody chose.
        raise BadConfig(f"branch {branch!r} has no config yet: set it first with `kiosk-cloud config set`")
    return json.loads(config.body), config.etag


def audit_view(value: Any) -> Any:
    """What the audit log keeps of a section: all of it, but a logo only as its digest and size."""
    if isinstance(value, Mapping) and isinstance(value.get("logo"), str):
        logo = value["logo"].encode()
        return {**value, "logo": f"sha256:{hashlib.sha256(logo).hexdigest()[:16]} ({len(logo)} characters)"}
    return value


def save(store: CloudStore, branch: str, etag: str, changes: Mapping[str, Any], actor: str,
         action: str) -> BranchConfig:
    """Replace the sections in `changes` (None removes an optional one) in the branch config of version `etag`.

    Checked as a kiosk would check it, audited with the changed sections before and after; the branch's
    kiosks get it at their next config pull. ConfigConflict if someone saved the branch meanwhile.
    """
    document, _ = branch_document(store, branch)
    new = json.loads(json.dumps(document))
    for section, value in changes.items():
        if value is None:
            new.pop(section, None)
        else:
            new[section] = value
    checked(new)
    view: Callable[[Any], Any] = lambda d: {s: audit_view(d.get(s)) for s in changes}  # noqa: E731
    return store.set_config(branch, new, actor=actor, expected_etag=etag, action=action, audited=view)


def with_reward(rewards: list[dict[str, Any]], reward: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The catalogue with `reward` replacing the one of its id in place, or added at the end."""
    if not reward.get("id"):
        raise BadConfig("give the reward an id, such as coffee")
    out = [dict(reward) if r.get("id") == reward["id"] else r for r in rewards]
    return out if any(r.get("id") == reward["id"] for r in rewards) else out + [dict(reward)]


def without_reward(rewards: list[dict[str, Any]], reward_id: str) -> list[dict[str, Any]]:
    if not any(r.get("id") == reward_id for r in rewards):
        raise BadConfig(f"this branch has no reward {reward_id!r}")
    return [r for r in rewards if r.get("id") != reward_id]
