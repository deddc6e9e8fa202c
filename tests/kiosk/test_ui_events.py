"""One vocabulary of UI events: every event the product emits is named in kiosk.ui_events, and each either
plays a light-and-sound pattern the drivers define or is silent on purpose."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from drivers.gpio.patterns import PATTERNS
from kiosk.ui_events import PAGE_EVENTS, SILENT, Feedback, UiEvent, feedback_for, sounding_events

ROOT = Path(__file__).resolve().parents[2]


def emitted_events() -> dict[str, set[str]]:
    """The first argument of every ``.emit(...)`` call in the product, by module path."""
    found: dict[str, set[str]] = {}
    for package in ("appliance", "kiosk", "web"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "emit":
                    if node.args:
                        found.setdefault(ast.unparse(node.args[0]), set()).add(str(path.relative_to(ROOT)))
    return found


def test_every_emitted_event_is_a_member_of_the_one_vocabulary():
    names = emitted_events()
    # socketio.emit(name, ...) in the bridge forwards whatever the service emitted
    spelled = {n for n in names if n != "name"}
    assert spelled and all(n.startswith("UiEvent.") for n in spelled), sorted(spelled)
    assert {getattr(UiEvent, n.removeprefix("UiEvent.")) for n in spelled} <= set(UiEvent)


def test_every_emitted_event_either_lights_or_is_silent_on_purpose():
    emitted = {getattr(UiEvent, n.removeprefix("UiEvent.")) for n in emitted_events() if n.startswith("UiEvent.")}
    unaccounted = emitted - sounding_events() - SILENT
    assert unaccounted == set()
    assert sounding_events() & SILENT == set()


def test_every_event_in_the_vocabulary_is_emitted_somewhere():
    emitted = {getattr(UiEvent, n.removeprefix("UiEvent.")) for n in emitted_events() if n.startswith("UiEvent.")}
    assert set(UiEvent) - emitted == set()


def test_every_pattern_the_kiosk_plays_is_one_the_drivers_define():
    assert {p.value for p in Feedback} <= set(PATTERNS)


@pytest.mark.parametrize("event, payload, pattern", [
    (UiEvent.MEMBER, {}, Feedback.SUCCESS),
    (UiEvent.MEMBER, {"refresh": True}, None),  # the same tap painted again after its reconcile: no second beep
    (UiEvent.POS_RESULT, {"state": "earned"}, Feedback.SUCCESS),
    (UiEvent.POS_RESULT, {"state": "unknown_card"}, Feedback.UNKNOWN_CARD),
    (UiEvent.POS_RESULT, {"state": "card_blocked"}, Feedback.REFUSED_CARD),
    (UiEvent.POS_RESULT, {"state": "failed"}, Feedback.ERROR),
    (UiEvent.POS_RESULT, {"state": "cancelled"}, None),
    (UiEvent.RECEIPT_RESULT, {"state": "claimed"}, Feedback.SUCCESS),
    (UiEvent.RECEIPT_RESULT, {"state": "refused"}, Feedback.REFUSED_CARD),
    (UiEvent.ENROLL_CARD_BOUND, {}, Feedback.SUCCESS),
    (UiEvent.ENROLL_CARD_TAKEN, {}, Feedback.REFUSED_CARD),
    (UiEvent.REDEEMED, {}, Feedback.SUCCESS),
    (UiEvent.ENROLLED, {"card": "digital"}, Feedback.SUCCESS),
    (UiEvent.RECEIPT_BY_PHONE, {"state": "claimed"}, Feedback.SUCCESS),
    (UiEvent.RECEIPT_BY_PHONE, {"state": "refused"}, Feedback.REFUSED_CARD),
    (UiEvent.CARD_REFUSED, {"reason": "payment card"}, Feedback.REFUSED_CARD),
    (UiEvent.READER_STATUS, {"state": "disconnected"}, Feedback.ERROR),
    (UiEvent.READER_STATUS, {"state": "error"}, Feedback.ERROR),
    (UiEvent.BAD_READ, {"reader_id": "counter"}, Feedback.ERROR),
    (UiEvent.READER_STATUS, {"state": "connected"}, None),
    (UiEvent.LINK_STATE, {"link": "offline"}, None),
    ("no_such_event", {}, None),
])
def test_each_outcome_plays_its_pattern(event, payload, pattern):
    assert feedback_for(event, payload) == pattern


def test_the_page_hears_everything_but_what_only_the_lights_need():
    assert {UiEvent.REDEEMED, UiEvent.ENROLLED, UiEvent.RECEIPT_BY_PHONE}.isdisjoint(PAGE_EVENTS)
    assert {UiEvent.MEMBER, UiEvent.POS_RESULT, UiEvent.STAFF_ENTER} <= PAGE_EVENTS
