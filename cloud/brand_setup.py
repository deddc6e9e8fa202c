"""The chain's brand (the config's optional `branding` section) from the console's form and logo upload.

The uploaded file becomes the data URL the kiosk expects, declared with the type the browser gave it; the
kiosks' own check (kiosk.rules.branding, run by cloud.club_setup.checked) then refuses SVG, links, a type
that does not match the bytes and anything over 128 KB, with its own message.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any, Protocol

from kiosk.rules.branding import COLOR_KEYS
from kiosk.rules.names import LANGUAGES

TEXTS = ("name", "welcome")
CONTROL_FIELDS = frozenset({"csrf_token", "branch", "etag", "action", "remove_logo"})


class Upload(Protocol):
    """What the form's file field gives (werkzeug's FileStorage)."""

    filename: str | None
    mimetype: str

    def read(self) -> bytes: ...


def logo_data_url(upload: Upload) -> str:
    """The uploaded image as a data URL, whatever its size: the kiosks' check refuses one over
    MAX_LOGO_BYTES naming its real size (the request itself is bounded by the app's MAX_CONTENT_LENGTH)."""
    data = upload.read()
    return f"data:{upload.mimetype or 'application/octet-stream'};base64," + base64.b64encode(data).decode()


def branding_from_form(form: Mapping[str, str], upload: Upload | None,
                       current: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The `branding` section from the form (None: the chain sets no brand, the kiosks keep their own).

    Texts are name_<lang> and welcome_<lang>, colours color_<key>; an empty field sets nothing. The logo is
    the uploaded file, else a pasted `logo` text (checked like any logo), else the current one unless
    remove_logo is ticked. Any other field goes in as it came, for the kiosks' check to name and refuse.
    """
    brand: dict[str, Any] = {}
    for text in TEXTS:
        per_language = {lang: form.get(f"{text}_{lang}", "").strip() for lang in LANGUAGES}
        per_language = {lang: value for lang, value in per_language.items() if value}
        if per_language:
            brand[text] = per_language
    colors = {key: form.get(f"color_{key}", "").strip() for key in COLOR_KEYS}
    colors = {key: value for key, value in colors.items() if value}
    if colors:
        brand["colors"] = colors
    if upload is not None and upload.filename:
        brand["logo"] = logo_data_url(upload)
    elif form.get("logo", "").strip():
        brand["logo"] = form["logo"].strip()
    elif current and current.get("logo") and not form.get("remove_logo"):
        brand["logo"] = current["logo"]
    known = {f"{t}_{lang}" for t in TEXTS for lang in LANGUAGES} | {f"color_{k}" for k in COLOR_KEYS} | {"logo"}
    for key, raw in form.items():
        if key not in known and key not in CONTROL_FIELDS and raw.strip():
            brand[key] = raw.strip()
    return brand or None


def form_of(brand: Mapping[str, Any] | None) -> dict[str, str]:
    """The form fields that show a saved brand (the inverse of branding_from_form, the logo aside)."""
    form: dict[str, str] = {}
    for text in TEXTS:
        for lang, value in (brand or {}).get(text, {}).items():
            form[f"{text}_{lang}"] = value
    for key, value in (brand or {}).get("colors", {}).items():
        form[f"color_{key}"] = value
    return form
