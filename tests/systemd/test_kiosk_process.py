"""The real `kiosk` process under a fake systemd notify socket: READY=1, then watchdog pings."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from tests.conftest import ROOT, write_config


def test_the_kiosk_process_reports_ready_and_pings_the_watchdog_then_stops_cleanly(tmp_path):
    config = write_config(tmp_path / "k")
    sock_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(1.0)
    env = {**os.environ, "NOTIFY_SOCKET": str(sock_path), "WATCHDOG_USEC": "2000000"}
    # --port 0: the kiosk binds a free port itself and says which in its ready status (no probe-then-bind race).
    proc = subprocess.Popen([sys.executable, "-m", "appliance.daemon", "--config", str(config), "--port", "0"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    messages: list[str] = []
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and sum("WATCHDOG=1" in m for m in messages) < 2:
            try:
                messages.append(sock.recv(4096).decode())
            except socket.timeout:
                assert proc.poll() is None, proc.stderr.read()
        ready = next(m for m in messages if "READY=1" in m)
        assert sum("WATCHDOG=1" in m for m in messages) >= 2, messages
        url = re.search(r"STATUS=serving on (http://127\.0\.0\.1:(\d+)/)", ready)
        assert url and int(url.group(2)) != 0, ready
        with urllib.request.urlopen(url.group(1) + "?lang=en", timeout=10) as page:
            assert page.status == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
        sock.close()
    assert proc.returncode == 0, err
    assert f"is running on {url.group(1)}" in out


def test_the_kiosk_process_refuses_a_port_that_is_not_one(tmp_path):
    config = write_config(tmp_path / "k")
    proc = subprocess.run([sys.executable, "-m", "appliance.daemon", "--config", str(config), "--port", "70000"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "70000 is not a port (0 to 65535)" in proc.stderr
