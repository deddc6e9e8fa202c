"""The member whose balance the kiosk page is showing, so what that tap's reconcile learns shows at once.

The reconcile that follows a member tap runs on the sync worker after the balance was painted. When it changed
something of that member here (the chain's points or credit, a profile edited at another branch, the chain's
coupons), :meth:`MemberOnScreen.reconciled` sends the member's balance again, read afresh, on the same member
event, marked ``refresh``; the page paints it only over that same balance (web/static/kiosk.js). Nothing is sent
when the screen has moved on: another tap or screen since, or the idle time-out passed.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kiosk.service import KioskService
from kiosk.ui_events import REFRESH, UiEvent

# Events that leave the balance on screen; any other screen event means the page shows something else now.
KEEPS_SCREEN = frozenset({UiEvent.LINK_STATE, UiEvent.READER_STATUS, UiEvent.WAKE, UiEvent.REDEEMED})


@dataclass(frozen=True)
class Shown:
    member_id: str
    card_label: str | None
    at: datetime


class MemberOnScreen:
    """Follows the service's screen events; the runtime calls :meth:`reconciled` from the sync worker."""

    def __init__(self, service: KioskService, idle_timeout_s: float) -> None:
        self._service = service
        self._idle_s = idle_timeout_s
        self._lock = threading.Lock()
        self._shown: Shown | None = None
        service.subscribe(self._seen)

    def _seen(self, name: str, payload: dict[str, Any]) -> None:
        if name == UiEvent.MEMBER:
            if not payload.get(REFRESH):
                shown = Shown(payload["member_id"], payload.get("card_label"), self._service.now())
                with self._lock:
                    self._shown = shown
        elif name not in KEEPS_SCREEN:
            self.cleared()

    def cleared(self) -> None:
        """The page went back to its attract loop (or another screen took over): nobody's balance is shown."""
        with self._lock:
            self._shown = None

    def showing(self, member_id: str) -> Shown | None:
        """What is shown of ``member_id``, if it is that member's balance and the idle time-out has not passed."""
        with self._lock:
            shown = self._shown
        if shown is None or shown.member_id != member_id:
            return None
        if (self._service.now() - shown.at).total_seconds() >= self._idle_s:
            return None
        return shown

    def reconciled(self, member_id: str) -> bool:
        """The reconcile changed ``member_id`` here: repaint their balance if it is still on screen (True)."""
        shown = self.showing(member_id)
        if shown is None:
            return False
        screen = {**self._service.summary(member_id), "card_label": shown.card_label, REFRESH: True}
        with self._lock:  # another tap while the balance was read takes the screen: do not paint over it
            if self._shown is not shown:
                return False
        self._service.emit(UiEvent.MEMBER, screen)
        return True
