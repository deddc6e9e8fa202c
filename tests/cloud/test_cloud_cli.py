"""`kiosk-cloud` as a real process: tokens, config files, and `serve` on a loopback port."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from cloud import cli
from cloud.store import CloudStore
from kiosk.sync.client import CloudClient

ROOT = Path(__file__).resolve().parents[2]


def test_token_create_prints_a_token_that_registers_once(database, tmp_path, capsys):
    db = database
    assert cli.main(["--db", db, "token", "create", "--branch", "tehran-01"]) == 0
    token = capsys.readouterr().out.strip()
    with CloudStore(db) as store:
        assert store.register(token).branch == "tehran-01"


def test_config_set_stores_a_valid_file_and_refuses_a_broken_one(database, tmp_path, capsys):
    db = database
    good = tmp_path / "rules.json"
    good.write_text(json.dumps({"rules": {}, "tiers": [{"name": "bronze", "min_points": 0, "multiplier_percent": 100}],
                                "rewards": [], "campaigns": []}))
    broken = tmp_path / "broken.json"
    broken.write_text('{"rules": {}, "tiers": [')
    assert cli.main(["--db", db, "config", "set", "--branch", "b1", "--file", str(good)]) == 0
    assert "ETag" in capsys.readouterr().out
    assert cli.main(["--db", db, "config", "set", "--branch", "b1", "--file", str(broken)]) == 1
    assert "not valid JSON" in capsys.readouterr().err
    assert cli.main(["--db", db, "config", "set", "--branch", "b1", "--file", str(tmp_path / "none.json")]) == 1
    assert "cannot read config file" in capsys.readouterr().err
    with CloudStore(db) as store:
        assert json.loads(store.config("b1").body)["rules"] == {}


def test_config_set_refuses_what_the_kiosks_would_refuse_and_accepts_the_documented_example(database, tmp_path, capsys):
    db = database
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"rules": {"rial_per_point": 0}, "tiers": [], "rewards": [], "campaigns": []}))
    assert cli.main(["--db", db, "config", "set", "--branch", "b1", "--file", str(bad)]) == 1
    assert "kiosks would refuse" in capsys.readouterr().err
    example = ROOT / "docs" / "cloud-config.example.json"
    assert cli.main(["--db", db, "config", "set", "--branch", "b1", "--file", str(example)]) == 0
    with CloudStore(db) as store:
        assert json.loads(store.config("b1").body)["tiers"][0]["name"] == "bronze"


def test_a_missing_database_option_says_how_to_give_one(monkeypatch, capsys):
    monkeypatch.delenv(cli.DB_ENV, raising=False)
    assert cli.main(["devices"]) == 2
    assert "--db PATH" in capsys.readouterr().err


def test_serve_runs_waitress_on_the_given_port_and_a_device_can_register(database, tmp_path):
    db = database
    with CloudStore(db) as store:
        token = store.create_token("tehran-01")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # --port 0: the server binds a free port itself and prints it, so no other process can take it first.
    process = subprocess.Popen(
        [sys.executable, "-m", "cloud.cli", "--db", db, "serve", "--port", "0"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        seen = []
        for line in process.stdout:  # it prints the URL once bound, before it serves
            seen.append(line)
            if serving := re.search(r"on http://127\.0\.0\.1:(\d+)/", line):
                break
        else:
            pytest.fail("kiosk-cloud serve exited without serving: " + "".join(seen))
        port = int(serving.group(1))
        status = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
        assert status.json() == {"status": "ok"}
        with CloudClient(f"http://127.0.0.1:{port}") as client:
            assert client.register(token).branch == "tehran-01"
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()


def test_the_segments_job_scores_every_member_and_leaves_an_audit_entry(cloud, capsys):
    from cloud import audit
    from tests.cloud.conftest import console_members

    console_members(cloud)
    database = cloud.database
    assert cli.main(["--db", database, "jobs", "segments"]) == 0
    figures = dict(line.split("=", 1) for line in capsys.readouterr().out.split())
    assert figures["segments_members"] == "5" and figures["top_count"] == "1"
    with CloudStore(database) as store:
        with store.db.read() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM member_segments").scalar() == 5
        entry = audit.recent(store.db, 1)[0]
    assert (entry.actor, entry.action) == ("kiosk-cloud jobs", "segments.recompute")


def test_config_set_takes_a_brand_and_refuses_one_the_kiosks_would_refuse(database, tmp_path, capsys):
    from tests.support.brand_kit import branding

    base = {"rules": {}, "tiers": [{"name": "bronze", "min_points": 0, "multiplier_percent": 100}],
            "rewards": [], "campaigns": []}
    bad = tmp_path / "bad-brand.json"
    bad.write_text(json.dumps({**base, "branding": branding(logo="https://cdn.example.com/logo.png")}))
    assert cli.main(["--db", database, "config", "set", "--branch", "b1", "--file", str(bad)]) == 1
    assert "kiosks would refuse" in capsys.readouterr().err
    good = tmp_path / "brand.json"
    good.write_text(json.dumps({**base, "branding": branding()}, ensure_ascii=False), encoding="utf-8")
    assert cli.main(["--db", database, "config", "set", "--branch", "b1", "--file", str(good)]) == 0
    with CloudStore(database) as store:
        assert json.loads(store.config("b1").body)["branding"]["name"]["fa"] == "فروشگاه گلستان"
