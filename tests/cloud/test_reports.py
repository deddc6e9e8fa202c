"""The weekly report and the campaign results, summed in SQL on both engines, against figures worked out in plain
Python from the generated chain's events (tests/cloud/reports_kit.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from cloud import campaign_results, reports
from cloud.analytics import recompute
from cloud.db.schema import member_segments
from cloud.store import CloudStore
from tests.cloud import reports_kit as kit
from tests.cloud.reports_kit import NOW


@pytest.fixture
def chain(database):
    with CloudStore(database, clock=lambda: NOW) as store:
        built = kit.build(store)
        recompute(store.db, NOW)
        yield store, built


def test_weeks_run_saturday_to_friday_in_tehran_and_end_with_the_running_week():
    weeks = reports.weeks_until(datetime(2026, 5, 6, 12, tzinfo=timezone.utc), 3)
    assert [w.starts_on for w in weeks] == [date(2026, 4, 18), date(2026, 4, 25), date(2026, 5, 2)]
    # Saturday midnight in Tehran (UTC+3:30) is Friday 20:30 UTC.
    assert weeks[-1].start == "2026-05-01T20:30:00.000000Z" and weeks[-1].end == "2026-05-08T20:30:00.000000Z"


def test_a_report_of_no_weeks_or_too_many_is_refused_with_the_limit():
    with pytest.raises(ValueError, match="1 to 52"):
        reports.weeks_until(NOW, 0)
    with pytest.raises(ValueError, match="1 to 52"):
        reports.weeks_until(NOW, 53)


def expected_week(chain: kit.Chain, week_start: date, branches: set[str]) -> dict:
    def inside(e: dict) -> bool:
        return kit.saturday(kit.local_day(kit.at(e))) == week_start and e["branch"] in branches

    mine = [e for e in chain.events if inside(e)]
    earns = [e for e in mine if e["kind"] == "earn"]
    joined = [e for e in mine if e["kind"] == "member_enrolled"]
    return {"new_members": len(joined), "active_members": len({e["member_id"] for e in earns}),
            "purchases": len(earns), "amount": sum(e["amount"] for e in earns),
            "points_earned": sum(e["points"] for e in mine if e["kind"] in ("earn", "bonus")),
            "points_spent": -sum(e["points"] for e in mine if e["kind"] == "redeem"),
            "cashback": sum(e.get("cashback", 0) for e in earns),
            "redemptions": sum(1 for e in mine if e["kind"] == "redeem")}


def expected_tiers(chain: kit.Chain, moment: datetime, branches: set[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for member, (branch, joined) in kit.home(chain).items():
        if branch in branches and joined <= moment:
            tier = kit.tier_at(chain, member, moment, branch)
            counts[tier] = counts.get(tier, 0) + 1
    return counts


def test_every_weekly_figure_per_branch_and_in_total_matches_the_events_counted_one_by_one(chain):
    store, built = chain
    with store.db.read() as conn:
        report = reports.weekly(conn, NOW, 12, None)
    assert report.branches == ["shiraz-02", "tehran-01"]
    assert report.tier_names == ["bronze", "silver", "gold"]
    assert len(report.rows) == 12 * 3
    for row in report.rows:
        branches = {row.branch} if row.branch else set(kit.BRANCHES)
        assert row.figures == expected_week(built, row.week.starts_on, branches), (row.week, row.branch)
        moment = min(kit.protocol.parse_time(row.week.end) - timedelta(microseconds=1), NOW)
        assert row.tiers == expected_tiers(built, moment, branches), (row.week, row.branch)
    assert sum(r.figures["purchases"] for r in report.rows if r.branch is None) > 50  # the data set is not empty


def test_a_branch_managers_report_holds_only_their_branch(chain):
    store, built = chain
    with store.db.read() as conn:
        report = reports.weekly(conn, NOW, 4, frozenset({"tehran-01"}))
    assert report.branches == ["tehran-01"] and {r.branch for r in report.rows} == {"tehran-01", None}
    for row in report.rows:
        assert row.figures == expected_week(built, row.week.starts_on, {"tehran-01"})


def expected_campaign(chain: kit.Chain, campaign_id: str, branch: str, starts: date, ends: date,
                      segments: dict[str, str]) -> dict:
    config = next(c for c in kit.CONFIGS[branch]["campaigns"] if c["id"] == campaign_id)
    start = datetime(starts.year, starts.month, starts.day, tzinfo=kit.ZONE)
    end = datetime(ends.year, ends.month, ends.day, tzinfo=kit.ZONE) + timedelta(days=1)
    last = min(end - timedelta(microseconds=1), NOW)
    reached = set()
    for member, (home, joined) in kit.home(chain).items():
        if home != branch or joined > last:
            continue
        if campaign_id == "chosen" and member not in chain.chosen:
            continue
        if "target_segments" in config and segments.get(member) not in config["target_segments"]:
            continue
        if "target_tiers" in config and kit.tier_at(chain, member, last, branch) not in config["target_tiers"]:
            continue
        reached.add(member)
    applied = [(e["member_id"], c["points"]) for e in chain.events if e["branch"] == branch and e["kind"] == "earn"
               for c in e.get("campaigns", []) if c["id"] == campaign_id]
    here = [e for e in chain.events if e["branch"] == branch and e["member_id"] in reached]
    during = [e for e in here if start <= kit.at(e) < end]
    before = [e for e in here if start - (end - start) <= kit.at(e) < start]
    return {"reached": len(reached), "took_part": len({m for m, _ in applied}), "applied_purchases": len(applied),
            "points_given": sum(p for _, p in applied),
            "buyers": len({e["member_id"] for e in during if e["kind"] == "earn"}),
            "redemptions": sum(1 for e in during if e["kind"] == "redeem"),
            "spend_during": sum(e["amount"] for e in during if e["kind"] == "earn"),
            "spend_before": sum(e["amount"] for e in before if e["kind"] == "earn")}


def test_each_campaigns_results_per_branch_match_the_events_counted_one_by_one(chain):
    store, built = chain
    with store.db.read() as conn:
        segments = dict(conn.execute(member_segments.select().with_only_columns(
            member_segments.c.member_id, member_segments.c.segment)).all())
        listed = campaign_results.listing(conn, None)
        spring = campaign_results.results(conn, "spring", NOW, None)
        chosen = campaign_results.results(conn, "chosen", NOW, None)
    assert [(c.campaign_id, c.branches) for c in listed] == [("chosen", ("tehran-01",)),
                                                             ("spring", ("shiraz-02", "tehran-01"))]
    days = {"shiraz-02": (date(2026, 4, 18), date(2026, 4, 30)), "tehran-01": (date(2026, 4, 11), date(2026, 4, 24))}
    for row in spring[1][:-1]:
        assert row.figures == expected_campaign(built, "spring", row.branch, *days[row.branch], segments), row.branch
    total = spring[1][-1]
    assert total.branch is None and (total.starts_on, total.ends_on) == (date(2026, 4, 11), date(2026, 4, 30))
    for name in ("reached", "applied_purchases", "points_given", "buyers", "spend_during", "spend_before"):
        assert total.figures[name] == sum(r.figures[name] for r in spring[1][:-1])
    assert total.figures["took_part"] == len({e["member_id"] for e in built.events for c in e.get("campaigns", [])
                                              if c["id"] == "spring"})
    (row, _total) = chosen[1]
    assert row.figures == expected_campaign(built, "chosen", "tehran-01", date(2026, 4, 25), date(2026, 5, 10),
                                            segments)
    assert 0 < row.figures["reached"] <= len(built.chosen) and row.figures["spend_before"] > 0


def test_an_unknown_campaign_or_one_outside_a_managers_branches_has_no_results(chain):
    store, _ = chain
    with store.db.read() as conn:
        assert campaign_results.results(conn, "nope", NOW, None) is None
        assert campaign_results.results(conn, "chosen", NOW, frozenset({"shiraz-02"})) is None
        assert [c.campaign_id for c in campaign_results.listing(conn, frozenset({"shiraz-02"}))] == ["spring"]
