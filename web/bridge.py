"""The one bridge from service events to Socket.IO clients."""
from __future__ import annotations

from typing import Any, Callable

from flask_socketio import SocketIO

from kiosk.service import KioskService
from kiosk.ui_events import PAGE_EVENTS


Decorate = Callable[[str, dict[str, Any]], dict[str, Any]]


def connect(service: KioskService, socketio: SocketIO, decorate: Decorate | None = None) -> None:
    """``decorate`` seals ids into tokens and adds localised dates before a payload leaves the server."""
    def forward(name: str, payload: dict[str, Any]) -> None:
        if name in PAGE_EVENTS:
            socketio.emit(name, decorate(name, payload) if decorate else payload)

    service.subscribe(forward)
