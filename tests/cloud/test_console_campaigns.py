"""Campaigns from the console: previewed, checked like a kiosk would, saved into the config the kiosks pull."""

from __future__ import annotations

import json
from datetime import date, time

from kiosk.rules.campaigns import campaigns_from_mapping, eligible_campaigns
from kiosk.rules.cloud_config import rules_from_cloud

CONFIG = {"rules": {}, "tiers": [{"name": "bronze", "min_points": 0, "multiplier_percent": 100},
                                 {"name": "gold", "min_points": 1_500, "multiplier_percent": 120}],
          "rewards": [], "campaigns": []}
FORM = {"branch": "tehran-01", "id": "yalda", "name": "Yalda double points", "starts_on": "2026-12-15",
        "ends_on": "2026-12-22", "earn_multiplier_percent": "200"}


def test_a_preview_counts_who_a_target_reaches_and_saves_nothing(console, cloud):
    cloud.store.set_config("tehran-01", CONFIG)
    marketer = console("marketer")
    everyone = marketer.post("/campaigns?lang=en", {**FORM, "action": "preview"}, csrf_from="/campaigns")
    assert everyone.status_code == 200 and "reaches 2 of the branch's 2 members" in everyone.text
    gold = marketer.post("/campaigns?lang=en", {**FORM, "target_tiers": "gold", "action": "preview"},
                         csrf_from="/campaigns")
    assert "reaches 1 of the branch's 2 members" in gold.text  # Ali has 1,600 points, Zahra 100
    assert cloud.store.config("tehran-01").body.count("yalda") == 0


def test_a_saved_campaign_reaches_the_branchs_kiosk_by_its_config_pull_and_makes_gold_members_eligible(console, cloud):
    cloud.store.set_config("tehran-01", CONFIG)
    with cloud.registered_client("tehran-01") as kiosk:
        before = kiosk.fetch_config()
        saved = console("marketer").post("/campaigns", {**FORM, "target_tiers": "gold", "action": "save"},
                                         csrf_from="/campaigns")
        assert saved.status_code == 302
        pulled = kiosk.fetch_config(before.etag)
    assert not pulled.not_modified and pulled.etag != before.etag
    [campaign] = campaigns_from_mapping(pulled.document["campaigns"], rules_from_cloud(pulled.document))
    assert eligible_campaigns([campaign], date(2026, 12, 20), "gold", "loyal") == (campaign,)
    assert eligible_campaigns([campaign], date(2026, 12, 20), "bronze", "loyal") == ()
    log = console("admin").get("/users").text
    assert "config.set" in log and "marketer" in log


def test_a_campaign_the_kiosks_would_refuse_is_refused_with_the_reason_and_nothing_changes(console, cloud):
    cloud.store.set_config("tehran-01", CONFIG)
    etag = cloud.store.config("tehran-01").etag
    marketer = console("marketer")
    backwards = marketer.post("/campaigns", {**FORM, "ends_on": "2026-12-01", "action": "save"},
                              csrf_from="/campaigns")
    assert backwards.status_code == 422 and "before starts_on" in backwards.text
    unknown_tier = marketer.post("/campaigns", {**FORM, "target_tiers": "diamond", "action": "save"},
                                 csrf_from="/campaigns")
    assert unknown_tier.status_code == 422 and "unknown tier" in unknown_tier.text
    no_config = marketer.post("/campaigns", {**FORM, "branch": "shiraz-02", "action": "save"}, csrf_from="/campaigns")
    assert no_config.status_code == 422 and "no config yet" in no_config.text
    assert cloud.store.config("tehran-01").etag == etag and cloud.store.config("shiraz-02") is None


def test_a_branch_manager_may_not_open_campaigns(console):
    manager = console("tehran-manager")
    assert manager.get("/campaigns").status_code == 403
    assert "/campaigns" not in manager.get("/").text


def test_a_happy_hour_saved_in_the_console_reaches_the_kiosk_with_its_hours(console, cloud):
    cloud.store.set_config("tehran-01", CONFIG)
    marketer = console("marketer")
    wrong = marketer.post("/campaigns", {**FORM, "hours": "5pm-8pm", "action": "save"}, csrf_from="/campaigns")
    assert wrong.status_code == 422 and "hours" in wrong.text
    saved = marketer.post("/campaigns", {**FORM, "hours": "17:00-20:00", "action": "save"}, csrf_from="/campaigns")
    assert saved.status_code == 302
    document = json.loads(cloud.store.config("tehran-01").body)
    [campaign] = campaigns_from_mapping(document["campaigns"], rules_from_cloud(document))
    assert eligible_campaigns([campaign], date(2026, 12, 20), "gold", "loyal", now=time(18)) == (campaign,)
    assert eligible_campaigns([campaign], date(2026, 12, 20), "gold", "loyal", now=time(21)) == ()
