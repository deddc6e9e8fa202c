"""The composition root plays each outcome on the shop-floor LEDs: a till earn, a redemption and a
reader that goes away all light up (before, they were silent)."""
from __future__ import annotations

import pytest
from gpiozero.pins.mock import MockFactory

from appliance.runtime import Runtime
from drivers.events import ReaderState, ReaderStatus
from kiosk.config import load, load_secrets
from kiosk.flows import coupons
from tests.conftest import wait_until, write_config

GREEN, RED = 22, 23


@pytest.fixture
def lit_kiosk(tmp_path):
    config = write_config(tmp_path / "kiosk", f"[feedback]\ngreen_pin = {GREEN}\nred_pin = {RED}\n")
    settings = load(config)
    factory = MockFactory()
    try:
        with Runtime(settings, load_secrets(settings.device.secrets_file), port=0, pin_factory=factory) as rt:
            yield rt, factory
    finally:
        factory.reset()
        factory.close()


def lights_up(factory: MockFactory, pin: int) -> bool:
    return any(state for _, state in factory.pin(pin).states)


def fresh(factory: MockFactory, *pins: int) -> None:
    for pin in pins:
        factory.pin(pin).clear_states()


def test_a_till_earn_flashes_the_green_led(lit_kiosk):
    rt, factory = lit_kiosk
    service = rt.service
    member = service.enroll("+989120000101", "Neda")
    service.bind(member.id, "rfid125", "0A00B1C2D3")
    rt.flows.pos.post("R-1", 1_000_000)
    fresh(factory, GREEN, RED)
    rt.emulators["counter"].tap("0A00B1C2D3")
    wait_until(lambda: rt.flows.pos.status("R-1").state == "earned", what="the till earn")
    wait_until(lambda: lights_up(factory, GREEN), what="the green LED")
    assert not lights_up(factory, RED)


def test_a_redemption_flashes_the_green_led(lit_kiosk):
    rt, factory = lit_kiosk
    service = rt.service
    member = service.enroll("+989120000102", "Sara")
    service.earn(member.id, 10_000_000)
    service.store.upsert_reward("tea", "Tea", 10)
    fresh(factory, GREEN, RED)
    coupons.redeem(service, member.id, "tea")
    wait_until(lambda: lights_up(factory, GREEN), what="the green LED")


def test_a_reader_that_goes_away_flashes_red(lit_kiosk):
    rt, factory = lit_kiosk
    fresh(factory, GREEN, RED)
    rt.service.put(ReaderStatus("counter", ReaderState.DISCONNECTED, "unplugged"))
    wait_until(lambda: lights_up(factory, RED), what="the red LED")
    assert not lights_up(factory, GREEN)
