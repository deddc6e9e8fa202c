"""The one bridge from service events to Socket.IO clients."""
from __future__ import annotations

from typing import Any, Callable

from flask_socketio import SocketIO

from kiosk.service import KioskService

# Events the page knows how to paint; anything else stays on the server.
FORWARDED = frozenset(
    {"member", "unknown_card", "card_blocked", "card_refused", "reader_status", "error", "link_state", "wake",
     "pos_pending", "pos_result", "enroll_card_bound", "enroll_card_taken", "receipt_result", "staff_enter"}
)

Decorate = Callable[[str, dict[str, Any]], dict[str, Any]]


def connect(service: KioskService, socketio: SocketIO, decorate: Decorate | None = None) -> None:
    """``decorate`` seals ids into tokens and adds localised dates before a payload leaves the server."""
    def forward(name: str, payload: dict[str, Any]) -> None:
        if name in FORWARDED:
            socketio.emit(name, decorate(name, payload) if decorate else payload)

    service.subscribe(forward)
