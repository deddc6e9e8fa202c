"""Fixtures shared by every test area: a real config file, a running kiosk, a real browser."""
from __future__ import annotations

import secrets as pysecrets
import sys
import time
from pathlib import Path
from typing import Callable

import pytest
from hypothesis import settings as hypothesis_settings

from tests.support import leaks

from kiosk.config import Secrets, Settings, load, load_secrets, write_secrets

# Property tests draw the same examples on every run: the branch-share checks (tests/support/branches.py)
# then hold or fail for good, never one run in ten. A new case is found by changing the strategy, not by luck.
# No per-example deadline (hypothesis's default is 200 ms): one example stalled by a loaded machine would fail
# the test as DeadlineExceeded or Flaky, which says nothing about the code.
hypothesis_settings.register_profile("suite", derandomize=True, print_blob=True, deadline=None)
hypothesis_settings.load_profile("suite")


def _no_constants_from_loaded_modules() -> None:
    """Keep a derandomised test's examples its own: the same whichever test modules ran before it.

    Hypothesis 6.1xx also draws constants it collects from every project module imported so far, so
    under xdist (where each worker imports a different set) or after an edit anywhere, one test's
    examples changed and branch shares moved (a receipt branch fell from 15 % to 1.7 %). There is no
    public setting for it: replace the private collector with an empty pool, and fail loudly if a
    hypothesis upgrade renames it rather than silently going back to examples that depend on order.
    """
    from hypothesis.internal.conjecture import providers

    if not hasattr(providers, "_get_local_constants"):
        raise RuntimeError("hypothesis no longer has providers._get_local_constants: see tests/conftest.py")
    empty = type(providers._local_constants)(
        integers=providers.SortedSet(), floats=providers.SortedSet(key=providers.float_to_int),
        bytes=providers.SortedSet(), strings=providers.SortedSet())
    providers._get_local_constants = lambda: empty


_no_constants_from_loaded_modules()

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def session_owned() -> leaks.Owned:
    """What session-scoped fixtures (the browser) start and keep for the whole run."""
    return leaks.Owned()


@pytest.fixture(scope="module", autouse=True)
def nothing_left_behind(request, session_owned):
    """Fails a test module that leaves a thread, a child process, a listening socket or an open file
    behind once its fixtures are torn down (autouse and module-scoped: set up before, torn down after,
    the module's own fixtures)."""
    before = leaks.snapshot()
    yield
    left = leaks.leaks_after(before, owned=session_owned)
    if left:
        pytest.fail(f"{request.node.nodeid} left behind: " + "; ".join(left), pytrace=False)


def pytest_collection_modifyitems(config, items) -> None:
    """Longest modules first (those marked slow, then those with browser tests), each module kept whole.

    `make test` hands whole modules to xdist workers in this order (--dist loadfile --no-loadscope-reorder),
    so the booted appliance starts at once on one worker and the rest of the suite runs beside it,
    instead of a long module starting last and running alone at the end.
    """
    modules: dict[object, list] = {}
    for item in items:
        modules.setdefault(item.path, []).append(item)

    def weight(module_items: list) -> int:
        names = {mark.name for item in module_items for mark in item.iter_markers()}
        return 0 if "slow" in names else 1 if "browser" in names else 2

    items[:] = [item for group in sorted(modules.values(), key=weight) for item in group]


def write_config(directory: Path, extra: str = "", *, readers: str | None = None, device_id: str = "test-kiosk",
                 idle_timeout_s: int = 20, language: str = "en") -> Path:
    """A real kiosk.toml in ``directory`` plus a 0600 secrets file; returns the config path."""
    directory.mkdir(parents=True, exist_ok=True)
    if readers is None:
        readers = '[[readers]]\nuri = "emulated:rdm6300"\nid = "counter"\ndebounce_s = 0.3\n'
    config = directory / "kiosk.toml"
    config.write_text(
        f"""
[device]
id = "{device_id}"
branch = "test-branch"
data_dir = "data"
secrets_file = "secrets.toml"

[web]
host = "127.0.0.1"
port = 8080
language = "{language}"
idle_timeout_s = {idle_timeout_s}

{readers}
{extra}
""",
        encoding="utf-8",
    )
    secrets_file = directory / "secrets.toml"
    if not secrets_file.exists():
        write_secrets(secrets_file, {"chain_secret": pysecrets.token_hex(32)})
    return config


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    return write_config(tmp_path / "kiosk")


@pytest.fixture
def settings(config_file: Path) -> Settings:
    return load(config_file)


@pytest.fixture
def secrets(settings: Settings) -> Secrets:
    return load_secrets(settings.device.secrets_file)


@pytest.fixture
def runtime(settings: Settings, secrets: Secrets):
    """A whole kiosk (store, service, emulated reader, web server) on a free loopback port."""
    from appliance.runtime import Runtime

    with Runtime(settings, secrets, port=0) as rt:
        yield rt


def kioskctl(config: Path, *args: str, check: bool = True):
    """Run the real `kioskctl` in a child process, as staff would."""
    import subprocess

    proc = subprocess.run([sys.executable, "-m", "appliance.cli.kioskctl", "--config", str(config), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    if check and proc.returncode != 0:
        raise AssertionError(f"kioskctl {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
    return proc


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate: Callable[[], object], timeout_s: float = 5.0, what: str = "condition") -> object:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")


def socket_connected(page, timeout_s: float = 15.0) -> None:
    """Wait for the kiosk page's Socket.IO connection (15 s: at 5 s it timed out on a loaded machine, 02328c2).
    Not page.wait_for_function: its polling evals a string, which the page's CSP (rightly) forbids."""
    wait_until(lambda: page.evaluate("window.__kioskConnected === true"), timeout_s=timeout_s,
               what="the socket to connect")


@pytest.fixture(scope="session")
def browser(session_owned):
    """Debian's chromium driven by Playwright; skipped with a reason where it is not installed."""
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium (make test installs it as root)")
    from playwright.sync_api import sync_playwright

    before = leaks.snapshot()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        session_owned.add(leaks.snapshot(), before)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1024, "height": 600})
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def save_screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
