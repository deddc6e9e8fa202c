"""The chain's brand in the branch config: what it may set, and the clear refusal of what it may not."""
from __future__ import annotations

import pytest

from kiosk.errors import ConfigError
from kiosk.rules.branding import MAX_LOGO_BYTES, branding_from_mapping
from kiosk.rules.cloud_config import branch_config_from_cloud
from tests.support.brand_kit import branding, data_url, png

CONFIG = {"rules": {}, "tiers": [{"name": "bronze", "min_points": 0, "multiplier_percent": 100}],
          "rewards": [], "campaigns": []}


def test_a_branch_config_carries_the_brand_per_language_with_its_colours_and_logo():
    brand = branch_config_from_cloud({**CONFIG, "branding": branding()}).branding
    assert brand.name_in("fa") == "فروشگاه گلستان" and brand.welcome_in("en") == "Welcome to the Golestan club"
    assert brand.colors["accent"] == "#2e9d5b"
    assert brand.logo_type == "image/png" and brand.logo == png()


def test_a_config_without_a_brand_keeps_the_kiosks_own():
    assert branch_config_from_cloud(CONFIG).branding is None


def test_a_name_only_in_english_is_no_name_on_a_persian_screen():
    brand = branding_from_mapping({"name": {"en": "Golestan"}})
    assert brand.name_in("fa") is None and brand.name_in("en") == "Golestan"


@pytest.mark.parametrize("change, says", [
    ({"slogan": "x"}, "unknown key 'slogan'"),
    ({"colors": {"accent": "green"}}, "colors.accent = 'green'"),
    ({"colors": {"glow": "#ffffff"}}, "unknown key 'glow'"),
    ({"colors": {"text": "#FFFFFF", "background": "#ffffff"}}, "nobody could read"),
    ({"name": {"de": "Golestan"}}, "unknown language 'de'"),
    ({"welcome": {"fa": "x" * 81}}, "at most 80"),
    ({"logo": "https://cdn.example.com/logo.png"}, "data URL"),
    ({"logo": data_url(b"<svg onload='alert(1)'/>", "image/svg+xml")}, "SVG"),
    ({"logo": data_url(b"GIF89a....", "image/png")}, "not a PNG image"),
    ({"logo": "data:image/png;base64,@@@"}, "data URL"),
    ({"logo": data_url(b"\x89PNG\r\n\x1a\n" + bytes(MAX_LOGO_BYTES))}, "at most"),
])
def test_a_bad_brand_is_refused_naming_what_to_fix(change, says):
    with pytest.raises(ConfigError, match="branding") as err:
        branch_config_from_cloud({**CONFIG, "branding": branding(**change)})
    assert says in str(err.value)
