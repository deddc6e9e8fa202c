"""The real `kiosk` process under a fake systemd notify socket: READY=1, then watchdog pings."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

from tests.conftest import ROOT, free_port, write_config


def test_the_kiosk_process_reports_ready_and_pings_the_watchdog_then_stops_cleanly(tmp_path):
    config = write_config(tmp_path / "k")
    text = config.read_text().replace("port = 8080", f"port = {free_port()}")
    config.write_text(text)
    sock_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(1.0)
    env = {**os.environ, "NOTIFY_SOCKET": str(sock_path), "WATCHDOG_USEC": "2000000"}
    proc = subprocess.Popen([sys.executable, "-m", "appliance.daemon", "--config", str(config)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    messages: list[str] = []
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and sum("WATCHDOG=1" in m for m in messages) < 2:
            try:
                messages.append(sock.recv(4096).decode())
            except socket.timeout:
                assert proc.poll() is None, proc.stderr.read()
        assert any("READY=1" in m for m in messages), messages
        assert sum("WATCHDOG=1" in m for m in messages) >= 2, messages
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
        sock.close()
    assert proc.returncode == 0, err
    assert "is running on http://127.0.0.1:" in out
