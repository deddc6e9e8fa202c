"""What the enrolment wizard needs of one-time SMS codes; the sync side (kiosk.sync.phone_codes) provides it."""
from __future__ import annotations

from typing import Protocol

from kiosk.protocol import OtpVerdict


class PhoneCodeService(Protocol):
    """Sends a code to a phone and judges a typed one; raises CodesUnavailable or CodesRateLimited."""

    def send(self, phone: str, purpose: str) -> None: ...

    def check(self, phone: str, purpose: str, code: str) -> OtpVerdict: ...
