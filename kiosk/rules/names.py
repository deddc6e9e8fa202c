"""Names the chain gives a reward or a campaign, one per screen language (pure)."""
from __future__ import annotations

from collections.abc import Mapping

from kiosk.errors import ConfigError

LANGUAGES = ("fa", "ar", "en")  # fa first: the screens' default language


def parse_names(value: object, label: str) -> dict[str, str]:
    """`{"fa": ..., "ar": ..., "en": ...}` (any non-empty subset) or one plain name for every language.

    ConfigError names the label and the bad language or value.
    """
    if isinstance(value, str):
        if not value.strip():
            raise ConfigError(f"{label} name = {value!r} is not allowed: give it a name")
        return {lang: value for lang in LANGUAGES}
    if not isinstance(value, Mapping) or not value:
        raise ConfigError(f"{label} name = {value!r} is not allowed: give a name or an object with "
                          f"{', '.join(LANGUAGES)} names")
    unknown = sorted(set(value) - set(LANGUAGES))
    if unknown:
        raise ConfigError(f"{label} name has unknown language {unknown[0]!r}: use {', '.join(LANGUAGES)}")
    for lang, text in value.items():
        if not isinstance(text, str) or not text.strip():
            raise ConfigError(f"{label} name.{lang} = {text!r} is not allowed: give a non-empty name")
    return dict(value)


def pick_name(names: Mapping[str, str], language: str | None) -> str:
    """The name in `language`, else in the first configured of fa, ar, en."""
    if language in names:
        return names[language]
    return next(names[lang] for lang in LANGUAGES if lang in names)
