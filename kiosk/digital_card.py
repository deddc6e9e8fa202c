"""A digital card for members without a plastic one: a signed QR payload naming the member, and its image."""
from __future__ import annotations

import hashlib
import hmac

import segno

PREFIX = "KD1"


def digital_card_payload(secret: bytes, member_id: str) -> str:
    """``KD1.<member id>.<16 hex of HMAC>``: a scanner at any kiosk of the chain can check it offline."""
    tag = hmac.new(secret, f"{PREFIX}:{member_id}".encode(), hashlib.sha256).hexdigest()[:16]
    return f"{PREFIX}.{member_id}.{tag}"


def verify_digital_card(secret: bytes, payload: str) -> str | None:
    """The member id of a genuine payload, else None."""
    parts = payload.strip().split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        return None
    return parts[1] if hmac.compare_digest(digital_card_payload(secret, parts[1]), payload.strip()) else None


def qr_data_uri(text: str, *, scale: int = 6) -> str:
    """An SVG data URI (allowed by the page's CSP as img-src data:), dark on white for phone cameras."""
    return segno.make(text, error="m").svg_data_uri(scale=scale, dark="#000", light="#fff")
