"""End to end in Debian chromium: an RDM6300 frame on the pty paints the balance, idle clears it."""
from __future__ import annotations

import pytest

from drivers import rdm6300
from kiosk.config import load, load_secrets
from appliance.runtime import Runtime
from tests.conftest import save_screenshot, socket_connected, wait_until, write_config

pytestmark = pytest.mark.browser
UID = "0A1B2C3D4E"


@pytest.fixture
def kiosk(tmp_path):
    settings = load(write_config(tmp_path / "k", idle_timeout_s=3))
    with Runtime(settings, load_secrets(settings.device.secrets_file), port=0) as rt:
        member = rt.service.enroll("+989121234567", "Sara", "Ahmadi")
        rt.service.bind(member.id, "rfid125", UID)
        rt.service.earn(member.id, 12_000_000)
        wait_until(lambda: rt.service.reader_status.get("counter"), what="the reader")
        yield rt


def test_a_frame_written_to_the_pty_paints_the_balance_without_a_reload_and_idle_clears_it(kiosk, page):
    page.goto(kiosk.url + "?lang=en")
    page.locator("#attract.active").wait_for()
    socket_connected(page)
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))

    kiosk.emulators["counter"].write(rdm6300.encode_frame(UID))

    balance = page.locator("#stage.active .balance")
    balance.wait_for(timeout=5000)
    assert balance.locator("[data-field=first_name]").inner_text() == "Sara"
    assert balance.locator(".figure [data-field=points]").inner_text() == "1,300"  # 100 bonus + 1,200 earned
    assert balance.locator("[data-field=tier_name]").inner_text() == "Silver"
    save_screenshot(page, "balance-en-1024x600")
    assert navigations == []

    page.locator("#attract.active").wait_for(timeout=6000)
    assert page.locator("#stage").inner_html().strip() == ""
    assert "Sara" not in page.content()


def test_the_page_loads_nothing_from_another_origin(kiosk, page):
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    response = page.goto(kiosk.url + "?lang=fa")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    socket_connected(page)
    assert requested and all(url.startswith(kiosk.url.rstrip("/")) for url in requested), requested
    assert page.locator("html").get_attribute("dir") == "rtl"  # Persian reads right to left
