"""Take docs/img/console.png: the club console's segments page over the demo's generated chain.

    .venv/bin/python docs/console_screenshot.py [--out docs/img/console.png] [--lang fa]

Seeds a throw-away cloud database exactly as `make demo` does (appliance/demo_cloud.py: the demo login,
two branches' generated members and purchases from a fixed seed, segments scored), serves it on a
loopback port, logs in with Debian's chromium through Playwright and saves the page.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from appliance import demo, demo_cloud  # noqa: E402
from cloud.app import create_app  # noqa: E402
from appliance.web_server import WebServer  # noqa: E402
from cloud.store import CloudStore  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "console.png")
    parser.add_argument("--lang", default="fa", choices=("fa", "ar", "en"))
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        database = Path(tmp) / "cloud.sqlite"
        with CloudStore(database) as store:
            login = demo_cloud.ensure_login(store, Path(tmp) / "console-login.txt")
            demo_cloud.seed_chain(store, datetime.now(timezone.utc), demo.CLOUD_CONFIG)
        app = create_app(database)
        try:
            with WebServer(app) as server, sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True)
                try:
                    page = browser.new_page(viewport={"width": 1100, "height": 900})
                    page.goto(f"{server.url}/login?lang={args.lang}")
                    page.fill("input[name=username]", login.username)
                    page.fill("input[name=password]", login.password)
                    page.click("form.login button[type=submit]")
                    page.wait_for_selector("span.who")
                    page.goto(f"{server.url}/segments")
                    page.wait_for_selector("svg.chart rect")
                    args.out.parent.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(args.out), full_page=True)
                finally:
                    browser.close()
        finally:
            app.extensions["cloud_store"].close()
    print(f"screenshot={args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
