"""EM4100 line readers: hex lines (ID-12 style) and 10-digit decimal lines."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from drivers.em4100 import (
    decimal_from_hex,
    encode_decimal_line,
    encode_hex_line,
    parse_decimal_line,
    parse_hex_line,
)
from drivers.errors import CardIdError, ChecksumError, DriverError, FrameError
from drivers.line_decoder import LineDecoder
from tests.support.branches import Branches


def test_a_hex_line_gives_the_uppercase_card_id():
    assert parse_hex_line("0a00b1c2d3") == "0A00B1C2D3"


def test_a_hex_line_with_a_checksum_is_checked():
    assert parse_hex_line("0A00B1C2D3AA") == "0A00B1C2D3"
    with pytest.raises(ChecksumError, match="tap it again"):
        parse_hex_line("0A00B1C2D3AB")


@pytest.mark.parametrize("line", ["0A00B1C2D", "0A00B1C2DZ", "0A00B1C2D3A", ""])
def test_a_malformed_hex_line_names_the_expected_format(line):
    with pytest.raises(FrameError, match="10 hex digits"):
        parse_hex_line(line)


def test_a_decimal_line_gives_the_ten_digit_card_number():
    assert parse_decimal_line("0012345678") == "0012345678"


@pytest.mark.parametrize("line, message", [("12345678", "10 digits"), ("00123456ab", "10 digits"), ("9999999999", "at most")])
def test_a_malformed_decimal_line_is_refused_clearly(line, message):
    with pytest.raises(FrameError, match=message):
        parse_decimal_line(line)


def test_the_printed_card_number_is_the_low_32_bits_of_the_hex_id():
    assert decimal_from_hex("0A00BC614E") == "0012345678"


def test_encoded_lines_are_what_the_readers_send():
    assert encode_hex_line("0a00b1c2d3", with_checksum=True) == b"\x020A00B1C2D3AA\r\n\x03"
    assert encode_decimal_line("0012345678") == b"0012345678\r\n"
    with pytest.raises(CardIdError):
        encode_decimal_line("4294967296")


def test_the_line_decoder_reads_framed_hex_lines_split_anywhere():
    decoder = LineDecoder(parse_hex_line, what="EM4100")
    stream = encode_hex_line("0A00B1C2D3") + encode_hex_line("1F2E3D4C5B", with_checksum=True)
    out = [item for byte in stream for item in decoder.feed(bytes([byte]))]
    assert out == ["0A00B1C2D3", "1F2E3D4C5B"]


hex_ids = st.text("0123456789ABCDEFabcdef", min_size=10, max_size=10)
noise_lines = st.binary(max_size=30).map(lambda b: b.translate(None, b"\r\n") + b"\r\n")


def bad_checksum(uid: str) -> bytes:
    line = encode_hex_line(uid, with_checksum=True)
    wrong = (int(line[11:13], 16) + 1) % 256
    return line[:11] + f"{wrong:02X}".encode() + line[13:]


@st.composite
def reader_streams(draw) -> tuple[str, list[bytes], list[str]]:
    """A reader format, the lines it sends (cards, misreads and noise), and the ids among them."""
    fmt = draw(st.sampled_from(["hex", "dec"]))
    lines: list[bytes] = []
    ids: list[str] = []
    for kind in draw(st.lists(st.sampled_from(["card", "card", "misread", "noise"]), max_size=10)):
        if kind == "noise":
            lines.append(draw(noise_lines))
        elif fmt == "hex" and kind == "card":
            uid = draw(hex_ids)
            line = encode_hex_line(uid, with_checksum=draw(st.booleans()))
            lines.append(line.lower() if draw(st.booleans()) else line)  # some readers send lower-case hex
            ids.append(uid.upper())
        elif fmt == "hex":
            lines.append(bad_checksum(draw(hex_ids)))
        elif kind == "card":
            number = f"{draw(st.integers(0, 0xFFFFFFFF)):010d}"
            lines.append(encode_decimal_line(number))
            ids.append(number)
        else:
            lines.append(f"{draw(st.integers(0xFFFFFFFF + 1, 9_999_999_999))}\r\n".encode())
    return fmt, lines, ids


def test_any_stream_split_anywhere_gives_exactly_its_card_ids_and_a_driver_error_per_bad_line():
    branches = Branches()

    @settings(max_examples=300, deadline=None)
    @given(reader_streams(), st.data())
    def example(stream, data):
        fmt, lines, ids = stream
        decoder = LineDecoder(parse_hex_line if fmt == "hex" else parse_decimal_line, what="EM4100")
        raw = b"".join(lines)
        cuts = sorted(data.draw(st.lists(st.integers(0, len(raw)), max_size=6)))
        out = [item for a, b in zip([0, *cuts], [*cuts, len(raw)]) for item in decoder.feed(raw[a:b])]
        for item in out:
            branches.took("card id" if isinstance(item, str) else type(item).__name__)
            assert isinstance(item, (str, DriverError))
        assert [item for item in out if isinstance(item, str)] == ids

    example()
    branches.require(**{"card id": 0.3, "FrameError": 0.1, "ChecksumError": 0.04})
