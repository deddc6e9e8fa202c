"""The walking skeleton below the browser: real RDM6300 bytes on a pty to service events."""
from __future__ import annotations

import logging
import queue

import pytest

from drivers import rdm6300
from kiosk.errors import KioskError
from tests.conftest import wait_until

UID = "0A1B2C3D4E"


class UiEvents:
    def __init__(self, service):
        self.q: queue.Queue = queue.Queue()
        service.subscribe(lambda name, payload: self.q.put((name, payload)))

    def next(self, *names: str, timeout: float = 5.0):
        while True:
            name, payload = self.q.get(timeout=timeout)
            if name in names:
                return name, payload


@pytest.fixture
def member(runtime):
    service = runtime.service
    m = service.enroll("+989121234567", "Sara", "Ahmadi")
    service.bind(m.id, "rfid125", UID)
    return m


@pytest.fixture
def emulator(runtime):
    emulator = runtime.emulators["counter"]
    wait_until(lambda: runtime.service.reader_status.get("counter"), what="the reader to report its status")
    return emulator


def test_a_tap_of_a_members_card_emits_name_points_credit_and_tier(runtime, member, emulator):
    ui = UiEvents(runtime.service)
    runtime.service.earn(member.id, 2_500_000)
    emulator.write(rdm6300.encode_frame(UID))
    name, view = ui.next("member", "unknown_card")
    assert name == "member"
    assert view["first_name"] == "Sara"
    assert view["points"] == 100 + 250  # enrolment bonus + 2.5M rial at 1 point per 10,000
    assert view["credit_rial"] == 350 * runtime.settings.loyalty.point_value_rial
    assert view["tier"] == "bronze" and view["next_tier"] == "silver" and view["points_to_next"] == 650
    assert view["card_label"].endswith("3D4E") and UID not in str(view)


def test_an_unknown_card_is_offered_enrolment_without_exposing_its_uid(runtime, emulator):
    ui = UiEvents(runtime.service)
    emulator.tap("00000000FF")
    name, payload = ui.next("member", "unknown_card")
    assert name == "unknown_card"
    assert payload == {"label": "•••• 00FF"}


def test_a_lost_card_is_refused_and_says_where_to_get_help(runtime, member, emulator):
    ui = UiEvents(runtime.service)
    runtime.service.store.set_card_state(runtime.service.card_ref_for("rfid125", UID), "lost")
    emulator.tap(UID)
    name, payload = ui.next("member", "unknown_card", "card_blocked")
    assert (name, payload["state"]) == ("card_blocked", "lost")


def test_a_malformed_frame_and_a_bad_checksum_do_not_stop_the_next_tap(runtime, member, emulator):
    ui = UiEvents(runtime.service)
    good = rdm6300.encode_frame(UID)
    bad_checksum = good[:11] + (b"00" if good[11:13] != b"00" else b"11") + good[13:]
    emulator.write(b"\x02ZZZZ\x03" + bad_checksum + b"garbage")
    emulator.write(good)
    name, view = ui.next("member", "unknown_card")
    assert name == "member" and view["first_name"] == "Sara"
    assert runtime.service.store.verify() == []


def test_an_earn_of_zero_or_a_fraction_is_refused_with_a_reason(runtime, member):
    for bad in (0, -5, 12.5, True):
        with pytest.raises(KioskError, match="positive whole number of rial"):
            runtime.service.earn(member.id, bad)
    assert runtime.service.store.balance(member.id).points == 100


def test_the_raw_uid_is_never_written_to_the_database_or_the_log(runtime, member, emulator, caplog, tmp_path):
    caplog.set_level(logging.DEBUG)
    ui = UiEvents(runtime.service)
    emulator.tap(UID)
    ui.next("member")
    runtime.service.earn(member.id, 1_000_000)
    data_dir = runtime.settings.device.data_dir
    files = [p for p in data_dir.rglob("*") if p.is_file()]
    assert any(p.name == "kiosk.db-wal" for p in files) or any(p.name == "kiosk.db" for p in files)
    for path in files:
        blob = path.read_bytes()
        assert UID.encode() not in blob and UID.lower().encode() not in blob, path
    assert UID not in caplog.text and UID.lower() not in caplog.text


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def test_points_older_than_the_expiry_window_expire_before_a_redemption(tmp_path):
    from datetime import datetime, timedelta, timezone

    from kiosk.config import load, load_secrets
    from kiosk.errors import InsufficientPoints
    from kiosk.service import KioskService
    from kiosk.store import Store
    from tests.conftest import write_config

    settings = load(write_config(tmp_path / "k"))
    clock = Clock(datetime(2025, 1, 10, 12, tzinfo=timezone.utc))
    with Store(settings.database_path, device_id="d", clock=clock) as store:
        service = KioskService(store, settings, load_secrets(settings.device.secrets_file), clock=clock)
        member = service.enroll("+989121234567", "Sara")          # 100 bonus points on 2025-01-10
        clock.now += timedelta(days=200)
        service.earn(member.id, 3_000_000)                         # 300 points on 2025-07-29
        clock.now += timedelta(days=200)                           # the enrolment bonus is now 400 days old
        with pytest.raises(InsufficientPoints, match="balance is 300"):
            service.redeem(member.id, 350)
        assert store.balance(member.id).points == 300
        assert [r.kind for r in store.history(member.id)][:1] == ["expire"]
        service.settle(member.id)                                  # settling again expires nothing more
        assert store.balance(member.id).points == 300 and store.verify() == []


def test_a_birthday_bonus_is_given_once_in_the_birth_month(tmp_path):
    from datetime import datetime, timedelta, timezone

    from kiosk.config import load, load_secrets
    from kiosk.service import KioskService
    from kiosk.store import Store
    from tests.conftest import write_config

    settings = load(write_config(tmp_path / "k"))
    clock = Clock(datetime(2026, 3, 2, 9, tzinfo=timezone.utc))
    with Store(settings.database_path, device_id="d", clock=clock) as store:
        service = KioskService(store, settings, load_secrets(settings.device.secrets_file), clock=clock)
        member = service.enroll("+989121234567", "Sara", birthday="1990-03-20")
        service.settle(member.id)
        clock.now += timedelta(days=3)
        service.settle(member.id)
        bonuses = [r for r in store.history(member.id) if r.reason == "birthday bonus"]
        assert [b.points for b in bonuses] == [settings.loyalty.birthday_bonus]


def test_offline_a_member_can_redeem_only_the_daily_cap_and_online_there_is_no_cap(tmp_path):
    from datetime import datetime, timezone

    from kiosk.config import load, load_secrets
    from kiosk.errors import OfflineRedemptionCap
    from kiosk.service import KioskService
    from kiosk.store import Store
    from tests.conftest import write_config

    settings = load(write_config(tmp_path / "k", extra="[loyalty]\noffline_daily_redeem_cap = 300\n"))
    clock = Clock(datetime(2026, 11, 23, 19, 0, tzinfo=timezone.utc))  # 22:30 in Tehran
    with Store(settings.database_path, device_id="d", clock=clock) as store:
        service = KioskService(store, settings, load_secrets(settings.device.secrets_file), clock=clock)
        member = service.enroll("+989121234567", "Sara")
        service.earn(member.id, 20_000_000)
        service.link = "offline"
        service.redeem(member.id, 200)
        with pytest.raises(OfflineRedemptionCap, match="at most 300 points per member per day; 100 points are left"):
            service.redeem(member.id, 150)
        clock.now = datetime(2026, 11, 23, 21, 0, tzinfo=timezone.utc)  # 00:30 next day in Tehran: a new shop day
        service.redeem(member.id, 250)
        service.link = "online"
        service.redeem(member.id, 900)
        assert store.verify() == []
