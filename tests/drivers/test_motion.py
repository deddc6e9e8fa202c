"""PIR motion sensor on gpiozero MockFactory pins."""
from __future__ import annotations

import threading
import time

import pytest
from gpiozero import DigitalInputDevice
from gpiozero.pins.mock import MockFactory, MockPin

from drivers.errors import TransportError
from drivers.gpio.pins import GpioConfigError
from drivers.gpio.motion import MotionDetector, motion_from_config
from tests.support.waiting import wait_past

PIR = 24
WAIT_S = 10.0  # a deadline for a condition, never a duration the test needs


class SampledPin(MockPin):
    """A mock pin that counts how often the sensor's sampling thread read it."""

    def __init__(self, factory, info):
        super().__init__(factory, info)
        self.reads = 0
        self.sampled = threading.Condition()

    def _get_state(self):
        with self.sampled:
            self.reads += 1
            self.sampled.notify_all()
        return super()._get_state()

    def wait_samples(self, count=2, timeout=WAIT_S):
        """Block until the sensor read the pin ``count`` more times: it has seen the level
        and handled the sample before (the callback runs before the next read)."""
        with self.sampled:
            target = self.reads + count
            assert self.sampled.wait_for(lambda: self.reads >= target, timeout), "the sensor stopped sampling"


@pytest.fixture
def factory():
    f = MockFactory(pin_class=SampledPin)
    yield f
    f.reset()
    f.close()


class Calls:
    def __init__(self):
        self.count = 0
        self.at = []
        self.event = threading.Event()

    def __call__(self):
        self.count += 1
        self.at.append(time.monotonic())
        self.event.set()

    def wait(self, timeout=WAIT_S):
        ok = self.event.wait(timeout)
        self.event.clear()
        return ok


def walk_past(pin):
    pin.drive_high()
    pin.wait_samples()
    pin.drive_low()
    pin.wait_samples()


def test_someone_walking_up_calls_on_motion_once(factory):
    calls = Calls()
    with MotionDetector(PIR, calls, pin_factory=factory):
        pin = factory.pin(PIR)
        pin.drive_high()
        assert calls.wait()
        pin.wait_samples(3)  # still there: no more calls while the output stays high
        assert calls.count == 1
        pin.drive_low()


def test_someone_already_there_at_start_wakes_the_screen(factory):
    pin = factory.pin(PIR)

    def shopper_steps_up_once_the_input_is_set_up():
        deadline = time.monotonic() + WAIT_S
        while pin.pull != "down" and time.monotonic() < deadline:
            time.sleep(0.001)  # polling the pin's setup; the condition ends the wait
        pin.drive_high()

    helper = threading.Thread(target=shopper_steps_up_once_the_input_is_set_up)
    helper.start()
    calls = Calls()
    # a slow sample rate leaves a wide window before the first sample
    with MotionDetector(PIR, calls, pin_factory=factory, sample_rate=2):
        helper.join()
        assert calls.count == 1  # called during construction
        pin.wait_samples(2)
        assert calls.count == 1


def test_no_motion_means_no_call(factory):
    calls = Calls()
    with MotionDetector(PIR, calls, pin_factory=factory):
        factory.pin(PIR).wait_samples(4)
    assert calls.count == 0


def test_retriggers_inside_the_cooldown_are_ignored(factory):
    calls = Calls()
    with MotionDetector(PIR, calls, pin_factory=factory, cooldown_s=60.0):  # no stall under load outlasts it
        pin = factory.pin(PIR)
        walk_past(pin)
        assert calls.wait()
        walk_past(pin)  # a PIR in repeat-trigger mode toggling
        walk_past(pin)
        assert calls.count == 1


def test_a_trigger_after_the_cooldown_calls_again(factory):
    calls = Calls()
    with MotionDetector(PIR, calls, pin_factory=factory, cooldown_s=0.3):
        pin = factory.pin(PIR)
        walk_past(pin)
        assert calls.wait()
        wait_past(calls.at[0], 0.3)
        pin.drive_high()
        assert calls.wait()
        assert calls.count == 2


def test_a_failing_callback_does_not_stop_the_sensor(factory):
    seen = []

    def on_motion():
        seen.append(1)
        raise RuntimeError("screen service gone")

    with MotionDetector(PIR, on_motion, pin_factory=factory, cooldown_s=0):
        pin = factory.pin(PIR)
        walk_past(pin)
        walk_past(pin)
    assert len(seen) == 2


def test_an_active_low_sensor_is_supported(factory):
    calls = Calls()
    with MotionDetector(PIR, calls, pin_factory=factory, active_high=False) as sensor:
        pin = factory.pin(PIR)
        assert not sensor.motion_detected
        pin.drive_low()
        assert calls.wait()


def test_close_releases_the_pin(factory):
    MotionDetector(PIR, Calls(), pin_factory=factory).close()
    DigitalInputDevice(PIR, pin_factory=factory).close()


def test_a_pin_in_use_is_a_transport_error_naming_the_pin(factory):
    busy = DigitalInputDevice(PIR, pin_factory=factory)
    try:
        with pytest.raises(TransportError, match="GPIO24 for the PIR output"):
            MotionDetector(PIR, Calls(), pin_factory=factory)
    finally:
        busy.close()


def test_config_builds_the_sensor_or_nothing(factory):
    assert motion_from_config(None, Calls()) is None
    assert motion_from_config({}, Calls()) is None
    with motion_from_config({"pin": PIR, "cooldown_s": 5}, Calls(), pin_factory=factory) as m:
        assert repr(m) == "<MotionDetector on GPIO24>"


@pytest.mark.parametrize("cfg, message", [
    ({"pn": 24}, r"unknown key\(s\) pn"),
    ({"cooldown_s": 1}, "needs pin"),
    ({"pin": 24, "cooldown_s": "2s"}, "cooldown_s must be a number"),
    ({"pin": 24, "active_high": 1}, "active_high must be true or false"),
    ({"pin": 99}, r"\[motion\] motion sensor: PIR pin 99 is not a header GPIO"),
])
def test_a_bad_motion_config_names_the_key(cfg, message):
    with pytest.raises(GpioConfigError, match=message):
        motion_from_config(cfg, Calls())
