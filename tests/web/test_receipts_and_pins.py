"""Pure parts behind the screens: receipt signatures, PIN hashing and the lockout file, config sections."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from kiosk.config import load
from kiosk.errors import ConfigError
from kiosk.receipts import Receipt, ReceiptRefused, sign_receipt, verify_receipt
from kiosk.flows.staff import PinLock, StaffLocked, WrongPin, hash_pin, verify_pin
from tests.conftest import write_config
from tests.support.branches import Branches
from web.localize import format_date, jalali_to_iso

KEY = b"k" * 32
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)


def test_a_receipt_verifies_as_signed_and_any_changed_character_is_refused():
    branches = Branches()

    @settings(max_examples=60, deadline=None)
    @given(receipt_id=st.from_regex(r"[A-Za-z0-9-]{1,20}", fullmatch=True), amount=st.integers(1, 10**12),
           part=st.sampled_from([0, 1, 2]), flip=st.integers(0, 200))
    def example(receipt_id, amount, part, flip):
        code = sign_receipt(KEY, Receipt("b1", receipt_id, amount, int(NOW.timestamp())))
        assert verify_receipt(KEY, code, now=NOW, max_age_s=3600, branch="b1").amount_rial == amount
        # A change in each part of "prefix.body.signature" by turns (the dots with the part before them), so the
        # share of each does not hang on how hypothesis spreads one position over the whole code.
        starts = [0, code.index(".") + 1, code.rindex(".") + 1, len(code)]
        i = starts[part] + flip % (starts[part + 1] - starts[part])
        changed = code[:i] + ("A" if code[i] != "A" else "B") + code[i + 1:]
        with pytest.raises(ReceiptRefused) as refused:
            verify_receipt(KEY, changed, now=NOW, max_age_s=3600, branch="b1")
        branches.took(f"{['prefix', 'body', 'signature'][part]} {refused.value.reason}")

    example()
    branches.require(**{"signature forged": 0.12, "body forged": 0.1, "prefix malformed": 0.25})


@pytest.mark.parametrize("key, issued, branch, reason", [
    (b"x" * 32, NOW, "b1", "forged"),
    (KEY, NOW - timedelta(hours=2), "b1", "expired"),
    (KEY, NOW, "b2", "other_branch"),
    (KEY, NOW + timedelta(hours=1), "b1", "forged"),
])
def test_a_receipt_is_refused_with_the_reason_the_screen_shows(key, issued, branch, reason):
    code = sign_receipt(key, Receipt("b1", "R1", 1000, int(issued.timestamp())))
    with pytest.raises(ReceiptRefused) as err:
        verify_receipt(KEY, code, now=NOW, max_age_s=3600, branch=branch)
    assert err.value.reason == reason


def test_a_pin_hash_is_salted_scrypt_and_only_the_right_pin_verifies():
    first, second = hash_pin("2468"), hash_pin("2468")
    assert first.startswith("scrypt$") and first != second
    assert verify_pin("2468", first) and not verify_pin("2469", first) and not verify_pin("2468", "garbage")
    with pytest.raises(ValueError):
        hash_pin("12ab")


def test_the_lockout_counts_across_instances_and_ends_after_its_time(tmp_path):
    encoded = hash_pin("2468")
    clock = [NOW]
    make = lambda: PinLock(tmp_path / "lock.json", max_attempts=3, lockout_s=300, clock=lambda: clock[0])  # noqa: E731
    for left in (2, 1):
        with pytest.raises(WrongPin) as err:
            make().check("0000", encoded)
        assert err.value.attempts_left == left
    with pytest.raises(StaffLocked):
        make().check("0000", encoded)
    with pytest.raises(StaffLocked):
        make().check("2468", encoded)  # the right PIN waits too
    assert oct((tmp_path / "lock.json").stat().st_mode & 0o777) == "0o600"
    clock[0] = NOW + timedelta(seconds=301)
    make().check("2468", encoded)


def test_a_damaged_lock_file_fails_closed_for_one_lockout(tmp_path):
    (tmp_path / "lock.json").write_text("{not json")
    lock = PinLock(tmp_path / "lock.json", max_attempts=3, lockout_s=300, clock=lambda: NOW)
    with pytest.raises(StaffLocked):
        lock.check("2468", hash_pin("2468"))


def test_dates_are_jalali_with_persian_digits_in_fa_and_arabic_indic_in_ar():
    assert format_date(NOW, "fa") == "۲ آذر ۱۴۰۵"
    assert format_date(NOW, "ar") == "٢٣ نوفمبر ٢٠٢٦"
    assert format_date(NOW, "en") == "23 Nov 2026"
    assert jalali_to_iso(1370, 1, 10) == "1991-03-30"
    with pytest.raises(ValueError):
        jalali_to_iso(1403, 7, 31)  # Mehr has 30 days: the picker offers 31, the server refuses it


def test_a_staff_card_that_is_not_a_card_ref_is_refused_naming_the_key(tmp_path):
    path = write_config(tmp_path, extra='[staff]\ncards = { maryam = "0A1B2C3D4E" }\n')
    with pytest.raises(ConfigError, match=r"staff.cards.maryam"):
        load(path)
    path = write_config(tmp_path / "b", extra='[pos]\nenabled = "yes"\n')
    with pytest.raises(ConfigError, match=r"pos.enabled"):
        load(path)
    path = write_config(tmp_path / "c", extra='[enrollment]\nsms_otp = true\n')
    with pytest.raises(ConfigError, match=r"enrollment.sms_otp = true needs \[cloud\] url"):
        load(path)
    path = write_config(tmp_path / "d", extra='[cloud]\nurl = "http://127.0.0.1:9"\n[enrollment]\nsms_otp = true\n')
    assert load(path).enrollment.sms_otp is True


def test_a_digital_card_qr_scanned_by_the_barcode_driver_resolves_to_the_card_bound_at_enrolment(runtime):
    from drivers.barcode import parse_scan
    from kiosk.flows.digital_card import issue_digital_card
    from appliance.runtime import card_formats

    service = runtime.service
    member = service.enroll("+989121110000", "Nika")
    card = issue_digital_card(service, member.id)
    assert card.qr.startswith("data:image/svg+xml")
    # The key the runtime gives the readers, not one derived here: what the kiosk issues must scan back.
    decoded = parse_scan(card.token, card_formats(runtime.settings, runtime.secrets).barcode())
    assert service.active_card(service.card_ref_for(decoded.tech, decoded.uid)).member_id == member.id


def test_a_receipt_whose_last_character_is_changed_within_its_unused_bits_is_refused():
    code = sign_receipt(KEY, Receipt("b1", "R-42", 150_000, int(NOW.timestamp())))
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    # The MAC is 32 bytes: 43 characters whose last carries 2 unused bits, so 3 other characters decode alike.
    for other in alphabet.replace(code[-1], ""):
        with pytest.raises(ReceiptRefused):
            verify_receipt(KEY, code[:-1] + other, now=NOW, max_age_s=3600, branch="b1")
