"""A tap is resolved once (this kiosk, then the chain) before any flow sees it, and its screen costs
at most four reads of the store."""
from __future__ import annotations

import pytest

from drivers.events import CardRead
from kiosk.config import load, load_secrets
from kiosk.flows import build_flows
from kiosk.identity import card_ref
from kiosk.service import CardTap, KioskService
from kiosk.store import Store
from kiosk.ui_events import UiEvent
from tests.conftest import write_config

UID = "0A00B1C2D3"
STAFF_UID = "5TAFF00001"


@pytest.fixture
def kiosk(tmp_path):
    config = write_config(tmp_path / "kiosk")
    settings = load(config)
    reads: list[str] = []
    with Store(settings.database_path, device_id="t", on_read=reads.append) as store:
        service = KioskService(store, settings, load_secrets(settings.device.secrets_file))
        events: list[tuple[str, dict]] = []
        service.subscribe(lambda name, payload: events.append((name, payload)))
        yield service, reads, events


def test_a_member_tap_reads_the_store_at_most_four_times_however_long_the_history(kiosk):
    service, reads, events = kiosk
    flows = build_flows(service)
    member = service.enroll("+989120000001", "Lale")
    service.bind(member.id, "rfid125", UID)
    for i in range(300):
        service.earn(member.id, 100_000 + i)
    for i in range(6):
        service.store.upsert_reward(f"r{i}", f"Reward {i}", 100 * (i + 1))
    service.handle(CardRead(UID, "rfid125", "counter"))
    reads.clear()

    service.handle(CardRead(UID, "rfid125", "counter"))

    assert events[-1][0] == UiEvent.MEMBER
    assert len(reads) <= 4, reads
    screen = events[-1][1]
    assert len(screen["recent"]) == 5 and screen["rewards"] and "locked_rewards" in screen
    flows.close()


def test_the_waiting_flow_sees_the_tap_already_resolved_to_its_card(kiosk):
    service, reads, events = kiosk
    member = service.enroll("+989120000002", "Bahar")
    bound = service.bind(member.id, "rfid125", UID)
    seen: list[CardTap] = []
    service.add_tap_handler(lambda tap: seen.append(tap) or True)

    service.handle(CardRead(UID, "rfid125", "counter"))

    assert seen[0].resolved and seen[0].card == bound
    assert seen[0].member_card().member_id == member.id


def test_a_staff_card_is_recognised_before_the_chain_is_asked(tmp_path):
    directory = tmp_path / "kiosk"
    secret = load_secrets(load(write_config(directory)).device.secrets_file).chain_secret
    staff_ref = card_ref(secret, "rfid125", STAFF_UID)
    settings = load(write_config(directory, f'[staff]\ncards = {{ maryam = "{staff_ref}" }}\n'))
    asked: list[str] = []
    with Store(settings.database_path, device_id="t") as store:
        service = KioskService(store, settings, load_secrets(settings.device.secrets_file),
                               chain_lookup=lambda ref: asked.append(ref))
        service.link = "online"
        events: list[tuple[str, dict]] = []
        service.subscribe(lambda name, payload: events.append((name, payload)))
        flows = build_flows(service)

        service.handle(CardRead(STAFF_UID, "rfid125", "counter"))
        assert events[-1] == (UiEvent.STAFF_ENTER, {"staff_id": "maryam"})
        assert asked == []

        service.handle(CardRead("UNKNOWN0001", "rfid125", "counter"))
        assert events[-1][0] == UiEvent.UNKNOWN_CARD and len(asked) == 1
        flows.close()
