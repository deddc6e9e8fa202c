"""RDM6300 frames: encode, parse and the resynchronising stream decoder."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from drivers.errors import CardIdError, ChecksumError, DriverError, FrameError
from drivers.rdm6300 import Rdm6300Decoder, encode_frame, parse_frame
from tests.support.branches import Branches

# 0x0A ^ 0x00 ^ 0xB1 ^ 0xC2 ^ 0xD3 = 0xAA, worked out by hand.
UID = "0A00B1C2D3"
FRAME = b"\x020A00B1C2D3AA\x03"
OTHER_UID = "1F2E3D4C5B"
uids = st.text(alphabet="0123456789ABCDEFabcdef", min_size=10, max_size=10)


def test_a_card_id_encodes_to_the_14_bytes_the_reader_sends():
    assert encode_frame(UID) == FRAME


def test_a_lowercase_card_id_encodes_like_its_uppercase_form():
    assert encode_frame(UID.lower()) == FRAME


@pytest.mark.parametrize("bad", ["", "0A00B1C2D", "0A00B1C2D3E", "0A00B1C2DZ", "0A00 1C2D3"])
def test_a_card_id_that_is_not_10_hex_digits_cannot_be_encoded(bad):
    with pytest.raises(CardIdError, match="10 hex digits"):
        encode_frame(bad)


def test_a_valid_frame_parses_to_the_uppercase_card_id():
    assert parse_frame(FRAME) == UID
    assert parse_frame(b"\x020a00b1c2d3aa\x03") == UID


def test_a_frame_with_a_bad_checksum_is_a_checksum_error_that_asks_for_another_tap():
    with pytest.raises(ChecksumError, match="tap it again") as caught:
        parse_frame(b"\x020A00B1C2D3AB\x03")
    assert UID not in str(caught.value)


@pytest.mark.parametrize(
    "frame, message",
    [
        (FRAME[:-1], "14 bytes"),
        (FRAME + b"\x03", "14 bytes"),
        (b"\x010A00B1C2D3AA\x03", "starts with 0x02"),
        (b"\x020A00B1C2D3AA\x04", "ends with 0x03"),
        (b"\x020A00B1G2D3AA\x03", "not a hex digit"),
    ],
)
def test_a_malformed_frame_is_a_frame_error_that_says_what_is_wrong(frame, message):
    with pytest.raises(FrameError, match=message) as caught:
        parse_frame(frame)
    assert not isinstance(caught.value, ChecksumError)


def test_the_decoder_reads_two_frames_that_arrive_together():
    assert Rdm6300Decoder().feed(FRAME + encode_frame(OTHER_UID)) == [UID, OTHER_UID]


def test_the_decoder_reassembles_a_frame_that_arrives_one_byte_at_a_time():
    decoder = Rdm6300Decoder()
    out = [item for byte in FRAME for item in decoder.feed(bytes([byte]))]
    assert out == [UID]


def test_the_decoder_reports_garbage_between_frames_and_reads_both_frames():
    out = Rdm6300Decoder().feed(FRAME + b"\xff\x00noise\r\n" + encode_frame(OTHER_UID))
    assert [o for o in out if isinstance(o, str)] == [UID, OTHER_UID]
    errors = [o for o in out if isinstance(o, DriverError)]
    assert len(errors) == 1 and "9 byte(s)" in str(errors[0])


def test_the_decoder_drops_a_cut_off_frame_and_reads_the_next_one():
    out = Rdm6300Decoder().feed(FRAME[:7] + FRAME)
    assert isinstance(out[0], FrameError) and out[1:] == [UID]


def test_the_decoder_reports_a_bad_checksum_and_reads_the_next_frame():
    out = Rdm6300Decoder().feed(b"\x020A00B1C2D3AB\x03" + FRAME)
    assert isinstance(out[0], ChecksumError) and out[1:] == [UID]


def test_the_decoder_resynchronises_when_the_end_byte_is_missing():
    out = Rdm6300Decoder().feed(b"\x020A00B1C2D3AA" + FRAME)
    assert isinstance(out[0], FrameError) and out[1:] == [UID]


def misread(frame: bytes, delta: int = 1) -> bytes:
    """The frame with its checksum changed by ``delta``: what a misread looks like on the wire."""
    wrong = (int(frame[11:13], 16) + delta) % 256
    return frame[:11] + f"{wrong:02X}".encode() + frame[13:]


@st.composite
def reader_streams(draw) -> tuple[bytes, list[str]]:
    """Bytes from a reader (cards, misreads, cut-off frames, noise without a start byte) and the ids in them."""
    parts: list[bytes] = []
    ids: list[str] = []
    for kind in draw(st.lists(st.sampled_from(["card", "card", "misread", "cut off", "noise"]), max_size=10)):
        uid = draw(uids)
        if kind == "card":
            parts.append(encode_frame(uid))
            ids.append(uid.upper())
        elif kind == "misread":  # a checksum off either way, not only one more than right
            parts.append(misread(encode_frame(uid), draw(st.integers(1, 255))))
        elif kind == "cut off":
            parts.append(encode_frame(uid)[: draw(st.integers(1, 12))])
        else:
            parts.append(draw(st.binary(min_size=1, max_size=20)).replace(b"\x02", b""))
    return b"".join(parts), ids


def test_any_reader_stream_gives_exactly_its_card_ids_and_driver_errors_for_the_rest():
    branches = Branches()

    @settings(max_examples=300, deadline=None)
    @given(reader_streams(), st.data())
    def example(stream, data):
        raw, ids = stream
        decoder = Rdm6300Decoder()
        cuts = sorted(data.draw(st.lists(st.integers(0, len(raw)), max_size=6)))
        out = [item for a, b in zip([0, *cuts], [*cuts, len(raw)]) for item in decoder.feed(raw[a:b])]
        for item in out:
            branches.took("card id" if isinstance(item, str) else type(item).__name__)
            assert isinstance(item, (str, DriverError))
        assert [item for item in out if isinstance(item, str)] == ids

    example()
    branches.require(**{"card id": 0.3, "FrameError": 0.1, "ChecksumError": 0.05})


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=20))
def test_any_bytes_give_only_well_formed_card_ids_or_driver_errors(chunks):
    decoder = Rdm6300Decoder()
    for chunk in chunks:
        for item in decoder.feed(chunk):
            if isinstance(item, str):
                assert parse_frame(encode_frame(item)) == item and item == item.upper()
            else:
                assert isinstance(item, DriverError)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(st.binary(max_size=20), uids.map(encode_frame)), max_size=12),
    st.data(),
)
def test_how_the_stream_is_chunked_does_not_change_what_is_decoded(parts, data):
    stream = b"".join(parts)
    whole = Rdm6300Decoder().feed(stream)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    decoder, pieced, start = Rdm6300Decoder(), [], 0
    for cut in cuts + [len(stream)]:
        pieced += decoder.feed(stream[start:cut])
        start = cut
    assert [i for i in pieced if isinstance(i, str)] == [i for i in whole if isinstance(i, str)]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=40).map(lambda b: b.replace(b"\x02", b"")), uids)
def test_a_valid_frame_after_any_noise_is_read(noise, uid):
    decoder = Rdm6300Decoder()
    out = decoder.feed(noise) + decoder.feed(encode_frame(uid))
    assert out[-1] == uid.upper()


@given(uids)
def test_encoding_then_parsing_gives_back_the_card_id(uid):
    assert parse_frame(encode_frame(uid)) == uid.upper()
