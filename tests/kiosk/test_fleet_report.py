"""What the kiosk's heartbeat says about its outbox: nothing waiting, or how many and how old the oldest is."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from kiosk.store import Store
from kiosk.sync.fleet import heartbeat_report

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=timezone.utc)


def test_an_empty_outbox_reports_no_backlog_and_a_waiting_one_reports_the_age_of_its_oldest_event(tmp_path):
    with Store(tmp_path / "kiosk.db", device_id="k1", clock=lambda: T0) as store:
        empty = heartbeat_report(store, {"counter": "connected"}, "1.0", T0)
        assert (empty.outbox_count, empty.outbox_oldest_age_s) == (0, None)
        member = store.add_member("+989120000001", "Sara", "A", consent_version="2026-01")
        store.record(member.id, "bonus", 100, reason="enrolment bonus")
        later = heartbeat_report(store, {"counter": "error"}, "1.0", T0 + timedelta(minutes=7))
    assert later.outbox_count >= 2 and later.outbox_oldest_age_s == 7 * 60
    assert later.to_json() == {"version": "1.0", "outbox": {"count": later.outbox_count, "oldest_age_s": 420.0},
                               "readers": {"counter": "error"}}
