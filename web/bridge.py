"""The one bridge from service events to Socket.IO clients: the kiosk page's own sessions, nobody else.

A connect must carry the token the page got with its HTML (web/screen.py admits it); a client that cannot
show one is refused and hears nothing. Events go to the room of admitted pages, never as a broadcast.
"""
from __future__ import annotations

from typing import Any, Callable

from threading import Lock

from flask_socketio import SocketIO, emit, join_room

from kiosk.service import KioskService
from kiosk.ui_events import PAGE_EVENTS, UiEvent


Decorate = Callable[[str, dict[str, Any]], dict[str, Any]]
Admit = Callable[[Any], bool]

#: The Socket.IO room every admitted kiosk page joins; the only audience of the service's events.
PAGE_ROOM = "kiosk-page"


def connect(service: KioskService, socketio: SocketIO, admit: Admit, decorate: Decorate | None = None) -> None:
    """``admit(auth)`` decides a connect (in its request context); ``decorate`` seals ids into tokens and adds
    localised dates before a payload leaves the server."""

    @socketio.on("connect")
    def on_connect(auth: Any = None) -> bool:
        if not admit(auth):
            return False  # the client gets connect_error and no session at all
        join_room(PAGE_ROOM)
        # A page that loaded while the link changed hears where it stands now, once.
        emit(UiEvent.LINK_STATE.value, {"link": service.link})
        # ... and each card reader's state, so a reader that failed before the page loaded is announced too.
        for reader_id, status in list(service.reader_status.items()):
            emit(UiEvent.READER_STATUS.value, {"reader_id": reader_id, "state": status.state.value})
        return True

    # The sync worker reports after every exchange with the cloud; the page shows only online/offline, so it
    # hears the link when it changes, not each report (each one is a long-poll answer and a new request).
    last_link: dict[str, Any] = {}
    link_lock = Lock()

    def forward(name: str, payload: dict[str, Any]) -> None:
        if name not in PAGE_EVENTS:
            return
        if name == UiEvent.LINK_STATE:
            link = payload.get("link")
            with link_lock:
                if last_link.get("link", object()) == link:
                    return
                last_link["link"] = link
            payload = {"link": link}
        socketio.emit(name, decorate(name, payload) if decorate else payload, to=PAGE_ROOM)

    service.subscribe(forward)
