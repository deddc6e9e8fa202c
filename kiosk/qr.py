"""QR codes for the screens (coupons, digital cards, referral codes) as data URIs."""
from __future__ import annotations

import segno


def qr_data_uri(text: str, *, scale: int = 6) -> str:
    """An SVG data URI (allowed by the page's CSP as img-src data:), dark on white for phone cameras."""
    return segno.make(text, error="m").svg_data_uri(scale=scale, dark="#000", light="#fff")
