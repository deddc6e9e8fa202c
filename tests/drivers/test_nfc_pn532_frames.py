"""The PN532 host-link frame codec the emulator parses nfcpy's bytes with."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nfc.clf.device import Device

from tests.support.branches import Branches
from drivers.nfc.pn532_frames import (
    ACK,
    ERROR_FRAME,
    MAX_PAYLOAD,
    NACK,
    Ack,
    BadFrame,
    Information,
    Nack,
    crc_a,
    encode_information,
    split_host_frames,
)

# Short frames and extended ones (more than 255 bytes), which a plain st.binary would almost never draw.
payloads = st.binary(min_size=1, max_size=255) | st.binary(min_size=256, max_size=MAX_PAYLOAD)
# Noise that cannot form a start code, also not with the 00 postamble before it.
noise = st.binary(max_size=12).filter(
    lambda b: b"\x00\xff" not in b and not b.startswith(b"\xff") and not b.endswith(b"\x00")
)


def test_nfcpys_get_firmware_version_command_parses_after_its_long_preamble():
    # The exact bytes nfc.clf.pn532.init writes to wake the chip and ask its version.
    stream = bytes(10) + bytes.fromhex("0000ff02fed4022a00")

    items, tail = split_host_frames(stream)

    assert items == [Information(b"\xd4\x02")]
    assert tail == b"\x00"  # the postamble might start the next start code


def test_ack_and_nack_frames_are_recognised():
    items, _ = split_host_frames(ACK + NACK)

    assert items == [Ack(), Nack()]


def test_encoding_matches_the_response_nfcpy_expects_for_get_firmware_version():
    # nfc.clf.pn532.init checks the response starts with 0000ff06fad50332.
    assert encode_information(bytes.fromhex("d50332010607")).startswith(bytes.fromhex("0000ff06fad50332"))


def test_a_payload_longer_than_255_bytes_uses_the_extended_frame():
    frame = encode_information(bytes(260))

    assert frame[:5] == bytes.fromhex("0000ffffff")
    assert split_host_frames(frame)[0] == [Information(bytes(260), extended=True)]


def test_a_frame_with_a_bad_length_checksum_is_reported_and_the_next_frame_still_parses():
    bad = bytearray(encode_information(b"\xd4\x02"))
    bad[4] ^= 0x01  # LCS

    items, _ = split_host_frames(bytes(bad) + encode_information(b"\xd4\x14\x01"))

    assert items == [BadFrame("frame length checksum (LCS) does not match"), Information(b"\xd4\x14\x01")]


def test_a_frame_with_a_bad_data_checksum_is_reported_and_the_next_frame_still_parses():
    bad = bytearray(encode_information(b"\xd4\x02"))
    bad[-2] ^= 0x01  # DCS

    items, _ = split_host_frames(bytes(bad) + ACK)

    assert items == [BadFrame("frame data checksum (DCS) does not match"), Ack()]


def test_an_extended_frame_longer_than_the_chip_accepts_is_refused():
    length = (MAX_PAYLOAD + 1).to_bytes(2, "big")
    frame = b"\x00\x00\xff\xff\xff" + length + bytes([-sum(length) & 0xFF])

    items, _ = split_host_frames(frame)

    assert items == [BadFrame(f"extended frame length {MAX_PAYLOAD + 1} is outside 1..{MAX_PAYLOAD}")]


def test_the_error_frame_is_a_one_byte_information_frame():
    assert split_host_frames(ERROR_FRAME)[0] == [Information(b"\x7f")]


def test_an_empty_payload_cannot_be_encoded():
    with pytest.raises(ValueError, match="at least the TFI"):
        encode_information(b"")


def corrupt(frame: bytes, at: int) -> bytes:
    """The frame with one byte after its start code changed (length, checksum, payload or postamble)."""
    i = 3 + at % (len(frame) - 3)
    return frame[:i] + bytes([frame[i] ^ 0x01]) + frame[i + 1:]


# What the chip's line carries: random bytes, but also whole, corrupted and cut-off frames, ACKs and NACKs.
wire = st.one_of(
    st.binary(max_size=600),
    st.builds(lambda junk, p: junk + encode_information(p), noise, payloads),
    st.builds(lambda p, at: corrupt(encode_information(p), at), payloads, st.integers(0, 600)),
    st.builds(lambda p, cut: encode_information(p)[:cut], payloads, st.integers(4, 20)),
    st.lists(st.sampled_from([ACK, NACK, ERROR_FRAME]), min_size=1, max_size=3).map(b"".join),
)


def test_any_payload_survives_encoding_and_parsing():
    branches = Branches()

    @settings(deadline=None)  # no timing assertions, also not per example
    @given(payloads)
    def example(payload):
        items, tail = split_host_frames(encode_information(payload))

        assert items == [Information(payload, extended=len(payload) > 255)]
        assert tail in (b"", b"\x00")
        branches.took("extended" if len(payload) > 255 else "short")

    example()
    branches.require(short=0.25, extended=0.24)


def test_frames_separated_by_line_noise_are_all_found():
    branches = Branches()

    @settings(deadline=None)  # no timing assertions, also not per example
    @given(st.lists(st.tuples(noise, payloads), max_size=5))
    def example(pieces):
        stream = b"".join(junk + encode_information(payload) for junk, payload in pieces)

        items, _ = split_host_frames(stream)

        assert [item.payload for item in items] == [payload for _, payload in pieces]
        noisy = any(junk for junk, _ in pieces)
        branches.took("no frame" if not pieces else "frames among noise" if noisy else "frames back to back")

    example()
    branches.require(**{"frames among noise": 0.4, "frames back to back": 0.025})


def test_any_bytes_on_the_line_never_raise_and_the_tail_is_a_suffix_of_the_input():
    branches = Branches()

    @settings(deadline=None, max_examples=300)  # no timing assertions, also not per example
    @given(wire)
    def example(data):
        items, tail = split_host_frames(data)

        assert data.endswith(tail)
        assert all(isinstance(item, (Ack, Nack, Information, BadFrame)) for item in items)
        kinds = {type(item) for item in items}
        branches.took("bad frame" if BadFrame in kinds else "frame" if kinds else
                      "waiting for more" if len(tail) > 1 else "nothing")

    example()
    branches.require(**{"bad frame": 0.08, "frame": 0.25, "waiting for more": 0.07, "nothing": 0.1})


def test_feeding_a_stream_in_chunks_gives_the_same_frames_as_feeding_it_whole():
    branches = Branches()

    @settings(deadline=None)  # no timing assertions, also not per example
    @given(st.lists(payloads, min_size=1, max_size=4), st.data())
    def example(frame_payloads, data):
        stream = b"".join(encode_information(p) for p in frame_payloads)
        cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))

        items, pending, previous = [], b"", 0
        for cut in cuts + [len(stream)]:
            found, pending = split_host_frames(pending + stream[previous:cut])
            items.extend(found)
            previous = cut

        assert items == split_host_frames(stream)[0]
        branches.took("cut" if any(0 < cut < len(stream) for cut in cuts) else "whole")

    example()
    branches.require(cut=0.35, whole=0.14)


def test_crc_a_matches_nfcpys_own_implementation():
    branches = Branches()

    @settings(deadline=None)  # no timing assertions, also not per example
    @given(st.binary(max_size=64))
    def example(data):
        assert crc_a(data) == bytes(Device.add_crc_a(bytearray(data))[-2:])
        branches.took("bytes" if data else "empty")

    example()
    branches.require(bytes=0.5)
