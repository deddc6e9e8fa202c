"""QR codes for the screens (coupons, digital cards, referral codes) as data URIs."""
from __future__ import annotations

from collections import OrderedDict

import segno


def qr_data_uri(text: str, *, scale: int = 6) -> str:
    """An SVG data URI (allowed by the page's CSP as img-src data:), dark on white for phone cameras."""
    return segno.make(text, error="m").svg_data_uri(scale=scale, dark="#000", light="#fff")


class QrCache:
    """The data URI of a code that never changes (a member's referral code), made once per code and kept for the
    ``size`` codes used last: segno takes about a millisecond a code, on the path from a tap to the painted
    balance (benchmarks/tap_to_paint.py)."""

    def __init__(self, *, scale: int, size: int = 256) -> None:
        if size < 1:
            raise ValueError(f"a QR cache holds at least one code; got size={size}")
        self._scale = scale
        self._size = size
        self._uris: OrderedDict[str, str] = OrderedDict()

    def __call__(self, text: str) -> str:
        uri = self._uris.get(text)
        if uri is None:
            uri = self._uris[text] = qr_data_uri(text, scale=self._scale)
            if len(self._uris) > self._size:
                self._uris.popitem(last=False)
        else:
            self._uris.move_to_end(text)
        return uri

    def __len__(self) -> int:
        return len(self._uris)
