"""A coupon won at a kiosk's instant-win game is texted like a redeemed reward's: its code, once, by `jobs run`.

Points-cap coupons need nothing of their own: the kiosk issues them through redeem_reward (kiosk/service.py),
whose redeem event already names the coupon (tests/kiosk/test_club_service.py checks that event).
"""

from __future__ import annotations

from cloud import engagement
from kiosk.rules.coupon_reasons import coupon_in_reason
from kiosk.rules.games import game_from_mapping
from tests.cloud.test_draws_games_cloud import Kiosk, at_ten_utc
from tests.cloud.messages_kit import QUIET_HOURS_OFF, jobs_run, write_jobs_setup
from tests.support.sms_providers import FakeProvider


def test_a_game_win_texts_its_coupon_code_once_in_the_members_language_and_a_loss_texts_nothing(cloud, tmp_path,
                                                                                                capsys):
    at_ten_utc(cloud)
    kiosk = Kiosk(cloud, tmp_path, "north")
    try:
        with FakeProvider("kavenegar") as provider:
            config, secrets = write_jobs_setup(tmp_path, provider.url,
                                               f"{QUIET_HOURS_OFF}\nlapsed_days = 0\nanniversary = false")
            member = kiosk.store.add_member("+989120000007", "Sam", consent_version="2026-01", language="en")
            kiosk.store.record(member.id, "bonus", 100, reason="welcome")
            with cloud.store.db.write() as conn:
                engagement.create_game(conn, game_id="spin", name="Spin", cost_points=10,
                                       odds=[{"reward_id": "coffee", "chance": 5_000}], daily_limit=None,
                                       total_limit=None, per_kiosk=3, lease_minutes=60, actor="test",
                                       now=cloud.clock())
            kiosk.sync()
            game = game_from_mapping(kiosk.store.games()[0])
            won = kiosk.store.play_game(member.id, game, "play-1", lambda: 0, lambda: "CPNWIN1")
            lost = kiosk.store.play_game(member.id, game, "play-2", lambda: 9_999, lambda: "CPNNOPE")
            assert won["coupon"] == "CPNWIN1" and lost["coupon"] is None
            kiosk.sync()
            assert jobs_run(cloud.database, config, secrets, capsys)["coupon_queued"] == "1"
            assert jobs_run(cloud.database, config, secrets, capsys)["coupon_queued"] == "0"
        assert [(s.receptor, s.message) for s in provider.sent] == [
            ("989120000007", "Sam, your coupon code at Kafe: CPNWIN1")]
        assert coupon_in_reason("game spin; reward coffee: coupon CPNWIN1") == ("coffee", "CPNWIN1")
        assert coupon_in_reason("game spin") is None
    finally:
        kiosk.close()
