"""The lab's screenshot judge (screenshot.py) tells the attract screen from what the screen
shows when it is wrong: a browser error page, a black or half-drawn output."""

from __future__ import annotations


import pytest

from .conftest import WORKTREE
from .screenshot import Image, attract_screen_problems, css_colours, parse_ppm

COLOURS = css_colours((WORKTREE / "web/static/kiosk.css").read_text())
W, H = 320, 200


def painted(*boxes: tuple[int, int, int, int, tuple[int, int, int]],
            fill: tuple[int, int, int] = COLOURS["bg"]) -> Image:
    rows = [[fill] * W for _ in range(H)]
    for x0, y0, x1, y1, colour in boxes:
        for y in range(y0, y1):
            rows[y][x0:x1] = [colour] * (x1 - x0)
    return Image(W, H, bytes(c for row in rows for pixel in row for c in pixel))


def ppm(image: Image) -> bytes:
    return b"P6\n# grim\n%d %d\n255\n" % (image.width, image.height) + image.pixels


ATTRACT = [(100, 40, 220, 60, COLOURS["fg"]),       # the welcome line
           (120, 80, 200, 100, COLOURS["accent"]),  # the tap hint
           (90, 140, 150, 165, COLOURS["accent"])]  # the primary button


def test_the_stylesheet_names_the_colours_the_judge_needs():
    assert {"bg", "accent", "fg"} <= COLOURS.keys()


def test_an_attract_screen_has_no_problems():
    assert attract_screen_problems(parse_ppm(ppm(painted(*ATTRACT))), COLOURS) == []


@pytest.mark.parametrize("image, complaint", [
    (painted(fill=(255, 255, 255)), "page background"),          # Chromium's error page
    (painted(fill=(0, 0, 0)), "page background"),                 # nothing drawn yet
    (painted(ATTRACT[0]), "no accent"),                           # half drawn: text only
    (painted(ATTRACT[0], (120, 80, 200, 84, COLOURS["accent"])), "one band only"),
    (painted(ATTRACT[1], ATTRACT[2]), "no text"),
])
def test_a_screen_that_is_not_the_attract_screen_is_named(image, complaint):
    problems = attract_screen_problems(image, COLOURS)
    assert any(complaint in problem for problem in problems), problems


@pytest.mark.parametrize("data", [b"P3\n2 2\n255\n" + bytes(12), b"P6\n2 2\n255\n" + bytes(5),
                                  b"P6\n2"])
def test_a_file_that_is_not_an_8_bit_binary_ppm_is_refused(data):
    with pytest.raises(ValueError):
        parse_ppm(data)


def test_the_judge_reads_the_colours_from_the_stylesheet_it_is_given():
    css = ":root { --bg: #102030; --panel: #000000; --fg: #fefefe; --accent: #00ff00; }"
    assert css_colours(css)["accent"] == (0, 255, 0) and css_colours(css)["bg"] == (16, 32, 48)
