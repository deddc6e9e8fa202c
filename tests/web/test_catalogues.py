"""The committed catalogues are complete: a shopper never meets an English string in fa or ar."""
from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parents[2] / "web" / "translations"


def load(lang: str):
    with (TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=lang)


@pytest.mark.parametrize("lang", ["fa", "ar"])
def test_every_string_of_the_template_is_translated(lang):
    with (TRANSLATIONS / "messages.pot").open("rb") as fh:
        template = read_po(fh)
    catalogue = load(lang)
    wanted = {m.id for m in template if m.id}
    missing = sorted(str(i) for i in wanted if not (catalogue.get(i) and catalogue.get(i).string))
    assert missing == [], f"untranslated in {lang}: {missing[:10]}"


@pytest.mark.parametrize("lang", ["fa", "ar"])
def test_placeholders_survive_translation(lang):
    for message in load(lang):
        if message.id and message.string and isinstance(message.id, str):
            for name in ("%(name)s", "%(points)s", "%(tier)s"):
                assert (name in message.id) == (name in message.string), (lang, message.id)
