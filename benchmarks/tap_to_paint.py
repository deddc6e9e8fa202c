"""Tap-to-paint latency: last byte of an RDM6300 frame on the pty -> balance painted in chromium.

Method
- A whole kiosk (Runtime: store, service, emulated RDM6300 on a pty, web server) and Debian chromium
  through Playwright, all on this machine.
- The page gets a MutationObserver on #stage (added through page.evaluate, which the CSP does not govern)
  that stamps ``performance.timeOrigin + performance.now()`` when a balance node lands in the DOM ("dom"),
  then again in the next requestAnimationFrame callback, i.e. the frame that paints it ("paint").
- Python stamps ``time.time()`` right after ``os.write`` of the frame's last byte returned (the write is
  14 bytes, one call). Both clocks are the same CLOCK_REALTIME; the page's high-resolution clock is aligned
  to Python's with 30 round trips, keeping the offset of the fastest one (error <= half its RTT, printed).
- 200 taps per transport, rotating four member cards and never repeating a card within the reader's
  debounce window (so no tap is dropped), one tap at a time (the next only after the previous painted):
  latency, not throughput. The page itself checks for the paint every 20 ms and answers once, so the
  benchmark does not keep the browser and this process busy while the tap it measures is under way; both
  stamps are taken in the page, so that check adds nothing to a figure.
- The page's own work per tap (page_script_ms, page_style_ms, page_layout_ms, page_task_ms): Chromium's
  cumulative ScriptDuration, RecalcStyleDuration, LayoutDuration and TaskDuration (DevTools' Performance
  domain, the renderer's main thread) over the taps, divided by the taps. That is CPU time the page's code
  decides, which a busy or stolen-from host distorts far less than the wall clock above: the figure to
  compare two versions of the screen by.
- Transports: "polling" is what production runs (waitress cannot upgrade to WebSocket, so Socket.IO long-
  polls); "websocket" serves the same app from Werkzeug's threaded server with simple-websocket.

Run: python benchmarks/tap_to_paint.py [--taps 200]; prints name=value lines.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from drivers import rdm6300  # noqa: E402
from kiosk.config import load, load_secrets  # noqa: E402
from appliance.runtime import Runtime  # noqa: E402
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, write_config  # noqa: E402

CARDS = ("0A1B2C3D4E", "1122334455", "5566778899", "99AABBCCDD")
DEBOUNCE_S = 0.05
PAINT_CHECK_MS = 20
OBSERVER = """() => {
  window.__paints = [];
  const stage = document.getElementById('stage');
  new MutationObserver(() => {
    if (!stage.querySelector('.balance')) return;
    const dom = performance.timeOrigin + performance.now();
    requestAnimationFrame(() => window.__paints.push([dom, performance.timeOrigin + performance.now()]));
  }).observe(stage, {childList: true});
}"""




def clock_offset(page) -> tuple[float, float]:
    """(page_ms - python_ms, rtt_ms) from the fastest of 30 round trips."""
    best = None
    for _ in range(30):
        t0 = time.time() * 1000
        p = page.evaluate("performance.timeOrigin + performance.now()")
        t1 = time.time() * 1000
        sample = (p - (t0 + t1) / 2, t1 - t0)
        if best is None or sample[1] < best[1]:
            best = sample
    return best


PAGE_METRICS = {"script": "ScriptDuration", "style": "RecalcStyleDuration", "layout": "LayoutDuration",
                "task": "TaskDuration"}


def page_seconds(cdp) -> dict[str, float]:
    """The renderer main thread's cumulative seconds of each PAGE_METRICS kind, from DevTools."""
    metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return {short: metrics[name] for short, name in PAGE_METRICS.items()}


def run_taps(page, url: str, emulator, taps: int) -> tuple[list[float], list[float], float, str, dict[str, float]]:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.goto(url + "?lang=fa")
    deadline = time.monotonic() + 10
    while not page.evaluate("window.__kioskConnected === true"):
        if time.monotonic() > deadline:
            raise SystemExit("the page did not connect to Socket.IO within 10 s")
        time.sleep(0.02)
    transport = page.evaluate("window.__kioskTransport")
    page.evaluate(OBSERVER)
    offset, rtt = clock_offset(page)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Performance.enable")
    before = page_seconds(cdp)
    dom, paint = [], []
    last_write: dict[str, float] = {}
    for i in range(taps):
        card = CARDS[i % len(CARDS)]
        frame = rdm6300.encode_frame(card)
        # The same card again within the debounce window would be the same tap, not a new one.
        wait = last_write.get(card, 0) + DEBOUNCE_S + 0.02 - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        last_write[card] = time.monotonic()
        emulator.write(frame)
        written = time.time() * 1000
        # The page checks for the paint itself, every PAINT_CHECK_MS, and answers once: asking it from here
        # every 2 ms kept Python, Playwright's driver and the page's main thread busy beside the tap measured.
        try:
            page.wait_for_function("i => window.__paints.length > i", arg=i, polling=PAINT_CHECK_MS, timeout=5000)
        except PlaywrightTimeout:
            raise SystemExit(f"tap {i} was not painted within 5 s") from None
        d, p = page.evaluate(f"window.__paints[{i}]")
        dom.append(d - offset - written)
        paint.append(p - offset - written)
    after = page_seconds(cdp)
    per_tap_ms = {kind: (after[kind] - before[kind]) * 1000 / taps for kind in PAGE_METRICS}
    return dom, paint, rtt, transport, per_tap_ms


def serve_websocket(app):
    import logging

    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access-log line per poll would drown the figures

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, f"http://127.0.0.1:{server.server_port}/"


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--taps", type=int, default=200)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        readers = '[[readers]]\nuri = "emulated:rdm6300"\nid = "counter"\ndebounce_s = 0.05\n'
        settings = load(write_config(Path(tmp), readers=readers, language="fa", idle_timeout_s=600))
        with Runtime(settings, load_secrets(settings.device.secrets_file), port=0) as rt:
            for i, uid in enumerate(CARDS):
                member = rt.service.enroll(f"+98912000000{i}", "Bench", "Mark")
                rt.service.bind(member.id, "rfid125", uid)
                rt.service.earn(member.id, 7_000_000)
            emulator = rt.emulators["counter"]
            deadline = time.monotonic() + 10
            while not rt.service.reader_status.get("counter"):
                if time.monotonic() > deadline:
                    raise SystemExit("the emulated reader did not connect")
                time.sleep(0.02)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
                try:
                    page = browser.new_page(viewport={"width": 1024, "height": 600})
                    results = {"polling": run_taps(page, rt.url, emulator, args.taps)}
                    rt.app.config["KIOSK_SOCKET_TRANSPORTS"] = "websocket"
                    server, ws_url = serve_websocket(rt.app)
                    try:
                        page = browser.new_page(viewport={"width": 1024, "height": 600})
                        results["websocket"] = run_taps(page, ws_url, emulator, args.taps)
                    finally:
                        server.shutdown()
                finally:
                    browser.close()
    print(f"taps={args.taps}")
    print("production_server=waitress")
    for name, (dom, paint, rtt, transport, per_tap_ms) in results.items():
        print(f"{name}_transport_used={transport}")
        print(f"{name}_clock_alignment_rtt_ms={rtt:.3f}")
        print(f"{name}_dom_p50_ms={statistics.median(dom):.1f}")
        print(f"{name}_dom_p99_ms={p99(dom):.1f}")
        print(f"{name}_paint_p50_ms={statistics.median(paint):.1f}")
        print(f"{name}_paint_p99_ms={p99(paint):.1f}")
        print(f"{name}_paint_max_ms={max(paint):.1f}")
        for kind, value in per_tap_ms.items():
            print(f"{name}_page_{kind}_ms={value:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
