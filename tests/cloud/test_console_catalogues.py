"""The console's catalogues are complete: a console user never meets an English string in fa or ar."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from cloud.users import ROLES
from kiosk import protocol
from kiosk.rules.segments import SEGMENTS

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "cloud" / "translations"


def load(path: Path, lang: str | None = None):
    with path.open("rb") as fh:
        return read_po(fh, locale=lang)


def template_ids() -> set[str]:
    return {m.id for m in load(TRANSLATIONS / "messages.pot") if m.id}


def test_the_template_holds_every_string_of_the_sources_and_every_word_shown_as_data(tmp_path):
    extracted = tmp_path / "fresh.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "cloud/babel.cfg",
                    "-o", str(extracted), "."], cwd=ROOT, check=True, capture_output=True)
    fresh = {m.id for m in load(extracted) if m.id}
    data_words = set(ROLES) | set(SEGMENTS) | set(protocol.LEDGER_KINDS) | set(protocol.CARD_STATES)
    assert sorted((fresh | data_words) - template_ids()) == []


@pytest.mark.parametrize("lang", ["fa", "ar"])
def test_every_string_of_the_template_is_translated(lang):
    catalogue = load(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", lang)
    missing = sorted(i for i in template_ids() if not (catalogue.get(i) and catalogue.get(i).string))
    assert missing == [], f"untranslated in {lang}: {missing[:10]}"


@pytest.mark.parametrize("lang", ["fa", "ar"])
def test_placeholders_survive_translation(lang):
    for message in load(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", lang):
        if message.id and message.string:
            assert sorted(re.findall(r"%\(\w+\)s", message.id)) == sorted(re.findall(r"%\(\w+\)s", message.string))
