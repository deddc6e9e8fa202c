"""A campaign's budget_points, chain-wide: a ``campaign_points`` budget leased to the kiosks in grants.

The budget follows the campaign in the branch configs: at each kiosk's engagement exchange every campaign
with a budget in its branch's config gets its budget (``campaign:<id>``, created at first sight, its total
kept equal to the config's budget_points) and the kiosk's grant topped up to its share. A kiosk adds campaign
points to purchases only from its grants, so however many kiosks run the campaign, and however long one is
offline, the chain gives no more than the budget (kiosk.rules.budgets).
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, update

from cloud import allocations
from cloud.db.schema import budgets, configs
from kiosk.rules.budgets import campaign_budget_id, campaign_share

LEASE_MINUTES = 60


def budgeted_campaigns(conn: Connection, branch: str) -> dict[str, int]:
    """campaign budget id -> budget_points of the campaigns with a budget in the branch's config."""
    body = conn.execute(select(configs.c.body).where(configs.c.branch == branch)).scalar()
    campaigns: Any = json.loads(body).get("campaigns", []) if body else []
    return {campaign_budget_id(str(c["id"])): c["budget_points"] for c in campaigns
            if isinstance(c, dict) and isinstance(c.get("budget_points"), int) and c["budget_points"] > 0}


def top_up(conn: Connection, device_id: str, branch: str, now: datetime) -> None:
    """Create or resize the branch's campaign budgets, then top this kiosk's grants up to its share."""
    for budget_id, points in budgeted_campaigns(conn, branch).items():
        known = conn.execute(select(budgets.c.total_limit).where(budgets.c.budget_id == budget_id)).first()
        if known is None:
            allocations.create_budget(conn, budget_id=budget_id, kind="campaign_points", daily_limit=None,
                                      total_limit=points, per_kiosk=campaign_share(points),
                                      lease_minutes=LEASE_MINUTES, now=now)
        elif known.total_limit != points:  # the chain changed the budget: grants already given still count
            conn.execute(update(budgets).where(budgets.c.budget_id == budget_id).values(
                total_limit=points, per_kiosk=campaign_share(points)))
        allocations.top_up(conn, device_id, budget_id, now)
