"""Campaigns set up in the console: checked by the kiosks' own rules, previewed, saved into a branch's config.

A campaign lives in the `campaigns` list of its branch's config document, which the kiosks pull
with the existing ETag'd config request. Before anything is saved the whole new document goes
through the checks a kiosk makes (kiosk.protocol.validate_config, kiosk.rules.cloud_config and
kiosk.rules.campaigns), so the console cannot save what a kiosk would refuse.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from cloud.db.schema import events, member_segments, members
from cloud.errors import BadConfig
from cloud.members import member_tier
from cloud.store import BranchConfig, CloudStore
from kiosk import protocol
from kiosk.errors import KioskError
from kiosk.rules.campaigns import campaigns_from_mapping
from kiosk.rules.cloud_config import rules_from_cloud
from kiosk.rules.segments import SEGMENTS

@dataclass(frozen=True)
class Preview:
    reached: int
    branch_members: int
    segments_known: bool  # False until a segment run: then a segment target reaches nobody yet


def campaign_from_form(form: Mapping[str, Any]) -> dict[str, Any]:
    """The campaign as the config document holds it, from the console's form fields."""
    def text(name: str) -> str:
        return str(form.get(name, "")).strip()

    item: dict[str, Any] = {"id": text("id"), "name": text("name"), "starts_on": text("starts_on"),
                            "ends_on": text("ends_on")}
    multiplier = text("earn_multiplier_percent") or "100"
    try:
        item["earn_multiplier_percent"] = int(multiplier)
    except ValueError:
        raise BadConfig(f"earn_multiplier_percent = {multiplier!r}: give a whole number such as 200") from None
    tiers = [t.strip() for t in text("target_tiers").split(",") if t.strip()]
    segments = [s for s in SEGMENTS if form.get(f"segment_{s}")]
    if tiers:
        item["target_tiers"] = tiers
    if segments:
        item["target_segments"] = segments
    if text("hours"):
        item["hours"] = text("hours")
    return item


def with_campaign(document: Mapping[str, Any] | None, item: Mapping[str, Any]) -> dict[str, Any]:
    """The branch config with `item` added (or replacing the campaign of the same id), checked as a kiosk would."""
    if document is None:
        # A made-up config would replace the kiosks' own tiers and earn rules: the branch needs its real one.
        raise BadConfig("this branch has no config yet: set it first with `kiosk-cloud config set`")
    new = json.loads(json.dumps(document))
    new["campaigns"] = [c for c in new.get("campaigns", []) if c.get("id") != item.get("id")] + [dict(item)]
    try:
        rules = rules_from_cloud(protocol.validate_config(new))
        campaigns_from_mapping(new["campaigns"], rules)
    except (KioskError, protocol.InvalidConfig) as exc:
        raise BadConfig(f"the kiosks would refuse this campaign: {exc}") from exc
    return new


def branch_document(store: CloudStore, branch: str) -> dict[str, Any] | None:
    config = store.config(branch)
    return None if config is None else json.loads(config.body)


def preview(store: CloudStore, branch: str, item: Mapping[str, Any], now: datetime) -> Preview:
    """How many members enrolled at `branch` the campaign's tier and segment targets reach today."""
    document = with_campaign(branch_document(store, branch), item)
    body = json.dumps(document)
    tiers, segments = set(item.get("target_tiers", [])), set(item.get("target_segments", []))
    with store.db.read() as conn:
        rows = conn.execute(
            select(members.c.member_id, member_segments.c.segment)
            .select_from(members.outerjoin(member_segments, member_segments.c.member_id == members.c.member_id))
            .where(members.c.branch == branch)).all()
        known = any(r.segment is not None for r in rows)
        reached = 0
        for member_id, segment in rows:
            if segments and segment not in segments:
                continue
            if tiers:
                ledger = [dict(r._mapping) for r in conn.execute(
                    select(events.c.event_id, events.c.kind, events.c.points, events.c.amount, events.c.created_at)
                    .where(events.c.member_id == member_id, events.c.kind.in_(("earn", "bonus"))))]
                if member_tier(ledger, body, now) not in tiers:
                    continue
            reached += 1
    return Preview(reached, len(rows), known)


def save(store: CloudStore, branch: str, item: Mapping[str, Any], actor: str) -> BranchConfig:
    """Add or replace the campaign in the branch's config; audited; the branch's kiosks get it at their next pull."""
    return store.set_config(branch, with_campaign(branch_document(store, branch), item), actor=actor)
