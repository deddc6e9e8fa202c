"""Complaint look-ups through the cloud (POST /v1/devices/{id}/complaints/lookup): the cloud holds each case's
state and the chain's answer. This turns the client's replies and failures into what the screen shows."""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kiosk.errors import CasesRateLimited, CasesUnavailable
from kiosk.sync.client import CloudClient
from kiosk.sync.errors import CloudUnavailable, SyncError

log = logging.getLogger(__name__)


class CloudCases:
    """``make_client`` opens a signed cloud client per call, so the web server's threads never share one."""

    def __init__(self, make_client: Callable[[], CloudClient]) -> None:
        self._make_client = make_client

    def lookup(self, code: str, phone_last4: str) -> dict[str, Any] | None:
        try:
            with self._make_client() as client:
                return client.lookup_complaint(code, phone_last4)
        except CloudUnavailable as exc:
            if exc.status == 429:
                raise CasesRateLimited(str(exc), int(exc.retry_after or 60)) from None
            log.warning("cannot look a complaint up: %s", exc)  # never the code or the phone
            raise CasesUnavailable(f"the cloud cannot be asked now: {exc}") from None
        except (SyncError, OSError) as exc:
            log.warning("cannot look a complaint up: %s", exc)
            raise CasesUnavailable(f"the cloud cannot be asked now: {exc}") from None
