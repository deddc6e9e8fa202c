"""Pure Wiegand frame decoding and the edge accumulator (no pins, no threads)."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from drivers.errors import ChecksumError, DriverError, FrameError
from drivers.wiegand.frames import (
    D0, D1, BitAccumulator, RawFrame, WiegandCard, decode_frame, decode_raw,
    encode_frame, parse_frame,
)
from tests.support.branches import Branches

# Written out by hand from the H10301 layout, not produced by encode_frame:
# facility 1, card 1 -> even parity 1 (one 1 in bits 1-12), odd parity 0.
FC1_CARD1_26 = "1" + "00000001" + "0000000000000001" + "0"
# facility 123 (01111011), card 45678 (1011001001101110)
FC123_CARD45678_26 = "1" + "01111011" + "1011001001101110" + "1"
# 34-bit: facility 4660 (0x1234), card 22136 (0x5678)
FC4660_CARD22136_34 = "1" + "0001001000110100" + "0101011001111000" + "1"


def test_a_hand_built_26_bit_frame_decodes_to_facility_and_card_number():
    assert parse_frame(FC1_CARD1_26) == WiegandCard(26, 1, 1)
    assert decode_frame(FC123_CARD45678_26) == "26:123:45678"


def test_a_hand_built_34_bit_frame_decodes_with_a_16_bit_facility():
    assert parse_frame(FC4660_CARD22136_34) == WiegandCard(34, 4660, 22136)
    assert decode_frame([int(c) for c in FC4660_CARD22136_34]) == "34:4660:22136"


def test_the_same_numbers_in_26_and_34_bit_frames_are_different_cards():
    assert decode_frame(encode_frame(1, 1, 26)) != decode_frame(encode_frame(1, 1, 34))


def test_the_card_id_ends_in_card_digits_so_the_masked_label_shows_them():
    assert decode_frame(FC1_CARD1_26).endswith("00001")


@pytest.mark.parametrize("frame", [FC1_CARD1_26, FC123_CARD45678_26, FC4660_CARD22136_34])
def test_flipping_any_single_bit_is_caught_by_a_parity_check(frame):
    for i in range(len(frame)):
        flipped = frame[:i] + ("1" if frame[i] == "0" else "0") + frame[i + 1:]
        with pytest.raises(ChecksumError, match="parity"):
            parse_frame(flipped)


def test_a_bad_leading_parity_names_the_even_check_and_suggests_a_retap():
    bad = "0" + FC1_CARD1_26[1:]
    with pytest.raises(ChecksumError, match=r"leading even-parity.*Tap the card again"):
        parse_frame(bad)


def test_a_bad_trailing_parity_names_the_odd_check():
    bad = FC1_CARD1_26[:-1] + "1"
    with pytest.raises(ChecksumError, match="trailing odd-parity"):
        parse_frame(bad)


def test_swapped_d0_and_d1_fail_parity_for_every_card():
    for frame in (FC1_CARD1_26, FC123_CARD45678_26, FC4660_CARD22136_34):
        inverted = "".join("1" if c == "0" else "0" for c in frame)
        with pytest.raises(ChecksumError, match="D0 and D1 may be swapped"):
            parse_frame(inverted)


@pytest.mark.parametrize("length", [1, 8, 25, 27, 32, 33, 35, 37, 64])
def test_a_frame_of_an_unsupported_length_is_a_frame_error_naming_the_length(length):
    with pytest.raises(FrameError, match=rf"of {length} bits?;.*26 or 34") as info:
        parse_frame("0" * length)
    assert not isinstance(info.value, ChecksumError)


def test_an_empty_frame_says_no_bits_arrived():
    with pytest.raises(FrameError, match="no bits arrived"):
        parse_frame("")


@pytest.mark.parametrize("bad", ["0" * 25 + "2", [0] * 25 + [2], [0] * 25 + [0.0], [0] * 25 + ["1"]])
def test_values_other_than_zero_and_one_are_refused(bad):
    with pytest.raises(FrameError, match=r"0.*1"):
        parse_frame(bad)


def test_errors_never_echo_the_card_bits():
    frame = FC123_CARD45678_26[:-1] + "0"
    with pytest.raises(ChecksumError) as info:
        parse_frame(frame)
    assert frame not in str(info.value)
    assert "45678" not in repr(parse_frame(FC123_CARD45678_26))


def test_encode_refuses_numbers_that_do_not_fit_the_format():
    with pytest.raises(ValueError, match="facility code 256"):
        encode_frame(256, 1, 26)
    with pytest.raises(ValueError, match="card number 65536"):
        encode_frame(1, 65536, 34)
    with pytest.raises(ValueError, match="length"):
        encode_frame(1, 1, 37)


NOISE = "noise"  # random bits: a valid frame among them is possible, with whatever id it carries


@st.composite
def frames(draw) -> tuple[object, str | None]:
    """Bits as a list or a string, and the card id they carry when they are a valid frame."""
    kind = draw(st.sampled_from(["valid", "valid", "one bit flipped", "noise"]))
    if kind == "noise":
        return draw(st.one_of(st.lists(st.integers(0, 1), max_size=80), st.text(alphabet="01", max_size=80),
                              st.lists(st.integers(-3, 3), max_size=40), st.text(max_size=40))), NOISE
    length = draw(st.sampled_from([26, 34]))
    facility = draw(st.integers(0, (1 << (8 if length == 26 else 16)) - 1))
    number = draw(st.integers(0, 0xFFFF))
    bits = list(encode_frame(facility, number, length))
    expected: str | None = f"{length}:{facility}:{number:05d}"
    if kind == "one bit flipped":
        flip = draw(st.integers(0, length - 1))
        bits[flip] ^= 1
        expected = None
    as_text = draw(st.booleans())
    return ("".join(map(str, bits)) if as_text else bits), expected


def test_any_bit_string_gives_its_card_id_or_a_typed_frame_error():
    branches = Branches()

    @settings(max_examples=300, deadline=None)
    @given(frames())
    def example(frame):
        bits, expected = frame
        try:
            card_id = decode_frame(bits)
        except ChecksumError:
            branches.took("parity error")
            assert expected in (None, NOISE)
            return
        except FrameError:
            branches.took("frame error")
            assert expected in (None, NOISE)
            return
        branches.took("card id")
        if expected == NOISE:
            assert len(bits) in (26, 34) and card_id.startswith(f"{len(bits)}:")
        else:
            assert card_id == expected

    example()
    branches.require(**{"card id": 0.25, "parity error": 0.1, "frame error": 0.08})


@given(st.sampled_from([26, 34]), st.data())
def test_every_encodable_card_decodes_back_to_itself(length, data):
    facility = data.draw(st.integers(0, (1 << (8 if length == 26 else 16)) - 1))
    number = data.draw(st.integers(0, 0xFFFF))
    frame = encode_frame(facility, number, length)
    assert len(frame) == length
    assert parse_frame(frame) == WiegandCard(length, facility, number)


# --- accumulator -------------------------------------------------------------

def _feed(acc, bits, start, intervals, pulse=80e-6):
    t = start
    for bit, gap in zip(bits, intervals):
        t += gap
        acc.edge(D1 if bit else D0, True, t)
        acc.edge(D1 if bit else D0, False, t + pulse)
    return t + pulse


def test_a_frame_is_cut_only_after_the_lines_are_quiet_for_the_frame_gap():
    acc = BitAccumulator(frame_gap_s=0.025)
    bits = encode_frame(123, 45678)
    end = _feed(acc, bits, 0.0, [0.002] * len(bits))
    assert acc.poll(end + 0.024) is None
    raw = acc.poll(end + 0.026)
    assert raw == RawFrame(bits)
    assert decode_raw(raw) == "26:123:45678"
    assert acc.poll(end + 1.0) is None


def test_no_frame_is_cut_while_a_pulse_is_still_low():
    acc = BitAccumulator(frame_gap_s=0.025)
    acc.edge(D0, True, 0.0)
    assert acc.poll(1.0) is None
    assert acc.held_low(1.0, longer_than=0.5) == [D0]
    acc.edge(D0, False, 1.0)
    assert acc.held_low(1.0, longer_than=0.5) == []
    assert acc.poll(1.03) == RawFrame((0,))


@given(st.lists(st.integers(0, 1), min_size=1, max_size=64),
       st.lists(st.floats(0.0002, 0.020), min_size=64, max_size=64),
       st.floats(0.00001, 0.0004))
def test_jittery_gaps_below_the_frame_gap_still_make_one_frame(bits, intervals, pulse):
    acc = BitAccumulator(frame_gap_s=0.025)
    end = _feed(acc, bits, 10.0, intervals, pulse)
    assert acc.poll(end + 0.03) == RawFrame(tuple(bits))


@given(st.lists(st.integers(0, 1), min_size=1, max_size=30),
       st.lists(st.integers(0, 1), min_size=1, max_size=30))
def test_a_silence_longer_than_the_frame_gap_splits_two_frames(first, second):
    acc = BitAccumulator(frame_gap_s=0.025)
    end = _feed(acc, first, 0.0, [0.002] * len(first))
    assert acc.poll(end + 0.03) == RawFrame(tuple(first))
    end = _feed(acc, second, end + 0.03, [0.002] * len(second))
    assert acc.poll(end + 0.03) == RawFrame(tuple(second))


@given(st.lists(st.integers(0, 1), min_size=1, max_size=30),
       st.lists(st.integers(0, 1), min_size=1, max_size=30),
       st.floats(0.025, 5.0))
def test_two_frames_a_gap_apart_stay_two_when_nothing_polled_between_them(first, second, silence):
    acc = BitAccumulator(frame_gap_s=0.025)
    end = _feed(acc, first, 0.0, [0.002] * len(first))
    end = _feed(acc, second, end + silence, [0.002] * len(second))
    assert acc.next_deadline() < end  # the worker polls at once: a frame is ready
    assert acc.poll(end) == RawFrame(tuple(first))  # the first frame, even before the second's gap is over
    assert acc.poll(end) is None
    assert acc.poll(end + 0.03) == RawFrame(tuple(second))


def test_both_lines_low_together_marks_the_frame_as_noise():
    acc = BitAccumulator()
    acc.edge(D0, True, 0.0)
    acc.edge(D1, True, 0.00005)
    acc.edge(D0, False, 0.0001)
    acc.edge(D1, False, 0.0001)
    raw = acc.poll(0.1)
    with pytest.raises(FrameError, match="both low at the same time"):
        decode_raw(raw)


def test_a_chattering_line_is_capped_and_reported_not_collected_forever():
    acc = BitAccumulator(max_bits=64)
    end = _feed(acc, [1] * 1000, 0.0, [0.001] * 1000)
    raw = acc.poll(end + 0.1)
    assert len(raw.bits) == 64
    with pytest.raises(FrameError, match="more than 64 Wiegand bits"):
        decode_raw(raw)


def test_discard_drops_the_frame_being_collected():
    acc = BitAccumulator()
    acc.edge(D0, True, 0.0)
    acc.discard()
    acc.edge(D0, False, 1.0)
    assert acc.poll(2.0) is None


def test_a_repeated_level_report_is_not_a_second_bit():
    acc = BitAccumulator()
    acc.edge(D1, True, 0.0)
    acc.edge(D1, True, 0.001)
    acc.edge(D1, False, 0.002)
    acc.edge(D1, False, 0.003)
    assert acc.poll(0.1) == RawFrame((1,))


def test_accumulator_arguments_are_checked():
    with pytest.raises(ValueError, match="frame_gap_s"):
        BitAccumulator(frame_gap_s=0)
    with pytest.raises(ValueError, match="line"):
        BitAccumulator().edge(2, True, 0.0)


def test_frame_errors_belong_to_the_driver_error_tree():
    assert issubclass(ChecksumError, FrameError)
    assert issubclass(FrameError, DriverError)
