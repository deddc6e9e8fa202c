"""A/B/C value classes and the top customers, as pure functions; and a recompute over the real ledger."""

from __future__ import annotations

from cloud.analytics import recompute, top_customers, value_classes
from tests.cloud.conftest import console_members


def test_members_who_bring_the_first_80_percent_of_spend_are_a_the_next_15_b_the_rest_c():
    spend = {"a": 700, "b": 150, "c": 100, "d": 40, "e": 10, "f": 0}
    # Shares before each member: a 0 %, b 70 %, c 85 %, d 95 %, e 99 %; f bought nothing.
    assert value_classes(spend) == {"a": "A", "b": "A", "c": "B", "d": "C", "e": "C", "f": "C"}


def test_nobody_bought_anything_so_everyone_is_c():
    assert value_classes({"a": 0, "b": 0}) == {"a": "C", "b": "C"}


def test_the_top_fifth_of_members_and_their_share_of_spend():
    spend = {f"m{i}": amount for i, amount in enumerate([500, 200, 100, 100, 50, 50, 0, 0, 0, 0])}
    top, share = top_customers(spend)
    assert top == ["m0", "m1"] and share == 0.7


def test_no_buyers_means_no_top_customers():
    assert top_customers({"a": 0}) == ([], 0.0)


def test_a_recompute_scores_every_member_and_a_second_run_replaces_the_first(cloud):
    console_members(cloud)
    first = recompute(cloud.store.db, cloud.clock())
    second = recompute(cloud.store.db, cloud.clock())
    assert first.members == second.members == 5 and first.top_count == 1
    with cloud.store.db.read() as conn:
        rows = conn.exec_driver_sql("SELECT member_id, segment, value_class, frequency FROM member_segments"
                                    " ORDER BY member_id").all()
    assert len(rows) == 5
    assert {r[0]: r[2] for r in rows}["m-ali"] == "A"
    assert {r[0]: r[3] for r in rows} == {"m-ali": 3, "m-nima": 0, "m-reza": 1, "m-sara": 1, "m-zahra": 2}
