"""Club setup in the console: tiers, earn rules, rewards and the brand, checked by the kiosks' own rules,
audited, behind roles and CSRF, and saved into the config the kiosks pull (both engines)."""

from __future__ import annotations

import html
import json
import re

from cloud import audit
from tests.support.brand_kit import data_url, png

CONFIG = {"rules": {"expiry_days": 0},
          "tiers": [{"name": "bronze", "min_points": 0, "multiplier_percent": 100},
                    {"name": "gold", "min_points": 1_500, "multiplier_percent": 120}],
          "rewards": [{"id": "coffee", "name": {"fa": "قهوه", "en": "Coffee"}, "cost_points": 50}],
          "campaigns": []}
RULES_FORM = {"branch": "tehran-01", "rule_rial_per_point": "۵۰۰۰", "rule_expiry_days": "0", "rule_calendar": "jalali",
              "tier0_name": "bronze", "tier0_min_points": "0", "tier0_multiplier_percent": "100",
              "tier1_name": "gold", "tier1_min_points": "1500", "tier1_multiplier_percent": "120",
              "tier2_name": "diamond", "tier2_min_points": "9000", "tier2_multiplier_percent": "150",
              "tier3_name": "", "tier3_min_points": "", "tier3_multiplier_percent": ""}
REWARD_FORM = {"branch": "tehran-01", "id": "cake", "name_fa": "کیک", "name_ar": "كعكة", "name_en": "Cake",
               "cost_points": "80", "min_tier": "gold", "active": "1", "action": "save"}


def etag_on(session, path: str) -> str:
    """The config version the page was opened on, as its form sends it back."""
    return html.unescape(re.search(r'name="etag" value="([^"]*)"', session.get(path).text).group(1))


def post_form(session, path: str, data: dict):
    return session.post(path, {**data, "etag": etag_on(session, path)}, csrf_from=path)


def stored(cloud) -> dict:
    return json.loads(cloud.store.config("tehran-01").body)


def test_an_admin_saves_earn_rules_and_tiers_and_the_audit_log_keeps_both_sections_before_and_after(console, cloud):
    cloud.store.set_config("tehran-01", CONFIG)
    admin = console("admin")
    page = admin.get("/setup/rules?branch=tehran-01&lang=en")
    assert page.status_code == 200 and 'name="tier1_name" value="gold"' in page.text
    saved = post_form(admin, "/setup/rules?branch=tehran-01", RULES_FORM)
    assert saved.status_code == 302
    document = stored(cloud)
    assert document["rules"] == {"rial_per_point": 5000, "expiry_days": 0, "calendar": "jalali"}  # Persian digits read
    assert [t["name"] for t in document["tiers"]] == ["bronze", "gold", "diamond"]
    assert document["rewards"] == CONFIG["rewards"]  # what the page does not edit stays as it was
    [entry] = [e for e in audit.recent(cloud.store.db) if e.action == "config.rules"]
    assert (entry.actor, entry.target) == ("admin", "tehran-01")
    assert entry.before == {"rules": {"expiry_days": 0}, "tiers": CONFIG["tiers"]}
    assert entry.after["rules"]["rial_per_point"] == 5000 and len(entry.after["tiers"]) == 3


def test_an_unknown_field_or_a_bad_value_is_refused_naming_it_and_the_last_good_config_stays(console, cloud):
    cloud.store.set_config("tehran-01", CONFIG)
    etag, logged = cloud.store.config("tehran-01").etag, len(audit.recent(cloud.store.db))
    admin = console("admin")
    refusals = [
        ("/setup/rules", {**RULES_FORM, "rule_points_per_visit": "3"}, "'points_per_visit' is not a known loyalty setting"),
        ("/setup/rules", {**RULES_FORM, "rule_rial_per_point": "ten"}, "rial_per_point = 'ten' is not allowed"),
        ("/setup/rules", {**RULES_FORM, "tier2_min_points": "1000"}, "each needing more points than 'gold'"),
        ("/setup/rules", {**RULES_FORM, "tier1_colour": "red"}, "unknown key 'colour'"),
        ("/setup/rewards", {**REWARD_FORM, "min_tier": "platinum"}, "min_tier = 'platinum' is not a tier"),
        ("/setup/rewards", {**REWARD_FORM, "gift_wrap": "yes"}, "unknown key 'gift_wrap'"),
        ("/setup/rewards", {**REWARD_FORM, "cost_points": "0"}, "cost_points = 0 is not allowed"),
        ("/setup/rewards", {**REWARD_FORM, "starts_on": "2027-02-01", "ends_on": "2027-01-01"}, "before starts_on"),
        ("/setup/rewards", {**REWARD_FORM, "name_fa": "", "name_ar": "", "name_en": ""}, "has no 'name'"),
        ("/setup/brand", {"branch": "tehran-01", "color_accent": "red"}, "colors.accent = 'red' is not allowed"),
        ("/setup/brand", {"branch": "tehran-01", "motto": "best"}, "unknown key 'motto'"),
    ]
    for path, form, reason in refusals:
        answer = post_form(admin, f"{path}?branch=tehran-01&lang=en", form)
        assert answer.status_code == 422, (path, form)
        assert reason in html.unescape(answer.text), (reason, answer.text[-2000:])
    assert cloud.store.config("tehran-01").etag == etag and len(audit.recent(cloud.store.db)) == logged
    cloud.store.set_config("tehran-01", {**CONFIG, "rewards": [{**CONFIG["rewards"][0], "min_tier": "gold"}]})
    no_gold = {k: v for k, v in RULES_FORM.items() if not k.startswith("tier1_")}
    answer = post_form(admin, "/setup/rules?branch=tehran-01", no_gold)
    assert answer.status_code == 422 and "min_tier = &#39;gold&#39; is not a tier" in answer.text
    assert stored(cloud)["tiers"] == CONFIG["tiers"] and len(audit.recent(cloud.store.db)) == logged


def test_a_marketer_sees_the_rules_but_saves_only_rewards_and_brand_and_a_branch_manager_opens_no_setup(console, cloud):
    cloud.store.set_config("tehran-01", CONFIG)
    etag = cloud.store.config("tehran-01").etag
    marketer = console("marketer")
    page = marketer.get("/setup/rules?branch=tehran-01&lang=en")
    assert page.status_code == 200 and "<fieldset disabled>" in page.text and ">Save</button>" not in page.text
    refused = marketer.post("/setup/rules?branch=tehran-01", {**RULES_FORM, "etag": etag}, csrf_from="/setup/rewards")
    assert refused.status_code == 403 and cloud.store.config("tehran-01").etag == etag
    assert post_form(marketer, "/setup/rewards?branch=tehran-01", REWARD_FORM).status_code == 302
    assert [r["id"] for r in stored(cloud)["rewards"]] == ["coffee", "cake"]
    assert "/setup/rules" in marketer.get("/").text

    manager = console("tehran-manager")
    for path in ("/setup", "/setup/rules", "/setup/rewards", "/setup/brand"):
        assert manager.get(path + "?branch=tehran-01").status_code == 403, path
    etag = cloud.store.config("tehran-01").etag
    assert manager.post("/setup/rewards?branch=tehran-01", {**REWARD_FORM, "id": "tea", "etag": etag}).status_code == 403
    assert "/setup" not in manager.get("/").text and cloud.store.config("tehran-01").etag == etag


def test_a_save_without_the_forms_csrf_token_or_from_an_outdated_page_changes_nothing(console, cloud):
    cloud.store.set_config("tehran-01", CONFIG)
    admin = console("admin")
    etag = etag_on(admin, "/setup/rewards?branch=tehran-01")
    forged = admin.http.post(cloud.url + "/setup/rewards?branch=tehran-01", data={**REWARD_FORM, "etag": etag},
                             allow_redirects=False, timeout=10)
    assert forged.status_code == 400 and cloud.store.config("tehran-01").etag == etag
    # Someone else saves the branch after this page was opened: the older page may not undo their change.
    assert admin.post("/setup/rewards?branch=tehran-01", {**REWARD_FORM, "etag": etag},
                      csrf_from="/setup/rewards").status_code == 302
    late = admin.post("/setup/rewards?branch=tehran-01&lang=en", {**REWARD_FORM, "id": "tea", "etag": etag},
                      csrf_from="/setup/rewards")
    assert late.status_code == 409 and "changed by someone else meanwhile" in late.text
    assert [r["id"] for r in stored(cloud)["rewards"]] == ["coffee", "cake"]


def test_a_reward_is_changed_in_place_deactivated_and_removed(console, cloud):
    cloud.store.set_config("tehran-01", CONFIG)
    marketer = console("marketer")
    opened = marketer.get("/setup/rewards?branch=tehran-01&id=coffee")
    assert 'name="name_fa" value="قهوه"' in opened.text and 'name="cost_points" value="50"' in opened.text
    changed = {"branch": "tehran-01", "id": "coffee", "name_fa": "قهوه", "name_ar": "قهوة", "name_en": "Coffee",
               "cost_points": "60", "per_member_limit": "2", "action": "save"}  # "active" left unticked
    assert post_form(marketer, "/setup/rewards?branch=tehran-01", changed).status_code == 302
    assert stored(cloud)["rewards"] == [{"id": "coffee", "name": {"fa": "قهوه", "ar": "قهوة", "en": "Coffee"},
                                         "cost_points": 60, "per_member_limit": 2, "active": False}]
    assert post_form(marketer, "/setup/rewards?branch=tehran-01", {"id": "coffee", "action": "remove"}).status_code == 302
    assert stored(cloud)["rewards"] == []
    assert marketer.get("/setup/rewards?branch=tehran-01&id=coffee").status_code == 404


def test_a_branch_without_a_config_is_not_edited_from_defaults(console, cloud):
    cloud.store.set_config("tehran-01", CONFIG)
    admin = console("admin")
    page = admin.get("/setup/rules?branch=shiraz-02&lang=en")
    assert page.status_code == 200 and "has no config yet" in page.text and 'name="tier0_name"' not in page.text
    answer = admin.post("/setup/rules?branch=shiraz-02&lang=en", {**RULES_FORM, "branch": "shiraz-02"},
                        csrf_from="/setup/rules")
    assert answer.status_code == 422 and cloud.store.config("shiraz-02") is None
    assert admin.get("/setup/brand?branch=nowhere&lang=en").text.count("unknown branch") == 1


def test_a_logo_that_is_svg_a_link_too_large_or_not_what_it_says_is_refused_with_the_kiosks_reason(console, cloud):
    cloud.store.set_config("tehran-01", CONFIG)
    admin = console("admin")
    etag = cloud.store.config("tehran-01").etag
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    big = png(width=256, height=200) + b"\0" * 131_072
    uploads = [(("logo.svg", svg, "image/svg+xml"), "SVG and links to other sites are not allowed"),
               (("logo.png", big, "image/png"), f"logo is {len(big)} bytes: use an image of at most 131072 bytes"),
               (("logo.png", b"\xff\xd8\xff\xe0 a jpeg", "image/png"), "its bytes are not a PNG image")]
    for upload, reason in uploads:
        answer = admin.http.post(cloud.url + "/setup/brand?branch=tehran-01&lang=en", allow_redirects=False,
                                 timeout=10, files={"logo_file": upload},
                                 data={"branch": "tehran-01", "etag": etag, "csrf_token": admin.csrf("/setup/brand")})
        assert answer.status_code == 422 and reason in answer.text, (reason, answer.text[-1500:])
    link = post_form(admin, "/setup/brand?branch=tehran-01&lang=en",
                     {"branch": "tehran-01", "logo": "https://cdn.example.com/logo.png"})
    assert link.status_code == 422 and "links to other sites are not allowed" in link.text
    assert cloud.store.config("tehran-01").etag == etag and "branding" not in stored(cloud)


def test_the_brand_is_saved_from_the_form_and_the_audit_log_keeps_the_logos_digest_not_the_image(console, cloud):
    cloud.store.set_config("tehran-01", CONFIG)
    marketer = console("marketer")
    logo = png(width=8, height=8)
    answer = marketer.http.post(
        cloud.url + "/setup/brand?branch=tehran-01", allow_redirects=False, timeout=10,
        files={"logo_file": ("logo.png", logo, "image/png")},
        data={"branch": "tehran-01", "etag": etag_on(marketer, "/setup/brand?branch=tehran-01"),
              "csrf_token": marketer.csrf("/setup/brand"), "name_fa": "فروشگاه گلستان", "name_en": "Golestan Market",
              "welcome_ar": "أهلاً بكم", "color_accent": "#2E9D5B"})
    assert answer.status_code == 302
    brand = stored(cloud)["branding"]
    assert brand == {"name": {"fa": "فروشگاه گلستان", "en": "Golestan Market"}, "welcome": {"ar": "أهلاً بكم"},
                     "colors": {"accent": "#2E9D5B"}, "logo": data_url(logo)}
    [entry] = [e for e in audit.recent(cloud.store.db) if e.action == "config.branding"]
    assert entry.before == {"branding": None} and entry.after["branding"]["logo"].startswith("sha256:")
    page = marketer.get("/setup/brand?branch=tehran-01")
    assert 'value="فروشگاه گلستان"' in page.text and f'src="{data_url(logo)}"' in page.text
    # Saved again without a new file the logo stays; ticking "remove" takes it out.
    kept = post_form(marketer, "/setup/brand?branch=tehran-01", {"branch": "tehran-01", "name_en": "Golestan"})
    assert kept.status_code == 302 and stored(cloud)["branding"] == {"name": {"en": "Golestan"}, "logo": data_url(logo)}
    post_form(marketer, "/setup/brand?branch=tehran-01", {"branch": "tehran-01", "name_en": "Golestan", "remove_logo": "1"})
    assert stored(cloud)["branding"] == {"name": {"en": "Golestan"}}
    post_form(marketer, "/setup/brand?branch=tehran-01", {"branch": "tehran-01"})
    assert "branding" not in stored(cloud)  # an empty form: the kiosks keep their own brand
