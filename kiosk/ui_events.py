"""The one vocabulary of what the kiosk tells its screen and its lights: UI event names, and which
light-and-sound pattern each outcome plays.

The service and the flows emit these names; the web bridge forwards the ones the page paints; the
composition root plays `feedback_for(...)` on the LEDs and buzzer (pattern names are the drivers', see
drivers/gpio/patterns.py; a test holds the two together).
"""
from __future__ import annotations

from enum import StrEnum
from typing import Any, Mapping


class UiEvent(StrEnum):
    MEMBER = "member"
    UNKNOWN_CARD = "unknown_card"
    CARD_BLOCKED = "card_blocked"
    CARD_REFUSED = "card_refused"
    READER_STATUS = "reader_status"
    BAD_READ = "bad_read"  # a frame that failed its checksum or format: "tap again", the reader still works
    ERROR = "error"
    LINK_STATE = "link_state"
    WAKE = "wake"
    POS_PENDING = "pos_pending"
    POS_RESULT = "pos_result"
    ENROLL_CARD_BOUND = "enroll_card_bound"
    ENROLL_CARD_TAKEN = "enroll_card_taken"
    RECEIPT_RESULT = "receipt_result"
    REDEEMED = "redeemed"
    STAFF_ENTER = "staff_enter"
    TILL_APPROVAL = "till_approval"  # a till asks for a staff card; then it was given
    # Outcomes the page learns from its own HTTP reply; emitted so the lights and the buzzer agree with it.
    RECEIPT_BY_PHONE = "receipt_by_phone"
    ENROLLED = "enrolled"


class Feedback(StrEnum):
    """Pattern names the shop-floor feedback device must define."""

    SUCCESS = "success"
    UNKNOWN_CARD = "unknown_card"
    REFUSED_CARD = "refused_card"
    ERROR = "error"


#: A member payload sent again after the tap's reconcile changed that member (kiosk.flows.on_screen): the
#: page repaints the same balance with it, and the buzzer stays quiet.
REFRESH = "refresh"

#: What the page paints; anything else stays on the server (a redemption's coupon goes back in its HTTP reply).
PAGE_EVENTS = frozenset(UiEvent) - {UiEvent.REDEEMED, UiEvent.RECEIPT_BY_PHONE, UiEvent.ENROLLED}

# Outcomes inside an event's payload: (event, payload key, value) -> pattern.
_BY_OUTCOME: Mapping[tuple[UiEvent, str], Mapping[Any, Feedback]] = {
    (UiEvent.POS_RESULT, "state"): {"earned": Feedback.SUCCESS, "unknown_card": Feedback.UNKNOWN_CARD,
                                    "card_blocked": Feedback.REFUSED_CARD, "failed": Feedback.ERROR},
    (UiEvent.RECEIPT_RESULT, "state"): {"claimed": Feedback.SUCCESS, "refused": Feedback.REFUSED_CARD},
    (UiEvent.RECEIPT_BY_PHONE, "state"): {"claimed": Feedback.SUCCESS, "refused": Feedback.REFUSED_CARD},
    (UiEvent.READER_STATUS, "state"): {"disconnected": Feedback.ERROR, "error": Feedback.ERROR},
    (UiEvent.TILL_APPROVAL, "state"): {"approved": Feedback.SUCCESS},
}

_BY_EVENT: Mapping[UiEvent, Feedback] = {
    UiEvent.MEMBER: Feedback.SUCCESS,
    UiEvent.ENROLL_CARD_BOUND: Feedback.SUCCESS,
    UiEvent.ENROLLED: Feedback.SUCCESS,
    UiEvent.REDEEMED: Feedback.SUCCESS,
    UiEvent.UNKNOWN_CARD: Feedback.UNKNOWN_CARD,
    UiEvent.CARD_BLOCKED: Feedback.REFUSED_CARD,
    UiEvent.CARD_REFUSED: Feedback.REFUSED_CARD,  # a bank card among them
    UiEvent.ENROLL_CARD_TAKEN: Feedback.REFUSED_CARD,
    UiEvent.ERROR: Feedback.ERROR,
    UiEvent.BAD_READ: Feedback.ERROR,  # the screen says "tap again"; the light and buzzer say it failed
}

#: Events that never light or sound: they change no shopper's state, or wait for one that will.
SILENT = frozenset({UiEvent.LINK_STATE, UiEvent.WAKE, UiEvent.POS_PENDING, UiEvent.STAFF_ENTER})


def feedback_for(event: str, payload: Mapping[str, Any]) -> Feedback | None:
    """The pattern an event plays on the LEDs and buzzer, or None."""
    try:
        name = UiEvent(event)
    except ValueError:
        return None
    if name is UiEvent.MEMBER and payload.get(REFRESH):
        return None  # the same tap, painted again: it already sounded
    if name in _BY_EVENT:
        return _BY_EVENT[name]
    for (outcome_event, key), patterns in _BY_OUTCOME.items():
        if outcome_event is name:
            return patterns.get(payload.get(key))
    return None


def sounding_events() -> frozenset[UiEvent]:
    """Events that make a light or a sound for at least one outcome."""
    return frozenset(_BY_EVENT) | {event for event, _ in _BY_OUTCOME}
