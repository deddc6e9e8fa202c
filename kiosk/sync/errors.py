"""Errors of the kiosk's link to the cloud (leaves of KioskError)."""

from __future__ import annotations

from datetime import datetime

from kiosk.errors import KioskError


class SyncError(KioskError):
    """Talking to the cloud failed; the outbox keeps the events."""


class CloudUnavailable(SyncError):
    """Network error, timeout or 5xx/429: worth retrying later."""

    def __init__(self, message: str, *, retry_after: float | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status


class MalformedAnswer(CloudUnavailable):
    """Something answered, but not with the protocol: HTML, truncated or wrong-shaped JSON, a redirect, an
    unknown status (a captive portal, a proxy's error page, a wrong URL). A failed attempt like any other:
    the events stay queued, the link is not online, the next try waits its backoff."""


class OtpRateLimited(CloudUnavailable):
    """The cloud sent this phone too many one-time codes lately; ask again after ``retry_after`` seconds."""


class CloudRefused(SyncError):
    """The cloud answered 4xx: retrying the same request will not help."""

    def __init__(self, message: str, *, status: int, code: str = "", detail: dict | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.detail = detail or {}  # the refusal's other fields (credit_short's available_rial)


class AuthRefused(CloudRefused):
    """The cloud does not accept this device's signature (lost or wrong key)."""


class ClockSkew(CloudRefused):
    """The device clock is too far from the cloud's; requests are refused until it is set."""

    def __init__(self, message: str, *, skew_seconds: float, server_time: datetime | None) -> None:
        super().__init__(message, status=401, code="clock_skew")
        self.skew_seconds = skew_seconds
        self.server_time = server_time


class NotRegistered(SyncError):
    """The kiosk has no device key yet; run `kioskctl register --cloud URL --token T`."""
