"""Reversals the cloud asks a kiosk for after the fact (issue 14; docs/engagement.md "Reconciling offline claims").

Two claims can only be judged once every kiosk's events are in: draw entries that reached the cloud after the
draw was run (counted for nothing), and a survey rewarded at a second kiosk while both were offline (the first
answer to reach the cloud keeps its reward, and the free draw entries the second answer gave count for nothing). The kiosk that took or gave the points moves them back with one
adjust in its own ledger, so the ledger stays the only record of points and `kioskctl verify` stays clean.
Pure: the kiosk's store and the cloud share these names and sums.
"""
from __future__ import annotations

from kiosk.rules.ledger import require_int

LATE_ENTRY = "late_entry"          # ref = the draw_entry event id; points charged for it are given back
REPEAT_SURVEY = "repeat_survey"    # ref = the survey_answered event id; its reward is taken back
# ref = a draw_entry event id given free for a repeated survey answer (its answer_id); the entries count for
# nothing in a draw not yet run (a run's published list stands), and points are moved only if any were charged.
REPEAT_SURVEY_ENTRY = "repeat_survey_entry"
REVERSAL_KINDS = frozenset({LATE_ENTRY, REPEAT_SURVEY, REPEAT_SURVEY_ENTRY})
# The reversals that take draw entries out of the draw (cloud/draws.py leaves them out of a run's list).
ENTRY_REVERSALS = (LATE_ENTRY, REPEAT_SURVEY_ENTRY)


def reversal_points(kind: str, *, moved: int, balance: int) -> int:
    """The adjust that undoes a claim: +charged for an entry taken out of a draw; -reward for a repeated survey, but
    never more than the member holds (points already spent stay spent: the chain forgoes them rather than go
    negative)."""
    require_int("moved", moved)
    require_int("balance", balance)
    if kind not in REVERSAL_KINDS:
        raise ValueError(f"reversal kind {kind!r} is not one of {sorted(REVERSAL_KINDS)}")
    if moved < 0 or balance < 0:
        raise ValueError("points moved and the balance are never negative")
    return moved if kind in ENTRY_REVERSALS else -min(moved, balance)


def reversal_reason(kind: str, subject: str) -> str:
    """The adjust's ledger reason: why the points moved, naming the draw or survey."""
    if kind == LATE_ENTRY:
        return f"draw {subject}: entries reached the chain after the draw was run; points returned"
    if kind == REPEAT_SURVEY_ENTRY:
        return f"draw {subject}: entries of a survey already answered at another branch; points returned"
    return f"survey {subject}: already rewarded at another branch; reward taken back"
