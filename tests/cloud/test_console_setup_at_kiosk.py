"""End to end: club setup saved in the console (real Flask app over HTTP) reaches a real kiosk (runtime, sync
thread, web server) at its config pull and changes what a purchase earns, which reward is offered, and the
brand its own pages serve; a refused edit leaves the kiosk on the last good config."""
from __future__ import annotations

import urllib.request

from tests.cloud.test_club_at_the_till import kiosk  # noqa: F401 - the kiosk fixture: a runtime on this cloud
from tests.support.brand_kit import png
from tests.support.forms import form_fields


def submit(session, path: str, form_class: str, changes: dict, files: dict | None = None):
    """Open the page, change some fields of its form as a user would, and send it."""
    fields = {**form_fields(session.get(path).text, form_class), **changes}
    return session.http.post(session.cloud.url + path, data=fields, files=files, allow_redirects=False, timeout=10)


def kiosk_get(rt, path: str) -> tuple[bytes, str]:
    with urllib.request.urlopen(rt.url.rstrip("/") + path, timeout=5) as response:
        return response.read(), response.headers["Content-Type"]


def test_earn_rules_and_rewards_edited_in_the_console_change_what_a_kiosk_earns_and_offers_after_its_pull(
        cloud, console, kiosk):  # noqa: F811
    rt = kiosk
    sara = rt.service.enroll("+989121234567", "Sara", language="en")
    assert rt.service.earn(sara.id, 1_000_000, receipt_id="A").row.points == 200  # 100 a million, doubled
    assert [o["id"] for o in rt.service.summary(sara.id)["rewards"]] == ["coffee"]

    admin = console("admin")
    saved = submit(admin, "/setup/rules?branch=tehran-01", "rules", {"rule_rial_per_point": "5000"})
    assert saved.status_code == 302
    marketer = console("marketer")
    tea = {"id": "tea", "name_fa": "چای", "name_ar": "شاي", "name_en": "Tea", "cost_points": "20", "active": "1"}
    assert submit(marketer, "/setup/rewards?branch=tehran-01", "reward", tea).status_code == 302
    fields = form_fields(marketer.get("/setup/rewards?branch=tehran-01&id=coffee").text, "reward")
    fields.pop("active")  # coffee opened for a change: "offered" unticked
    assert marketer.http.post(cloud.url + "/setup/rewards?branch=tehran-01", data={**fields, "action": "save"},
                              allow_redirects=False, timeout=10).status_code == 302

    assert rt.sync.pull_config() is True  # the kiosk's next pull (every 15 minutes on its own)
    assert rt.service.rules.rial_per_point == 5000 and rt.store.reward("coffee") is None
    assert rt.service.rules.cashback_basis_points == 100  # what the form showed and nobody changed stays
    assert rt.service.earn(sara.id, 1_000_000, receipt_id="B").row.points == 400  # a point now costs 5,000 rial
    offered = rt.service.summary(sara.id)["rewards"]
    assert [(o["id"], o["name"]) for o in offered] == [("tea", "Tea")]

    refused = submit(admin, "/setup/rules?branch=tehran-01&lang=en", "rules", {"rule_max_points_percent": "150"})
    assert refused.status_code == 422 and "max_points_percent = 150 is not allowed" in refused.text
    assert rt.sync.pull_config() is False and rt.sync.status.config_error == ""  # "not modified"
    assert rt.service.rules.max_points_percent == 50 and rt.service.rules.rial_per_point == 5000


def test_a_logo_uploaded_in_the_console_is_served_by_the_kiosk_after_its_pull_and_a_bad_one_changes_nothing(
        cloud, console, kiosk):  # noqa: F811
    rt = kiosk
    logo = png(width=6, height=3, rgb=(10, 120, 200))
    marketer = console("marketer")
    saved = submit(marketer, "/setup/brand?branch=tehran-01", "brand",
                   {"name_fa": "فروشگاه گلستان", "color_accent": "#2e9d5b"},
                   files={"logo_file": ("logo.png", logo, "image/png")})
    assert saved.status_code == 302
    assert rt.service.branding is None and rt.sync.pull_config() is True
    assert kiosk_get(rt, "/brand/logo") == (logo, "image/png")
    css, _ = kiosk_get(rt, "/brand.css")
    assert b"#2e9d5b" in css

    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
    refused = submit(marketer, "/setup/brand?branch=tehran-01&lang=en", "brand", {},
                     files={"logo_file": ("logo.svg", svg, "image/svg+xml")})
    assert refused.status_code == 422 and "SVG and links to other sites are not allowed" in refused.text
    assert rt.sync.pull_config() is False  # nothing new to pull: the last good brand stays
    assert kiosk_get(rt, "/brand/logo") == (logo, "image/png")


def test_a_tier_added_in_the_console_with_its_names_reaches_the_kiosks_screen_in_each_language(
        cloud, console, kiosk):  # noqa: F811
    rt = kiosk
    sara = rt.service.enroll("+989121234567", "Sara", language="fa")
    admin = console("admin")
    fields = form_fields(admin.get("/setup/rules?branch=tehran-01").text, "rules")
    row = min(int(k[4:].split("_")[0]) for k, v in fields.items() if k.endswith("_name") and not v)  # a blank row
    diamond = {f"tier{row}_name": "diamond", f"tier{row}_name_fa": "الماس", f"tier{row}_name_ar": "ماسي",
               f"tier{row}_name_en": "Diamond", f"tier{row}_min_points": "900000", f"tier{row}_multiplier_percent": "200"}
    assert submit(admin, "/setup/rules?branch=tehran-01", "rules", diamond).status_code == 302
    reopened = form_fields(admin.get("/setup/rules?branch=tehran-01").text, "rules")
    assert reopened[f"tier{row}_name_fa"] == "الماس"  # the table shows the names it saved

    assert rt.sync.pull_config() is True
    assert rt.service.rules.tiers[-1].names == {"fa": "الماس", "ar": "ماسي", "en": "Diamond"}
    screen = rt.service.summary(sara.id)
    assert screen["tier_names"] == {"diamond": {"fa": "الماس", "ar": "ماسي", "en": "Diamond"}}

    unknown = submit(admin, "/setup/rules?branch=tehran-01&lang=en", "rules", {f"tier{row}_name_de": "Diamant"})
    assert unknown.status_code == 422 and "tier &#39;diamond&#39; name has unknown language &#39;de&#39;" in unknown.text
    assert rt.sync.pull_config() is False and rt.service.rules.tiers[-1].names["en"] == "Diamond"
