"""The shopper's screens use one named type scale: every font-size in web/static/*.css is a step of it."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.web.conftest import ALI, SARA, ready

STATIC = ROOT / "web" / "static"
STEP = re.compile(r"--type-(\d+)\s*:\s*([^;}]+)")
CLAMP = re.compile(r"clamp\(\s*([\d.]+)px\s*,\s*([\d.]+)vh\s*,\s*([\d.]+)px\s*\)")
FONT_SIZE = re.compile(r"(?<![\w-])font-size\s*:\s*([^;}]+)")
FONT_SHORTHAND = re.compile(r"(?<![\w-])font\s*:\s*([^;}]+)")
USES_STEP = re.compile(r"var\(--type-(\d+)\)")


def css_without_comments(path: Path) -> str:
    return re.sub(r"/\*.*?\*/", "", path.read_text(encoding="utf-8"), flags=re.S)


def scale() -> dict[int, tuple[float, float, float]]:
    steps: dict[int, tuple[float, float, float]] = {}
    for path in sorted(STATIC.glob("*.css")):
        for number, value in STEP.findall(css_without_comments(path)):
            match = CLAMP.fullmatch(value.strip())
            assert match, f"{path.name}: --type-{number} is not clamp(<px>, <vh>, <px>): {value.strip()!r}"
            assert int(number) not in steps, f"--type-{number} is defined twice"
            steps[int(number)] = tuple(float(x) for x in match.groups())
    return steps


def raw_font_sizes(text: str, steps: dict[int, tuple[float, float, float]]) -> list[str]:
    """Every font-size that is not exactly one defined step, and any font shorthand that sets a size."""
    bad = []
    for value in FONT_SIZE.findall(text):
        match = USES_STEP.fullmatch(value.strip())
        if not match or int(match.group(1)) not in steps:
            bad.append(f"font-size: {value.strip()}")
    bad += [f"font: {v.strip()}" for v in FONT_SHORTHAND.findall(text) if v.strip() != "inherit"]
    return bad


def test_the_type_scale_is_a_rising_run_of_viewport_clamps_with_no_gaps():
    steps = scale()
    assert sorted(steps) == list(range(1, len(steps) + 1)) and len(steps) >= 6
    floors, slopes, caps = zip(*(steps[n] for n in sorted(steps)))
    for column in (floors, slopes, caps):
        assert list(column) == sorted(set(column)), f"each step must be larger than the one before: {column}"
    for floor, slope, cap in steps.values():
        # Each step follows the screen: at 1920x1080 it is well above its size at 800x480.
        at = {height: min(max(floor, slope * height / 100), cap) for height in (480, 1080)}
        assert at[1080] >= 1.5 * at[480], (floor, slope, cap)


def test_every_font_size_in_the_static_css_is_a_step_of_the_scale():
    steps = scale()
    offenders = {path.name: raw_font_sizes(css_without_comments(path), steps) for path in sorted(STATIC.glob("*.css"))}
    assert {name: found for name, found in offenders.items() if found} == {}
    used = {int(n) for path in STATIC.glob("*.css") for n in USES_STEP.findall(css_without_comments(path))}
    assert used == set(steps), "a step nobody uses is not part of the scale"


def test_the_check_catches_a_raw_size_a_step_that_does_not_exist_and_a_sized_font_shorthand():
    steps = {1: (10.0, 2.0, 20.0)}
    css = ".a { font-size: 1.2rem; } .b { font-size: var(--type-1); } .c { font-size: var(--type-9) }" \
          ".d { font: 700 14px sans-serif; } .e { font: inherit; } .f { font-size:clamp(1rem, 4vh, 2rem) }"
    assert raw_font_sizes(css, steps) == ["font-size: 1.2rem", "font-size: var(--type-9)",
                                          "font-size: clamp(1rem, 4vh, 2rem)", "font: 700 14px sans-serif"]


def step_px(step: tuple[float, float, float], height: int) -> float:
    floor, slope, cap = step
    return min(max(floor, slope * height / 100), cap)


@pytest.mark.browser
@pytest.mark.parametrize("width, height", [(800, 480), (1920, 1080)])
def test_in_chromium_every_visible_text_on_the_attract_and_balance_screens_is_set_in_a_step(shop, page, width, height):
    allowed = sorted(step_px(step, height) for step in scale().values())
    page.set_viewport_size({"width": width, "height": height})
    ready(page, shop.url, "en")
    sizes_js = ("Array.from(document.querySelectorAll('body *')).filter(e => e.offsetParent !== null &&"
                " e.childNodes.length && Array.from(e.childNodes).some(n => n.nodeType === 3 && n.textContent.trim()))"
                ".map(e => [e.tagName + '.' + e.className, parseFloat(getComputedStyle(e).fontSize)])")

    def off_scale() -> list:
        return [(what, px) for what, px in page.evaluate(sizes_js) if not any(abs(px - a) < 0.1 for a in allowed)]

    assert off_scale() == []
    shop.tap(SARA if width == 800 else ALI)
    page.locator("#stage.active .balance").wait_for(timeout=10_000)
    assert off_scale() == []
    # The points are the largest text of the balance screen.
    points = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.figure.main strong')).fontSize)")
    assert points == max(px for _, px in page.evaluate(sizes_js))
