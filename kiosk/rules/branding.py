"""The chain's brand in its branch config (pure): name and welcome line per language, colours, and a logo.

The cloud checks the document with this code before any kiosk sees it, and the kiosk checks it again when it
pulls it, so both refuse the same things. The logo travels inside the config as a data URL (PNG, JPEG or
WebP, small): the kiosk keeps the config on its own disk and serves the image itself, so the page loads
nothing remote. SVG is refused: an SVG can carry script.
"""
from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kiosk.errors import ConfigError
from kiosk.rules.names import parse_names

KEYS = ("name", "welcome", "colors", "logo")
COLOR_KEYS = ("accent", "background", "panel", "text")
MAX_LOGO_BYTES = 128 * 1024
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
_DATA_URL = re.compile(r"data:(image/(?:png|jpeg|webp));base64,([A-Za-z0-9+/=\s]+)")
_MAGIC = {"image/png": (b"\x89PNG\r\n\x1a\n",), "image/jpeg": (b"\xff\xd8\xff",), "image/webp": (b"RIFF",)}


@dataclass(frozen=True)
class Branding:
    names: Mapping[str, str] = field(default_factory=dict)  # per language; empty: the screen's own words
    welcome: Mapping[str, str] = field(default_factory=dict)
    colors: Mapping[str, str] = field(default_factory=dict)  # COLOR_KEYS -> "#rrggbb"
    logo_type: str | None = None
    logo: bytes | None = None

    def name_in(self, language: str) -> str | None:
        """The chain's name in this language, None when it set none for it (never another language's)."""
        return self.names.get(language)

    def welcome_in(self, language: str) -> str | None:
        return self.welcome.get(language)


def branding_from_mapping(value: Any, section: str = "cloud config branding") -> Branding:
    """The brand from the config's "branding" object; ConfigError names the key and what is allowed."""
    where = f"[{section}]"
    if not isinstance(value, Mapping):
        raise ConfigError(f"{where} must be an object with {', '.join(KEYS)}")
    unknown = sorted(set(value) - set(KEYS))
    if unknown:
        raise ConfigError(f"{where} has unknown key {unknown[0]!r}: use {', '.join(KEYS)}")
    names = _per_language(value, "name", where)
    welcome = _per_language(value, "welcome", where)
    colors = value.get("colors", {})
    if not isinstance(colors, Mapping):
        raise ConfigError(f"{where} colors must be an object with {', '.join(COLOR_KEYS)}")
    bad = sorted(set(colors) - set(COLOR_KEYS))
    if bad:
        raise ConfigError(f"{where} colors has unknown key {bad[0]!r}: use {', '.join(COLOR_KEYS)}")
    for key, color in colors.items():
        if not isinstance(color, str) or not _COLOR.fullmatch(color):
            raise ConfigError(f"{where} colors.{key} = {color!r} is not allowed: use #rrggbb, such as \"#0f2740\"")
    if "text" in colors and "background" in colors and colors["text"].lower() == colors["background"].lower():
        raise ConfigError(f"{where} colors.text is the same as colors.background: nobody could read the screen")
    logo_type, logo = _logo(value.get("logo"), where) if "logo" in value else (None, None)
    return Branding(names, welcome, {k: v.lower() for k, v in colors.items()}, logo_type, logo)


def _per_language(value: Mapping[str, Any], key: str, where: str) -> dict[str, str]:
    if key not in value:
        return {}
    texts = parse_names(value[key], f"{where} {key}:")
    for lang, text in texts.items():
        if len(text) > 80:
            raise ConfigError(f"{where} {key}.{lang} is {len(text)} characters: use at most 80")
    return texts


def _logo(value: Any, where: str) -> tuple[str, bytes]:
    match = _DATA_URL.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ConfigError(f"{where} logo must be a data URL of a PNG, JPEG or WebP image "
                          "(\"data:image/png;base64,...\"); SVG and links to other sites are not allowed")
    kind = match.group(1)
    try:
        data = base64.b64decode("".join(match.group(2).split()), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"{where} logo is not valid base64") from None
    if len(data) > MAX_LOGO_BYTES:
        raise ConfigError(f"{where} logo is {len(data)} bytes: use an image of at most {MAX_LOGO_BYTES} bytes")
    if not data.startswith(_MAGIC[kind]) or (kind == "image/webp" and data[8:12] != b"WEBP"):
        raise ConfigError(f"{where} logo says {kind} but its bytes are not a {kind.split('/')[1].upper()} image")
    return kind, data
