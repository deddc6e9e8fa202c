"""Checks a device request's signature headers against the device's key."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cloud.errors import CloudError
from cloud.store import CloudStore, Device
from kiosk import protocol


@dataclass
class AuthFailure(CloudError):
    """A request that is not from a registered device, or not from now."""

    code: str
    message: str
    extra: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def authenticate(
    store: CloudStore,
    headers: Any,
    method: str,
    path_and_query: str,
    body: bytes,
    now: datetime,
) -> Device:
    """The device that signed this request, or AuthFailure saying why not.

    The signature is checked before the time window, so only a real device is told
    how far its clock is off (and a replay of an old request reads as clock skew).
    """
    device_id = headers.get(protocol.HEADER_DEVICE, "")
    signature = headers.get(protocol.HEADER_SIGNATURE, "")
    if not device_id or not signature:
        raise AuthFailure(
            "unsigned",
            f"send {protocol.HEADER_DEVICE}, {protocol.HEADER_TIMESTAMP} and "
            f"{protocol.HEADER_SIGNATURE} headers (see kiosk/protocol.py)",
        )
    try:
        timestamp = protocol.parse_timestamp_header(headers.get(protocol.HEADER_TIMESTAMP))
    except protocol.ProtocolError as exc:
        raise AuthFailure("bad_timestamp", str(exc)) from None
    device = store.device(device_id)
    if device is None or not protocol.signature_matches(
        device.key, timestamp, method, path_and_query, body, signature
    ):
        # One answer for "no such device" and "wrong signature": no device enumeration.
        raise AuthFailure(
            "bad_signature",
            "the signature does not match this request; check the device key (register again if lost)",
        )
    if not protocol.within_window(timestamp, now):
        skew = protocol.clock_skew(timestamp, now).total_seconds()
        raise AuthFailure(
            "clock_skew",
            f"the device clock is {abs(skew):.0f} s {'ahead of' if skew > 0 else 'behind'} the cloud; "
            f"requests must be within {int(protocol.SIGNATURE_WINDOW.total_seconds())} s. Set the clock (NTP).",
            {"skew_seconds": round(skew, 3)},
        )
    return device
