"""`make demo` runs `python -m appliance.demo`: it must come up, take a tap and sync to its cloud."""
from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.conftest import ROOT, kioskctl, wait_until


def assert_console_login_shows_the_generated_chain(out: str) -> None:
    login = re.search(r"Club console: +(http://127\.0\.0\.1:\d+)/login +user (\S+) +password (\S+)", out)
    assert login, out
    url, username, password = login.groups()
    with requests.Session() as browser:
        form = browser.get(f"{url}/login?lang=en", timeout=5).text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        answer = browser.post(f"{url}/login", data={"csrf_token": token, "username": username, "password": password},
                              timeout=30)
        assert answer.status_code == 200 and username in answer.text
        segments = browser.get(f"{url}/segments", timeout=10).text
    # The generated purchases were scored at start: the top-customers chart has bars and every class is there.
    assert segments.count("<rect") >= 10, segments
    assert all(f">{value_class}<" in segments for value_class in "ABC"), segments


def test_the_demo_starts_prints_its_cards_takes_a_tap_and_syncs_to_the_reference_cloud(tmp_path: Path):
    data = tmp_path / "demo"
    # Port 0 for both: each server binds its own port and the demo prints it (no port picked, then bound later).
    proc = subprocess.Popen(
        [sys.executable, "-m", "appliance.demo", "--data-dir", str(data), "--port", "0", "--cloud-port", "0"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Stop with Ctrl-C" in line:
                break
        out = "".join(lines)
        found = re.search(r"open http://127\.0\.0\.1:(\d+)/ in a browser", out)
        assert found, out
        port = int(found.group(1))
        cloud = re.search(r"reference cloud on (http://127\.0\.0\.1:\d+)/", out)
        assert cloud, out
        assert "0A1B2C3D4E" in out and "points" in out and "tap 0A1B2C3D4E" in out
        assert requests.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 200
        config = data / "kiosk.toml"
        assert "tapped" in kioskctl(config, "tap", "0A1B2C3D4E").stdout
        wait_until(lambda: "link: online" in kioskctl(config, "sync", "status", check=False).stdout,
                   timeout_s=20, what="the demo kiosk to sync with its cloud")
        # /v1/status needs a console login or a device signature now: read the demo cloud's database.
        from cloud.store import CloudStore

        with CloudStore(data / "cloud.sqlite") as cloud_store:
            wait_until(lambda: cloud_store.counts()["members"] == 3 + 100, timeout_s=20,
                       what="the demo kiosk's 3 members beside the 100 generated ones")
            assert "demo-kiosk" in {d.name for d in cloud_store.devices()}
        assert_console_login_shows_the_generated_chain(out)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            # communicate, not wait: nothing read the demo's output since its start lines, and a demo stopping
            # with its pipe full would block on its next line (stop 26's coverage run timed out here at load 13).
            proc.communicate(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.stdout.close()
    assert proc.returncode == 0
