"""One-time SMS codes for the enrolment wizard, sent and checked by the cloud's SMS hook (docs/cloud.md).

The kiosk never sees a code it did not get typed in: the cloud makes it, texts it and judges it. This module
turns the cloud client's replies and failures into the few outcomes the screen shows.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from kiosk import protocol
from kiosk.errors import CodesRateLimited, CodesUnavailable
from kiosk.sync.client import CloudClient
from kiosk.sync.errors import OtpRateLimited, SyncError

log = logging.getLogger(__name__)


class PhoneCodes:
    """Send and check codes; ``make_client`` opens a signed cloud client (one per call, so threads never share)."""

    def __init__(self, make_client: Callable[[], CloudClient]) -> None:
        self._make_client = make_client

    def send(self, phone: str, purpose: str) -> None:
        try:
            with self._make_client() as client:
                client.request_otp(phone, purpose)
        except OtpRateLimited as exc:
            raise CodesRateLimited(str(exc)) from None
        except (SyncError, OSError) as exc:
            # The phone number is personal data: log the reason only.
            log.warning("cannot send a one-time code: %s", exc)
            raise CodesUnavailable(f"codes cannot be sent now: {exc}") from None

    def check(self, phone: str, purpose: str, code: str) -> protocol.OtpVerdict:
        try:
            with self._make_client() as client:
                return client.verify_otp(phone, purpose, code)
        except (SyncError, OSError) as exc:
            log.warning("cannot check a one-time code: %s", exc)
            raise CodesUnavailable(f"the code cannot be checked now: {exc}") from None
