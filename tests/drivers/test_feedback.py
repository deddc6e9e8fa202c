"""Feedback LEDs and buzzer on gpiozero MockFactory pins: state histories per pattern."""
from __future__ import annotations

import threading
import time

import pytest
from gpiozero import LED
from gpiozero.pins.mock import MockFactory, MockPWMPin
from gpiozero.threads import GPIOThread
from gpiozero.tones import Tone

from drivers.errors import DriverError
from drivers.gpio.feedback import Feedback, NullFeedback, feedback_from_config
from drivers.gpio.patterns import (
    PATTERNS, Pattern, UnknownPatternError, tone_steps,
)
from drivers.gpio.pins import GpioConfigError

GREEN, RED, BUZZER = 22, 23, 18
R, G, B = 5, 6, 13
F, T = False, True

# The spec of each pattern as pin histories (seconds since the previous change),
# written out here rather than derived from PATTERNS so a changed pattern fails.
OFF = [(0, F)]
LIGHT = {
    "success": [(0, F), (0, T), (0.8, F)],
    "unknown_card": [(0, F), (0, T), (0.3, F), (0.2, T), (0.3, F)],
    "refused_card": [(0, F), (0, T), (0.25, F), (0.25, T), (0.25, F)],
    "error": [(0, F), (0, T), (0.1, F), (0.1, T), (0.1, F), (0.1, T), (0.1, F)],
}
LIT = {"success": {"green"}, "unknown_card": {"green", "red"},
       "refused_card": {"red"}, "error": {"red"}}
SOUND = {
    "success": [(0, F), (0, T), (0.1, F)],
    "unknown_card": [(0, F), (0, T), (0.05, F), (0.1, T), (0.05, F)],
    "refused_card": [(0, F), (0, T), (0.15, F), (0.1, T), (0.15, F)],
    "error": [(0, F), (0, T), (0.6, F)],
}


@pytest.fixture
def factory():
    f = MockFactory()
    yield f
    f.reset()
    f.close()


WAIT_S = 10.0  # a deadline for a condition, never a duration the test needs


def wait_for_states(pin, count, timeout=WAIT_S):
    deadline = time.monotonic() + timeout
    while len(pin.states) < count and time.monotonic() < deadline:
        time.sleep(0.01)  # polling the recorded history; the condition ends the wait


def patterns_finished(timeout=WAIT_S):
    """Join gpiozero's blink, beep and tone threads: once they end, no pin changes any more."""
    for thread in [t for t in threading.enumerate() if isinstance(t, GPIOThread)]:
        thread.join(timeout)
        assert not thread.is_alive(), f"{thread!r} still playing after {timeout} s"


def settle(pins, expected):
    """Wait until each pin reached its expected history length and every pattern has
    finished, so that any extra (wrong) change would already be in the history."""
    for pin, states in zip(pins, expected):
        wait_for_states(pin, len(states))
    patterns_finished()


class FrequencyRecordingPin(MockPWMPin):
    """A PWM pin that keeps every frequency it was set to, so a tone can be checked after it ended."""

    def __init__(self, factory, info):
        super().__init__(factory, info)
        self.frequencies = []

    def _set_frequency(self, value):
        super()._set_frequency(value)
        self.frequencies.append(value)


# States and their order are checked exactly; each step's length against the spec with
# room only on the late side: a loaded machine wakes gpiozero's pattern thread late (each
# step is timed from the previous change, so lateness does not add up) but never early.
EARLY_S = 0.05
LATE_S = 0.5


def assert_history(pin, expected):
    assert len(pin.states) == len(expected), pin.states
    for actual, (at, state) in zip(pin.states, expected):
        assert actual.state == pytest.approx(state), pin.states
        assert at - EARLY_S <= actual.timestamp <= at + LATE_S, pin.states


def fresh(*pins):
    for pin in pins:
        pin.clear_states()


@pytest.mark.parametrize("pattern", sorted(LIGHT))
def test_each_pattern_plays_its_blinks_and_beeps_on_separate_leds(factory, pattern):
    with Feedback(green_pin=GREEN, red_pin=RED, buzzer_pin=BUZZER, pin_factory=factory) as fb:
        green, red, buzzer = (factory.pin(n) for n in (GREEN, RED, BUZZER))
        fresh(green, red, buzzer)
        fb.signal(pattern)
        want_green = LIGHT[pattern] if "green" in LIT[pattern] else OFF
        want_red = LIGHT[pattern] if "red" in LIT[pattern] else OFF
        settle([green, red, buzzer], [want_green, want_red, SOUND[pattern]])
        assert_history(green, want_green)
        assert_history(red, want_red)
        assert_history(buzzer, SOUND[pattern])


@pytest.mark.parametrize("pattern, channels", [
    ("success", {"g"}), ("unknown_card", {"r", "g"}),
    ("refused_card", {"r"}), ("error", {"r"}),
])
def test_an_rgb_led_shows_the_pattern_colour_on_the_right_channels(factory, pattern, channels):
    with Feedback(rgb_pins=(R, G, B), pin_factory=factory) as fb:
        pins = {"r": factory.pin(R), "g": factory.pin(G), "b": factory.pin(B)}
        fresh(*pins.values())
        fb.signal(pattern)
        expected = {c: LIGHT[pattern] if c in channels else OFF for c in pins}
        settle(pins.values(), expected.values())
        for c, pin in pins.items():
            assert_history(pin, expected[c])


def test_a_tonal_buzzer_plays_the_pattern_tone_for_the_beep_time():
    factory = MockFactory(pin_class=FrequencyRecordingPin)  # tones need PWM pins
    try:
        with Feedback(buzzer_pin=BUZZER, buzzer="tonal", pin_factory=factory) as fb:
            pin = factory.pin(BUZZER)
            fresh(pin)
            set_before = len(pin.frequencies)  # the buzzer sets a frequency when it opens
            fb.signal("error")
            expected = [(0, 0.0), (0, 0.5), (0.6, 0.0)]
            settle([pin], [expected])
            assert_history(pin, expected)
            tones = [f for f in pin.frequencies[set_before:] if f is not None]
            assert tones and all(f == pytest.approx(Tone("A5").frequency) for f in tones)
    finally:
        factory.reset()
        factory.close()


def test_closing_mid_beep_silences_a_tonal_buzzer():
    factory = MockFactory(pin_class=MockPWMPin)
    try:
        fb = Feedback(buzzer_pin=BUZZER, buzzer="tonal", pin_factory=factory)
        fb.signal("error")
        wait_for_states(factory.pin(BUZZER), 2)
        assert factory.pin(BUZZER).state == 0.5
        fb.close()
        assert factory.pin(BUZZER).state == 0.0
        assert factory.pin(BUZZER).frequency is None
    finally:
        factory.reset()
        factory.close()


def test_signal_returns_before_the_pattern_has_finished(factory):
    with Feedback(green_pin=GREEN, pin_factory=factory) as fb:
        green = factory.pin(GREEN)
        fresh(green)
        fb.signal("success")  # 0.8 s of green
        assert len(green.states) < len(LIGHT["success"])
        settle([green], [LIGHT["success"]])
        assert_history(green, LIGHT["success"])


def test_a_new_signal_replaces_the_pattern_still_playing(factory):
    with Feedback(green_pin=GREEN, red_pin=RED, pin_factory=factory) as fb:
        green, red = factory.pin(GREEN), factory.pin(RED)
        fresh(green, red)
        fb.signal("error")
        wait_for_states(red, 2)
        fb.signal("success")
        settle([green], [LIGHT["success"]])
        assert_history(green, LIGHT["success"])
        assert red.states[-1].state is False
        assert len(red.states) <= 3  # stopped early, not three blinks


def test_a_kiosk_with_one_led_still_shows_the_blink_count(factory):
    with Feedback(red_pin=RED, pin_factory=factory) as fb:
        red = factory.pin(RED)
        fresh(red)
        fb.signal("success")
        settle([red], [LIGHT["success"]])
        assert_history(red, LIGHT["success"])


def test_a_common_anode_led_is_driven_low_to_light(factory):
    with Feedback(green_pin=GREEN, led_active_high=False, pin_factory=factory) as fb:
        green = factory.pin(GREEN)
        fresh(green)
        fb.signal("success")
        expected = [(0, T), (0, F), (0.8, T)]
        settle([green], [expected])
        assert_history(green, expected)


def test_an_unknown_pattern_is_a_clear_error_and_touches_no_pin(factory):
    with Feedback(green_pin=GREEN, red_pin=RED, buzzer_pin=BUZZER, pin_factory=factory) as fb:
        pins = [factory.pin(n) for n in (GREEN, RED, BUZZER)]
        fresh(*pins)
        with pytest.raises(UnknownPatternError, match=r"'sucess'.*error, refused_card, success, unknown_card"):
            fb.signal("sucess")
        patterns_finished()  # none was started; a stray one would have to end first
        for pin in pins:
            assert_history(pin, OFF)


def test_a_signalled_pattern_plays_on_the_green_led(factory):
    with Feedback(green_pin=GREEN, pin_factory=factory) as fb:
        green = factory.pin(GREEN)
        fresh(green)
        fb.signal("success")
        settle([green], [LIGHT["success"]])
        assert_history(green, LIGHT["success"])


def test_close_stops_the_pattern_turns_off_and_releases_the_pins(factory):
    fb = Feedback(green_pin=GREEN, buzzer_pin=BUZZER, pin_factory=factory)
    fb.signal("success")
    wait_for_states(factory.pin(GREEN), 2)
    fb.close()
    fb.close()
    assert factory.pin(GREEN).state is False
    assert factory.pin(BUZZER).state is False
    with pytest.raises(DriverError, match="closed"):
        fb.signal("success")
    LED(GREEN, pin_factory=factory).close()  # pin free again
    LED(BUZZER, pin_factory=factory).close()


def test_null_feedback_checks_pattern_names_and_does_nothing_else():
    with NullFeedback() as fb:
        fb.signal("success")
        with pytest.raises(UnknownPatternError, match="unknown feedback pattern 'blink'"):
            fb.signal("blink")


@pytest.mark.parametrize("kwargs, message", [
    ({"green_pin": 22, "buzzer_pin": 22}, "green and buzzer are both set to GPIO22"),
    ({"green_pin": 22, "rgb_pins": (5, 6, 13)}, "either green_pin/red_pin or rgb_pins"),
    ({"rgb_pins": (5, 6)}, "rgb_pins must be three"),
    ({"buzzer_pin": 18, "buzzer": "loud"}, "buzzer must be one of active, tonal"),
    ({"red_pin": 0}, "red pin 0 is not a header GPIO"),
])
def test_impossible_feedback_wiring_is_refused_naming_the_part(kwargs, message):
    with pytest.raises(GpioConfigError, match=message):
        Feedback(**kwargs)


def test_config_builds_feedback_or_null_feedback(factory):
    assert isinstance(feedback_from_config(None), NullFeedback)
    assert isinstance(feedback_from_config({"leds": "none", "buzzer": "none"}), NullFeedback)
    with feedback_from_config({"green_pin": GREEN, "red_pin": RED, "buzzer_pin": BUZZER},
                              pin_factory=factory) as fb:
        assert repr(fb) == "<Feedback green + red + buzzer>"
    with feedback_from_config({"leds": "rgb", "rgb_pins": [R, G, B]}, pin_factory=factory) as fb:
        assert repr(fb) == "<Feedback rgb>"


@pytest.mark.parametrize("cfg, message", [
    ({"gren_pin": 22}, r"unknown key\(s\) gren_pin"),
    ({"leds": "rgb"}, "needs rgb_pins"),
    ({"leds": "separate"}, "needs green_pin and/or red_pin"),
    ({"leds": "rgb", "rgb_pins": "5,6,13"}, "rgb_pins must be a list of three"),
    ({"buzzer": "tonal"}, "needs buzzer_pin"),
    ({"buzzer": "none", "buzzer_pin": 18}, "buzzer_pin is set but buzzer"),
    ({"leds": "blinky"}, "leds must be"),
    ({"green_pin": 22, "led_active_high": "no"}, "led_active_high must be true or false"),
])
def test_a_bad_feedback_config_names_the_key(cfg, message):
    with pytest.raises(GpioConfigError, match=message):
        feedback_from_config(cfg)


def test_tone_steps_round_beeps_to_whole_steps_and_end_silent():
    p = Pattern(PATTERNS["error"].color, 1, 0.1, 0.1, 2, 0.12, 0.05, "A5")
    assert tone_steps(p, 0.05) == ["A5", "A5", None, "A5", "A5", None]
    assert tone_steps(Pattern(p.color, 1, 0.1, 0.1, 0, 0.1, 0.1), 0.05) == [None]
