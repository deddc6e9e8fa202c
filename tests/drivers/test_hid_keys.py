"""Keyboard-wedge key codes -> typed characters, and the evdev transport around it."""
from __future__ import annotations

from evdev import InputEvent, ecodes as e
from hypothesis import given, settings, strategies as st
import pytest

from drivers.errors import TransportError
from drivers.evdev_transport import EvdevTransport
from drivers.hid_keys import KEY_DOWN, KEY_HOLD, KEY_UP, KeyTranslator, char_for, key_events_for
from drivers.line_decoder import LineDecoder
from drivers.magstripe import MagstripeFormat, card_id_from_swipe, format_swipe
from tests.support.branches import Branches


def test_shift_turns_digit_keys_into_the_magstripe_sentinels():
    assert char_for(e.KEY_5, shift=True) == "%"
    assert char_for(e.KEY_6, shift=True) == "^"
    assert char_for(e.KEY_SLASH, shift=True) == "?"
    assert char_for(e.KEY_SEMICOLON, shift=False) == ";"


def test_a_swipe_typed_by_a_wedge_translates_back_to_the_swipe_line():
    line = format_swipe("B4111111111111111^DOE/JOHN^2512", "4111111111111111=2512") + "\n"
    assert KeyTranslator().translate(key_events_for(line)) == line


def test_key_releases_and_auto_repeat_type_nothing():
    keys = KeyTranslator()
    assert keys.translate([(e.KEY_A, KEY_DOWN), (e.KEY_A, KEY_HOLD), (e.KEY_A, KEY_UP)]) == "a"


def test_right_shift_and_caps_lock_are_followed():
    keys = KeyTranslator()
    typed = keys.translate([
        (e.KEY_RIGHTSHIFT, KEY_DOWN), (e.KEY_A, KEY_DOWN), (e.KEY_RIGHTSHIFT, KEY_UP), (e.KEY_A, KEY_DOWN),
        (e.KEY_CAPSLOCK, KEY_DOWN), (e.KEY_B, KEY_DOWN), (e.KEY_1, KEY_DOWN),
    ])
    assert typed == "AaB1"


def test_keypad_digits_and_keypad_enter_type_digits_and_a_line_end():
    keys = KeyTranslator()
    assert keys.translate([(e.KEY_KP1, KEY_DOWN), (e.KEY_KP0, KEY_DOWN), (e.KEY_KPENTER, KEY_DOWN)]) == "10\n"


printable = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=60)


UNSHIFTED = set("abcdefghijklmnopqrstuvwxyz0123456789-=[];'`\\,./ ")
TYPEABLE = set(chr(c) for c in range(0x20, 0x7F)) | {"\n", "\t"}


def test_any_printable_ascii_round_trips_through_key_events():
    branches = Branches()

    @settings(max_examples=300, deadline=None)
    @given(printable)
    def example(text):
        assert KeyTranslator().translate(key_events_for(text + "\n")) == text + "\n"
        branches.took("shifted" if set(text) - UNSHIFTED else "unshifted" if text else "empty")

    example()
    branches.require(shifted=0.4, unshifted=0.08)


# Random key codes mostly type nothing; the keys a wedge uses (letters, digits, shift, caps lock) do.
keys = st.integers(0, 767) | st.sampled_from([e.KEY_A, e.KEY_Z, e.KEY_1, e.KEY_5, e.KEY_SLASH, e.KEY_KP7,
                                              e.KEY_LEFTSHIFT, e.KEY_RIGHTSHIFT, e.KEY_CAPSLOCK])


def test_any_key_events_translate_to_typeable_text_without_raising():
    branches = Branches()

    @settings(max_examples=300, deadline=None)
    @given(st.lists(st.tuples(keys, st.integers(0, 2)), max_size=80))
    def example(events):
        typed = KeyTranslator().translate(events)
        assert set(typed) <= TYPEABLE
        branches.took("shifted" if set(typed) - UNSHIFTED - {"\n", "\t"} else "plain" if typed else "nothing")

    example()
    branches.require(shifted=0.07, plain=0.2, nothing=0.2)


class ScriptedInputDevice:
    """Stands in for evdev.InputDevice (the kernel input device) at the hardware edge:
    a real fd that select() sees as readable, and real evdev InputEvent objects."""

    def __init__(self, batches, fail_after=False):
        import os

        self._read_fd, self._write_fd = os.pipe()
        self.fd = self._read_fd
        self.batches = list(batches)
        self.fail_after = fail_after
        self.grabbed = False
        self.closed = False
        os.write(self._write_fd, b"x")

    def grab(self):
        self.grabbed = True

    def ungrab(self):
        self.grabbed = False

    def read(self):
        if not self.batches:
            if self.fail_after:
                raise OSError(19, "No such device")
            raise BlockingIOError
        return iter(self.batches.pop(0))

    def close(self):
        import os

        os.close(self._read_fd)
        os.close(self._write_fd)
        self.closed = True


def key_batch(text):
    return [InputEvent(0, 0, e.EV_KEY, code, value) for code, value in key_events_for(text)] + [
        InputEvent(0, 0, e.EV_SYN, 0, 0)
    ]


def test_the_evdev_transport_grabs_the_device_and_yields_typed_text_a_line_decoder_reads():
    device = ScriptedInputDevice([key_batch(";7700"), key_batch("12345678?\n")])
    transport = EvdevTransport("/dev/input/event7", open_device=lambda path: device)
    assert device.grabbed  # keystrokes must not reach the kiosk browser
    decoder = LineDecoder(lambda line: card_id_from_swipe(line, MagstripeFormat(2, r"77(?P<id>\d{10})")),
                          what="magstripe")
    out = decoder.feed(transport.read()) + decoder.feed(transport.read())
    assert out == ["0012345678"]
    transport.close()
    assert device.closed and not device.grabbed


def test_an_input_device_that_goes_away_is_a_transport_error():
    device = ScriptedInputDevice([], fail_after=True)
    transport = EvdevTransport("/dev/input/event7", open_device=lambda path: device)
    with pytest.raises(TransportError, match="went away"):
        transport.read()
    transport.close()


def test_a_missing_input_device_says_to_check_the_input_group():
    def missing(path):
        raise FileNotFoundError(2, "No such file or directory", path)

    with pytest.raises(TransportError, match="'input' group"):
        EvdevTransport("/dev/input/by-id/usb-reader-kbd", open_device=missing)
