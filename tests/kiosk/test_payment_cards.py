"""A payment card swiped at the kiosk is refused and its digits land in no file the kiosk writes."""
from __future__ import annotations

import logging
import queue

import pytest

from drivers.magstripe import format_swipe
from kiosk.config import load, load_secrets
from appliance.daemon import configure_logging
from appliance.runtime import Runtime
from tests.conftest import wait_until, write_config

PAN = "4111111111111111"  # Luhn-valid test Visa number
# No debounce: a swipe is one line on the wire, never a held card's repeats, so each swipe is a new read
# at once and the test needs no wait past a debounce gap (the debounce has its own tests in tests/drivers).
READERS = """
[[readers]]
uri = "emulated:magstripe"
id = "swipe"
debounce_s = 0
"""


@pytest.fixture
def kiosk(tmp_path):
    settings = load(write_config(tmp_path / "k", readers=READERS))
    log_file = settings.device.data_dir / "kiosk.log"
    configure_logging(log_file, "DEBUG")
    try:
        with Runtime(settings, load_secrets(settings.device.secrets_file), port=0) as rt:
            wait_until(lambda: rt.service.reader_status.get("swipe"), what="the magstripe reader")
            yield rt
    finally:
        for handler in logging.getLogger().handlers[:]:
            logging.getLogger().removeHandler(handler)
            handler.close()


def test_payment_card_tracks_are_refused_and_never_written_anywhere(kiosk):
    events: queue.Queue = queue.Queue()
    kiosk.service.subscribe(lambda name, payload: events.put((name, payload)))
    member = kiosk.service.enroll("+989121234567", "Sara")
    kiosk.service.bind(member.id, "magstripe", "7700123456")
    swipes = [
        format_swipe(track1=f"B{PAN}^CARDHOLDER/TEST^2812101000000000", track2=f"{PAN}=28121010000000000"),
        format_swipe(track2=f"{PAN}=28121010000000000"),
    ]
    for swipe in swipes:
        kiosk.emulators["swipe"].tap(swipe)
        name, payload = events.get(timeout=5)
        while name == "reader_status":
            name, payload = events.get(timeout=5)
        assert name == "card_refused"
        assert PAN not in payload["reason"] and PAN[-4:] not in payload["reason"]
    # A loyalty card swiped after the refusals is still served.
    kiosk.emulators["swipe"].tap(format_swipe(track2="7700123456"))
    name, payload = events.get(timeout=5)
    while name in ("reader_status", "card_refused"):
        name, payload = events.get(timeout=5)
    assert name == "member" and payload["first_name"] == "Sara"

    for handler in logging.getLogger().handlers:
        handler.flush()
    files = [p for p in kiosk.settings.device.data_dir.rglob("*") if p.is_file() and not p.is_socket()]
    names = {p.name for p in files}
    assert {"kiosk.db", "kiosk.log"} <= names
    for path in files:
        blob = path.read_bytes()
        assert PAN.encode() not in blob, f"payment card digits found in {path}"
        assert PAN[:6].encode() + b"1111" not in blob
