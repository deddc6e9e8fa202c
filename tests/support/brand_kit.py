"""A chain's brand for tests: a real (tiny) PNG logo as the data URL the cloud config carries."""
from __future__ import annotations

import base64
import struct
import zlib


def png(width: int = 4, height: int = 2, rgb: tuple[int, int, int] = (200, 30, 60)) -> bytes:
    """A valid PNG of one colour, built by hand (no image library needed for a test logo)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def data_url(data: bytes, kind: str = "image/png") -> str:
    return f"data:{kind};base64," + base64.b64encode(data).decode()


def branding(**changes: object) -> dict:
    brand = {"name": {"fa": "فروشگاه گلستان", "ar": "متجر كلستان", "en": "Golestan Market"},
             "welcome": {"fa": "به باشگاه گلستان خوش آمدید", "ar": "أهلاً بكم في نادي كلستان",
                         "en": "Welcome to the Golestan club"},
             "colors": {"accent": "#2e9d5b", "background": "#1b1b2f", "panel": "#29294a", "text": "#fafafa"},
             "logo": data_url(png())}
    brand.update(changes)
    return brand
