"""RDM6300: half a frame left on the line (an unplug, a reader reset) is dropped after a gap.

It must neither join the bytes that come next into a tap nor hide the next whole frame.
"""
from __future__ import annotations

from drivers import rdm6300
from drivers.backoff import Backoff
from drivers.errors import FrameError
from drivers.events import BadRead, ReaderState, ReaderStatus, Tech
from drivers.rdm6300 import Rdm6300Decoder, encode_frame
from drivers.reader import Reader
from drivers.serial_transport import SerialTransport

UID = "0A00B1C2D3"
OTHER_UID = "1F2E3D4C5B"
FRAME = encode_frame(UID)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_half_a_frame_then_a_pause_then_the_rest_is_not_a_tap():
    clock = FakeClock()
    decoder = Rdm6300Decoder(clock=clock)
    assert decoder.feed(FRAME[:6]) == []
    clock.now += 3.0
    out = decoder.feed(FRAME[6:])
    assert UID not in out
    assert out and all(isinstance(item, FrameError) for item in out)
    assert "left on the line" in str(out[0])


def test_a_stale_half_frame_does_not_hide_the_next_whole_frame():
    clock = FakeClock()
    decoder = Rdm6300Decoder(clock=clock)
    decoder.feed(b"\x02" + b"1F2E3D4C5B")  # 11 of 14 bytes, no STX can follow inside a frame
    clock.now += 2.0
    out = decoder.feed(FRAME[6:] + encode_frame(OTHER_UID))
    assert [item for item in out if isinstance(item, str)] == [OTHER_UID]


def test_idle_drops_a_stale_half_frame_and_says_so_once():
    clock = FakeClock()
    decoder = Rdm6300Decoder(clock=clock)
    decoder.feed(FRAME[:9])
    assert decoder.idle() == []  # no time passed: still waiting for the rest
    clock.now += 1.0
    dropped = decoder.idle()
    assert len(dropped) == 1 and "tap the card again" in str(dropped[0])
    assert decoder.idle() == []
    assert decoder.feed(FRAME) == [UID]


def test_a_frame_split_by_a_short_gap_still_reads():
    clock = FakeClock()
    decoder = Rdm6300Decoder(clock=clock)
    decoder.feed(FRAME[:7])
    clock.now += 0.02  # USB-serial adapters deliver a frame in two reads
    assert decoder.feed(FRAME[7:]) == [UID]


def test_a_stale_half_frame_on_a_real_serial_line_is_reported_and_the_next_tap_reads(emulator, events):
    reader = Reader(
        reader_id="door",
        uri=f"rdm6300:tty:{emulator.port}",
        tech=Tech.RFID_125K.value,
        open_transport=lambda: SerialTransport(emulator.port, baudrate=rdm6300.BAUDRATE),
        make_decoder=rdm6300.Rdm6300Decoder,
        sink=events,
        debounce_s=1.0,
        backoff=Backoff(initial_s=0.02, cap_s=0.2),
    )
    with reader.start():
        events.wait_status(ReaderState.CONNECTED)
        emulator.write(FRAME[:6])
        dropped = events.wait_for(lambda e: isinstance(e, BadRead))  # the reader loop's idle() dropped it
        emulator.write(FRAME[6:])
        emulator.tap(OTHER_UID)
        card = events.wait_card()
        seen = events.drain(settle_s=0.1)
    assert "left on the line" in dropped.detail
    assert card.uid == OTHER_UID
    assert all(getattr(item, "uid", None) != UID for item in seen)
    assert not any(isinstance(item, ReaderStatus) and UID in item.detail for item in seen)
