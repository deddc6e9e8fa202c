"""The line-framed decoder shared by EM4100, magstripe and scanner readers."""
from __future__ import annotations

from drivers.em4100 import parse_decimal_line
from drivers.errors import FrameError
from drivers.line_decoder import LineDecoder


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_cr_lf_and_lone_cr_or_lf_all_end_a_line():
    decoder = LineDecoder(parse_decimal_line, what="EM4100")
    assert decoder.feed(b"0012345678\r\n0012345679\r0012345670\n") == ["0012345678", "0012345679", "0012345670"]


def test_a_partial_line_left_idle_is_dropped_so_it_cannot_glue_onto_the_next_read():
    clock = Clock()
    decoder = LineDecoder(parse_decimal_line, what="EM4100", idle_timeout_s=0.5, clock=clock)
    assert decoder.feed(b"00123") == []
    clock.now = 0.3
    assert decoder.idle() == []
    clock.now = 0.6
    [dropped] = decoder.idle()
    assert isinstance(dropped, FrameError) and "incomplete" in str(dropped)
    assert decoder.feed(b"0012345678\n") == ["0012345678"]


def test_an_overlong_line_is_dropped_once_and_the_next_line_reads():
    decoder = LineDecoder(parse_decimal_line, what="EM4100", max_len=16)
    out = decoder.feed(b"9" * 100 + b"\n0012345678\n")
    assert len(out) == 2 and isinstance(out[0], FrameError) and "longer than 16" in str(out[0])
    assert out[1] == "0012345678"


def test_non_ascii_bytes_are_reported_and_dropped():
    [error] = LineDecoder(parse_decimal_line, what="EM4100").feed(b"00123\xff5678\n")
    assert isinstance(error, FrameError) and "non-ASCII" in str(error)


def test_lines_can_be_joined_into_one_read_until_the_device_is_quiet():
    clock = Clock()
    seen = []

    def parse(text):
        seen.append(text)
        return text

    decoder = LineDecoder(parse, what="magstripe", join_lines_quiet_s=0.05, clock=clock)
    assert decoder.feed(b"%A^B?\r") == []
    clock.now = 0.01
    assert decoder.feed(b";1234?\r") == []
    clock.now = 0.03
    assert decoder.idle() == []  # not quiet long enough yet
    clock.now = 0.1
    assert decoder.idle() == ["%A^B?;1234?"]
    clock.now = 1.0
    assert decoder.feed(b";5678?\r") == []
    clock.now = 2.0
    assert decoder.feed(b";9999?\r") == [";5678?"]  # a new read began after a quiet gap
