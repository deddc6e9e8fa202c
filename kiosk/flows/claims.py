"""One flow at a time may claim the next card tap: enrolment binding, receipt claim, POS earn, staff card swap.

The kiosk has one screen and one reader position, so a single slot is the
honest model: a newer claim replaces an older one (the screen now shows the
newer flow), and every claim expires so a walked-away shopper never leaves
the reader captured.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

from kiosk.service import CardTap, KioskService

log = logging.getLogger(__name__)

# on_tap returns True when the flow is finished with the reader, False to keep waiting (e.g. an unknown card at POS).
OnTap = Callable[[CardTap], bool]


@dataclass
class _Claim:
    owner: str
    on_tap: OnTap
    expires_at: float
    on_expire: Callable[[], None] | None


class TapClaims:
    """Registers one tap handler on the service and hands each tap to the current claim, if any."""

    def __init__(self, service: KioskService, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self._service = service
        self._now = monotonic
        self._lock = threading.Lock()
        self._claim: _Claim | None = None
        service.add_tap_handler(self._handle)

    def claim(self, owner: str, on_tap: OnTap, ttl_s: float, *, on_expire: Callable[[], None] | None = None) -> None:
        with self._lock:
            self._claim = _Claim(owner, on_tap, self._now() + ttl_s, on_expire)

    def cancel(self, owner: str | None = None) -> bool:
        """Drop the claim (only if ``owner`` holds it, when given); True if one was dropped."""
        with self._lock:
            if self._claim is None or (owner is not None and self._claim.owner != owner):
                return False
            self._claim = None
            return True

    def owner(self) -> str | None:
        self._expire()
        with self._lock:
            return self._claim.owner if self._claim else None

    def _expire(self) -> None:
        with self._lock:
            claim = self._claim
            if claim is None or claim.expires_at > self._now():
                return
            self._claim = None
        if claim.on_expire is not None:
            claim.on_expire()

    def _handle(self, tap: CardTap) -> bool:
        self._expire()
        with self._lock:
            claim = self._claim
        if claim is None:
            return False
        try:
            done = claim.on_tap(tap)
        except Exception as exc:  # a failing flow must release the reader, not capture it
            log.exception("tap claim %s failed", claim.owner)
            self._service.emit_error(exc)
            done = True
        if done:
            with self._lock:
                if self._claim is claim:
                    self._claim = None
        return True

    def close(self) -> None:
        self.cancel()
        self._service.remove_tap_handler(self._handle)
