"""Judging a screenshot of the kiosk's screen taken inside the lab (grim, binary PPM): is it
the attract screen as web/static/kiosk.css paints it? Pure functions, no I/O.

The colours come from the stylesheet's own custom properties, so a restyle moves the
expectation with it; what is checked is the attract screen's shape: mostly the page
background, the accent-coloured primary button and tap hint below the top bar, white text.
A browser error page (white), a black or half-drawn output, or another screen's layout fails.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Image:
    width: int
    height: int
    pixels: bytes  # RGB, row by row

    def rgb(self, x: int, y: int) -> RGB:
        i = 3 * (y * self.width + x)
        return self.pixels[i], self.pixels[i + 1], self.pixels[i + 2]


def parse_ppm(data: bytes) -> Image:
    """A binary (P6) PPM with maxval 255, as `grim -t ppm` writes it."""
    fields: list[bytes] = []
    pos = 0
    while len(fields) < 4:
        while pos < len(data) and data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while end < len(data) and not data[end:end + 1].isspace():
            end += 1
        if end == pos:
            raise ValueError("not a PPM image: the header ends early")
        fields.append(data[pos:end])
        pos = end
    magic, width, height, maxval = fields
    if magic != b"P6" or maxval != b"255":
        raise ValueError(f"not an 8-bit binary PPM: {magic!r} maxval {maxval!r}")
    w, h = int(width), int(height)
    pixels = data[pos + 1:pos + 1 + 3 * w * h]
    if len(pixels) != 3 * w * h:
        raise ValueError(f"PPM of {w}x{h} has {len(pixels)} bytes of pixels, not {3 * w * h}")
    return Image(w, h, pixels)


def css_colours(css: str) -> dict[str, RGB]:
    """The `--name: #rrggbb` custom properties of a stylesheet."""
    return {name: (int(hex_[0:2], 16), int(hex_[2:4], 16), int(hex_[4:6], 16))
            for name, hex_ in re.findall(r"--([\w-]+):\s*#([0-9a-fA-F]{6})\b", css)}


def _near(a: RGB, b: RGB, tolerance: int) -> bool:
    return sum((p - q) ** 2 for p, q in zip(a, b)) <= tolerance ** 2


def attract_screen_problems(image: Image, colours: dict[str, RGB], step: int = 4) -> list[str]:
    """What keeps *image* from being the attract screen (empty: it is). Samples every
    *step*-th pixel in both directions."""
    bg, accent, fg = colours["bg"], colours["accent"], colours["fg"]
    total = background = text = 0
    accent_rows: list[int] = []
    top_bar = image.height // 10
    for y in range(0, image.height, step):
        for x in range(0, image.width, step):
            pixel = image.rgb(x, y)
            total += 1
            if _near(pixel, bg, 24):
                background += 1
            elif _near(pixel, fg, 40):
                text += 1
            elif _near(pixel, accent, 60) and y > top_bar:
                accent_rows.append(y)
    problems = []
    if background < total // 2:
        problems.append(f"only {100 * background / total:.0f}% of the screen is the page "
                        f"background {bg} (a browser error page, a blank output or another page?)")
    if len(accent_rows) < total // 500:
        problems.append(f"no accent {accent} below the top bar: {len(accent_rows)} of {total} "
                        "samples (no tap hint, no primary button)")
    elif max(accent_rows) - min(accent_rows) < image.height // 24:
        problems.append("the accent colour fills one band only: the tap hint and the primary "
                        "button of the attract screen are apart")
    if text < max(1, total // 5000):
        problems.append(f"no text in {fg}: {text} of {total} samples")
    return problems
