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


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=30), max_size=15))
def test_any_bytes_give_only_valid_ids_or_driver_errors(chunks):
    for parse in (parse_hex_line, parse_decimal_line):
        decoder = LineDecoder(parse, what="EM4100")
        for chunk in chunks:
            for item in decoder.feed(chunk):
                assert isinstance(item, DriverError) or (isinstance(item, str) and len(item) == 10)
