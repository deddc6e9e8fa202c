"""kioskctl register / sync status / outbox, run as functions over a real config and cloud."""

from __future__ import annotations

import argparse
import json
import stat

import pytest

from kiosk.clock import utcnow as store_clock
from kiosk.config import load
from kiosk.store import Store
from appliance.cli.sync import add_sync_commands
from kiosk.sync.errors import CloudRefused, SyncError
from kiosk.sync.files import load_credentials
from kiosk.sync.setup import credentials_path, worker_from_settings
from tests.conftest import write_config

from tests.support import faultproxy
from tests.support.faultproxy import FaultProxy

from .conftest import seed


def run(settings, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog="kioskctl")
    add_sync_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.func(args, settings)


@pytest.fixture
def kiosk_settings(tmp_path, cloud):
    return load(write_config(tmp_path / "kiosk", f'[cloud]\nurl = "{cloud.url}"\nsync_interval_s = 0.1\n'))


def test_register_stores_the_device_key_readable_only_by_the_owner(cloud, kiosk_settings, capsys):
    token = cloud.store.create_token("test-branch")
    assert run(kiosk_settings, "register", "--token", token) == 0
    path = credentials_path(kiosk_settings)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    credentials = load_credentials(path)
    assert cloud.store.device(credentials.device_id).name == "test-kiosk"
    assert "registered as device" in capsys.readouterr().out


def test_register_twice_is_refused_unless_forced_and_a_used_token_is_refused(cloud, kiosk_settings):
    token = cloud.store.create_token("test-branch")
    run(kiosk_settings, "register", "--token", token)
    with pytest.raises(SyncError, match="--force"):
        run(kiosk_settings, "register", "--token", cloud.store.create_token("test-branch"))
    with pytest.raises(CloudRefused, match="already used"):
        run(kiosk_settings, "register", "--token", token, "--force")


def test_register_warns_when_the_token_is_for_another_branch(cloud, kiosk_settings, capsys):
    run(kiosk_settings, "register", "--token", cloud.store.create_token("shiraz-02"))
    assert "token was for branch 'shiraz-02'" in capsys.readouterr().out


def test_a_device_key_file_open_to_others_is_refused(cloud, kiosk_settings):
    run(kiosk_settings, "register", "--token", cloud.store.create_token("test-branch"))
    credentials_path(kiosk_settings).chmod(0o644)
    with pytest.raises(SyncError, match="chmod 600"):
        load_credentials(credentials_path(kiosk_settings))


def test_sync_status_and_outbox_show_what_waits_and_then_online(cloud, kiosk_settings, capsys):
    run(kiosk_settings, "register", "--token", cloud.store.create_token("test-branch"))
    with Store(kiosk_settings.database_path, device_id="test-kiosk") as store:
        seed(store, members=1, earns=1)
    capsys.readouterr()
    assert run(kiosk_settings, "sync", "status") == 1
    out = capsys.readouterr().out
    assert "4 waiting" in out and "link: unknown" in out
    assert run(kiosk_settings, "outbox") == 0
    out = capsys.readouterr().out
    assert "member_enrolled" in out and "card_bound" in out and "4 event(s) waiting" in out
    with Store(kiosk_settings.database_path, device_id="test-kiosk") as store:
        worker = worker_from_settings(kiosk_settings, store)
        with worker, worker.client:
            worker.step()
    assert run(kiosk_settings, "sync", "status", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["link"] == "online" and report["outbox_waiting"] == 0 and report["registered"]
    assert "no config" in report["config_error"]  # the branch has none yet, and the status says so


def test_sync_status_of_an_unregistered_kiosk_says_how_to_register(kiosk_settings, capsys):
    assert run(kiosk_settings, "sync", "status") == 1
    assert "kioskctl register --cloud URL --token T" in capsys.readouterr().out


def test_a_kiosk_without_a_cloud_url_gets_no_worker(tmp_path):
    settings = load(write_config(tmp_path / "offline"))
    with Store(settings.database_path, device_id="x") as store:
        assert worker_from_settings(settings, store) is None


def test_sync_status_exits_non_zero_with_the_reason_while_a_portal_answers_html(cloud, tmp_path, capsys):
    with FaultProxy(cloud.url) as portal:
        settings = load(write_config(tmp_path / "portal", f'[cloud]\nurl = "{portal.url}"\n'))
        run(settings, "register", "--token", cloud.store.create_token("test-branch"))
        with Store(settings.database_path, device_id="test-kiosk") as store:
            seed(store, members=1, earns=1)
            worker = worker_from_settings(settings, store)
            portal.plan(faultproxy.HTML)
            with worker, worker.client:
                worker.step()
        capsys.readouterr()
        assert run(settings, "sync", "status", "--json") == 1
        report = json.loads(capsys.readouterr().out)
        assert report["link"] == "degraded" and report["outbox_waiting"] == 4
        assert "HTML page" in report["last_error"]


def test_parked_events_are_requeued_with_a_reason_and_then_delivered(cloud, kiosk_settings, capsys):
    run(kiosk_settings, "register", "--token", cloud.store.create_token("test-branch"))
    with Store(kiosk_settings.database_path, device_id="test-kiosk") as store:
        seed(store, members=1, earns=1)
        ids = [row["event_id"] for row in store.outbox_pending()]
        store.outbox_rejected({ids[0]: "a cloud bug", ids[1]: "a cloud bug"}, store_clock())
    assert run(kiosk_settings, "outbox", "requeue", ids[0], "--reason", "cloud fixed in 2.3") == 0
    assert "requeued 1 of 1 named event(s)" in capsys.readouterr().out
    assert run(kiosk_settings, "outbox", "requeue", ids[0], "--reason", "again") == 1  # not parked any more
    assert run(kiosk_settings, "outbox", "requeue", "--reason", "x") == 2  # neither ids nor --all
    assert run(kiosk_settings, "outbox", "requeue", "--all", "--reason", "cloud fixed") == 0
    with Store(kiosk_settings.database_path, device_id="test-kiosk") as store:
        assert store.outbox_parked() == [] and store.outbox_depth() == 4
        notes = {r["last_error"] for r in store.query("SELECT last_error FROM outbox WHERE event_id IN (?, ?)",
                                                      (ids[0], ids[1]))}
        assert any("cloud fixed in 2.3" in n for n in notes) and any(n.endswith(": cloud fixed") for n in notes)
        worker = worker_from_settings(kiosk_settings, store)
        with worker, worker.client:
            worker.step()
        assert store.outbox_depth() == 0
    assert sorted(cloud.store.event_ids()) == sorted(ids)
