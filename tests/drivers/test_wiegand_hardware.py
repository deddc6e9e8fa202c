"""On a Pi with a real Wiegand reader wired as in docs/gpio.md (run with -m hardware).

Set WIEGAND_D0 / WIEGAND_D1 if the reader is not on GPIO17 / GPIO27, then tap
any 26- or 34-bit card within 30 seconds.
"""
from __future__ import annotations

import os
import queue

import pytest

from drivers.events import CardRead, ReaderState, ReaderStatus
from drivers.wiegand.reader import WiegandReader


@pytest.mark.hardware
def test_a_real_card_tapped_on_the_wired_reader_is_read():
    d0 = int(os.environ.get("WIEGAND_D0", "17"))
    d1 = int(os.environ.get("WIEGAND_D1", "27"))
    events = queue.Queue()
    with WiegandReader(d0, d1, events, reader_id="hardware"):
        print(f"\ntap a card on the Wiegand reader on GPIO{d0}/GPIO{d1} ...")
        while True:
            event = events.get(timeout=30)
            if isinstance(event, ReaderStatus):
                assert event.state is not ReaderState.ERROR, event.detail
            if isinstance(event, CardRead):
                break
    assert event.tech == "wiegand"
    assert event.uid.split(":")[0] in ("26", "34")
