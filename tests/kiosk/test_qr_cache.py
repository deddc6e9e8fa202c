"""A referral code's QR is made once per code, not on every tap, and is the same image segno makes."""
from __future__ import annotations

import pytest

from kiosk.config import load, load_secrets
from kiosk.qr import QrCache, qr_data_uri
from kiosk.service import KioskService
from kiosk.store import Store
from tests.conftest import write_config


def test_the_cached_qr_is_the_image_segno_makes_and_a_second_tap_reuses_it():
    cache = QrCache(scale=4)
    first = cache("RF7K2Q")
    assert first == qr_data_uri("RF7K2Q", scale=4) and first.startswith("data:image/svg+xml")
    assert cache("RF7K2Q") is first  # the same object: not made again
    assert cache("ZZ1234") != first and len(cache) == 2


def test_the_cache_keeps_only_the_codes_used_last():
    cache = QrCache(scale=4, size=2)
    a = cache("AAAA")
    cache("BBBB")
    assert cache("AAAA") is a  # used again: now the newest
    cache("CCCC")  # evicts BBBB, the least recently used
    assert len(cache) == 2 and cache("AAAA") is a


def test_a_cache_of_no_codes_is_refused_with_the_reason():
    with pytest.raises(ValueError, match="at least one code"):
        QrCache(scale=4, size=0)


def test_the_member_screen_reuses_the_referral_qr_it_made_at_the_members_first_tap(tmp_path):
    settings = load(write_config(tmp_path))
    with Store(tmp_path / "kiosk.db", device_id="k1") as store:
        service = KioskService(store, settings, load_secrets(settings.device.secrets_file))
        member = service.enroll("+989121234567", "Sara")
        first = service.summary(member.id)["referral_qr"]
        again = service.summary(member.id)["referral_qr"]
    assert first == qr_data_uri(member.referral_code, scale=4)
    assert again is first  # the cached image, not a second one made by segno
