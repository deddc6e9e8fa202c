"""Bytes on the wire between an idle kiosk page and its server, per minute.

Method
- A whole kiosk (Runtime: store, service, emulated reader, waitress) and Debian chromium through Playwright.
  Chromium reaches the server through a loopback TCP relay that counts every byte both ways (HTTP headers,
  Engine.IO long-poll requests and answers, pings), i.e. what an idle page really costs.
- Idle means: nobody taps, but the sync worker reports its status after every exchange with the cloud, as it
  does on a kiosk with a cloud (a status every ``--every`` seconds, 2 by default, the link staying online and
  only the attempt times moving). The status goes through the same path as the runtime's ``on_status``:
  ``service.link`` then ``service.emit(LINK_STATE, status.to_json())``.
- After the page connected, counting starts; it runs ``--seconds`` (60 by default) and is scaled to a minute.

Run: python benchmarks/idle_bytes.py [--seconds 60] [--every 2]; prints name=value lines.
"""
from __future__ import annotations

import argparse
import socket
import sys
import tempfile
import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk.config import load, load_secrets  # noqa: E402
from kiosk.sync.policy import LinkState  # noqa: E402
from kiosk.sync.worker import SyncStatus  # noqa: E402
from kiosk.ui_events import UiEvent  # noqa: E402
from appliance.runtime import Runtime  # noqa: E402
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, write_config  # noqa: E402


class CountingRelay:
    """127.0.0.1:port -> target, counting the bytes each way."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.up = self.down = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stop = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            threading.Thread(target=self._pipe, args=(client, server, "up"), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client, "down"), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, way: str) -> None:
        try:
            while data := src.recv(65536):
                with self._lock:
                    setattr(self, way, getattr(self, way) + len(data))
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def reset(self) -> None:
        with self._lock:
            self.up = self.down = 0

    def close(self) -> None:
        self._stop = True
        self._listener.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--every", type=float, default=2.0)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        settings = load(write_config(Path(tmp), language="fa", idle_timeout_s=600))
        with Runtime(settings, load_secrets(settings.device.secrets_file), port=0) as rt:
            port = int(rt.url.rstrip("/").rsplit(":", 1)[1])
            relay = CountingRelay(("127.0.0.1", port))
            now = datetime.now(timezone.utc)
            status = SyncStatus(link=LinkState.ONLINE, last_success_at=now, last_attempt_at=now)
            rt.service.link = status.link.value
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
                try:
                    page = browser.new_page(viewport={"width": 1024, "height": 600})
                    page.goto(f"http://127.0.0.1:{relay.port}/?lang=fa")
                    deadline = time.monotonic() + 10
                    while not page.evaluate("window.__kioskConnected === true"):
                        if time.monotonic() > deadline:
                            raise SystemExit("the page did not connect to Socket.IO within 10 s")
                        time.sleep(0.05)
                    time.sleep(1.0)  # the page's own start-up requests (its reset) are not idle traffic
                    relay.reset()
                    started = time.monotonic()
                    statuses = 0
                    while (elapsed := time.monotonic() - started) < args.seconds:
                        t = now + timedelta(seconds=elapsed)
                        status = replace(status, last_attempt_at=t, last_success_at=t, next_attempt_at=t)
                        rt.service.link = status.link.value
                        rt.service.emit(UiEvent.LINK_STATE, status.to_json())
                        statuses += 1
                        time.sleep(max(0.0, min(args.every, args.seconds - (time.monotonic() - started))))
                    elapsed = time.monotonic() - started
                    up, down = relay.up, relay.down
                    page.evaluate("window.Kiosk && window.Kiosk.socket && window.Kiosk.socket.close()")
                finally:
                    browser.close()
                    relay.close()
    per_minute = 60.0 / elapsed
    print(f"idle_seconds={elapsed:.1f}")
    print(f"sync_statuses={statuses}")
    print(f"idle_bytes_up_per_minute={up * per_minute:.0f}")
    print(f"idle_bytes_down_per_minute={down * per_minute:.0f}")
    print(f"idle_bytes_per_minute={(up + down) * per_minute:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
