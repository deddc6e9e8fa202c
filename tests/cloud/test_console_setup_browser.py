"""Club setup in Debian's chromium: an admin changes the earn rate, a marketer uploads the chain's logo."""

from __future__ import annotations

import json

import pytest

from tests.cloud.test_console_browser import log_in
from tests.conftest import ARTIFACTS
from tests.support.brand_kit import data_url, png

pytestmark = pytest.mark.browser

CONFIG = {"rules": {}, "tiers": [{"name": "bronze", "min_points": 0, "multiplier_percent": 100}],
          "rewards": [], "campaigns": []}


def test_an_admin_sets_the_earn_rate_and_a_marketer_uploads_the_logo_in_the_browser(console, cloud, page, tmp_path):
    cloud.store.set_config("tehran-01", CONFIG)
    log_in(page, cloud, "admin", "en")
    page.click("header nav >> text=Club setup")
    page.select_option("select[name=branch]", "tehran-01")
    page.click("form.branch-pick button")
    page.fill("input[name=rule_rial_per_point]", "۲۰۰۰۰")  # typed with Persian digits
    page.fill("input[name=tier1_name]", "gold")
    page.fill("input[name=tier1_min_points]", "3000")
    page.fill("input[name=tier1_multiplier_percent]", "130")
    page.click("form.rules button[type=submit]")
    page.wait_for_selector("p.flash")
    document = json.loads(cloud.store.config("tehran-01").body)
    assert document["rules"] == {"rial_per_point": 20_000} and document["tiers"][1]["name"] == "gold"
    page.click("text=Log out")

    log_in(page, cloud, "marketer", "fa")
    page.goto(f"{cloud.url}/setup/brand?branch=tehran-01")
    assert page.get_attribute("html", "dir") == "rtl"
    logo = tmp_path / "logo.png"
    logo.write_bytes(png(width=12, height=6))
    page.set_input_files("input[name=logo_file]", str(logo))
    page.fill("input[name=name_fa]", "فروشگاه گلستان")
    page.click("form.brand button[type=submit]")
    page.wait_for_selector("img.brand-logo")
    assert page.locator("img.brand-logo").evaluate("img => img.complete && img.naturalWidth") == 12
    assert json.loads(cloud.store.config("tehran-01").body)["branding"]["logo"] == data_url(logo.read_bytes())
    ARTIFACTS.mkdir(exist_ok=True)
    page.set_viewport_size({"width": 1100, "height": 900})
    page.screenshot(path=str(ARTIFACTS / "console-setup-brand.png"), full_page=True)
