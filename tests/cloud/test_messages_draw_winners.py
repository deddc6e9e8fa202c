"""Draw winners are texted by `kiosk-cloud jobs run`: one text per (draw, member), in the member's language."""

from __future__ import annotations

from datetime import timedelta

from cloud import draws
from cloud.store import CloudStore
from kiosk import protocol
from kiosk.clock import utcnow
from tests.cloud.messages_kit import QUIET_HOURS_OFF, jobs_run, write_jobs_setup
from tests.support.sms_providers import FakeProvider


def test_each_consenting_winner_is_texted_once_in_their_language_and_a_second_run_sends_nothing(
        tmp_path, database, capsys):
    with FakeProvider("kavenegar") as provider, CloudStore(database) as store:
        config, secrets = write_jobs_setup(tmp_path, provider.url, f"{QUIET_HOURS_OFF}\nlapsed_days = 0\nanniversary = false")
        store.register(store.create_token("tehran-01"))
        now = utcnow()
        with store.db.write() as conn:
            draws.create(conn, draw_id="spring", name="Spring", names={"fa": "بهار", "en": "Spring"},
                         prizes=["Bicycle 2", "Tablet", "Mug"], price_points=10, starts_at=now - timedelta(hours=2),
                         ends_at=now - timedelta(seconds=1), actor="test", now=now - timedelta(hours=2))
        people = (("m-fa", "Ali", "+989120000001", "fa", True), ("m-en", "Sam", "+989120000003", "en", True),
                  ("m-no", "Reza", "+989120000004", "fa", False), ("m-loser", "Nima", "+989120000005", "fa", True))
        events = []
        for member_id, name, phone, language, consent in people:
            at = now - timedelta(hours=1)
            events.append(protocol.make_event(
                "member_enrolled", member_id, at, phone_e164=phone, name=name, language=language,
                consent={"at": protocol.format_time(at), "text_version": "1"} if consent else None))
            if member_id != "m-loser":
                events.append(protocol.make_event("draw_entry", member_id, at, draw_id="spring", entries=1,
                                                  source="points"))
        store.ingest(store.devices()[0], events)

        assert jobs_run(database, config, secrets, capsys)["draw_win_queued"] == "0"  # not run yet: nobody won
        with store.db.write() as conn:
            winners = draws.run(conn, "spring", actor="test", now=utcnow())
        prize = {w["member_id"]: w["prize"] for w in winners}
        assert set(prize) == {"m-fa", "m-en", "m-no"}
        first = jobs_run(database, config, secrets, capsys)
        assert first["draw_win_queued"] == "2" and first["sent"] == "2"
        second = jobs_run(database, config, secrets, capsys)
        assert second["draw_win_queued"] == "0" and second["sent"] == "0"
    fa_prize = prize["m-fa"].replace("2", "۲")
    assert sorted((s.receptor, s.message) for s in provider.sent) == [
        ("989120000001", f"Ali عزیز، در قرعه‌کشی بهار برنده شدید: {fa_prize}. Kafe"),
        ("989120000003", f"Sam, you won the Spring draw: {prize['m-en']}. Kafe")]
