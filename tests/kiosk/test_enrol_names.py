"""Names are normalised (NFC) before they are checked, so the same name typed or pasted in another Unicode
form is accepted and stored one way; ZWNJ stays where Persian needs it; yeh/kaf are stored as typed."""
from __future__ import annotations

import unicodedata

import pytest

from cloud.names import fold_name
from kiosk.flows.enrollment import EnrollmentError, clean_name
from tests.kiosk.test_enrolment_atomic import kiosk  # noqa: F401 - the fixture: a real store, service and flows


def test_a_name_with_the_arabic_dagger_alef_is_accepted_as_typed():
    assert clean_name("رحمٰن", "first_name", required=True) == "رحمٰن"  # U+0670 over the meem
    assert clean_name("إسحٰق", "first_name", required=True) == "إسحٰق"


def test_a_decomposed_latin_accent_is_accepted_and_stored_composed():
    decomposed = "Jose\u0301 Zoe\u0308"
    cleaned = clean_name(decomposed, "first_name", required=True)
    assert cleaned == "José Zoë" and cleaned == unicodedata.normalize("NFC", cleaned) and len(cleaned) == 8


def test_a_zwnj_between_letters_is_kept_and_a_stray_one_is_dropped():
    assert clean_name("علی\u200cرضا", "first_name", required=True) == "علی\u200cرضا"
    assert clean_name("\u200cمهر\u200c\u200c", "first_name", required=True) == "مهر"
    assert clean_name("مهر\u200c آرا", "first_name", required=True) == "مهر آرا"
    assert clean_name("\u200c", "last_name", required=False) == ""


def test_arabic_and_persian_yeh_and_kaf_are_stored_as_typed_and_the_cloud_search_folds_them():
    arabic, persian = clean_name("كريم علي", "f", required=True), clean_name("کریم علی", "f", required=True)
    assert (arabic, persian) == ("كريم علي", "کریم علی")  # not rewritten: the shopper's own spelling
    assert fold_name(arabic) == fold_name(persian)


@pytest.mark.parametrize("name", ["\u0301a", "Ali2", "<b>", "a\u200db"])
def test_a_name_that_starts_with_a_mark_or_holds_digits_tags_or_zwj_is_refused(name):
    with pytest.raises(EnrollmentError) as refused:
        clean_name(name, "first_name", required=True)
    assert refused.value.field == "first_name"


def test_a_member_enrolled_with_a_decomposed_name_is_stored_composed(kiosk):
    service, flows = kiosk
    enrolled = flows.enrollment.enroll("09121234567", "Rene\u0301e", "رحمٰن", consent=True)
    member = service.store.member(enrolled.member.id)
    assert (member.first_name, member.last_name) == ("Renée", "رحمٰن")
