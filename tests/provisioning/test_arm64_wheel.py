"""The app on a Pi's CPU: the wheel and the aarch64 wheelhouse install into a venv of an arm64
Debian 12 root (through qemu-user-static) the way the app role installs them, with the
compiler removed, and every module of the app imports there. A machine that cannot run
aarch64 programs skips with the reason (arm64.check_host)."""

from __future__ import annotations

import pytest

from . import arm64, lab
from .conftest import WORKTREE, build_wheel
from .test_booted_appliance import wheelhouse as amd64_wheelhouse

pytestmark = [pytest.mark.slow, pytest.mark.timeout(3600)]

IMPORT_ALL = """
import importlib, pkgutil, platform, sys
assert platform.machine() == "aarch64", platform.machine()
names = []
for top in ("appliance", "kiosk", "drivers", "web", "cloud"):
    package = importlib.import_module(top)
    names.append(top)
    for info in pkgutil.walk_packages(package.__path__, top + "."):
        if not info.name.endswith("__main__"):
            names.append(info.name)
for name in names:
    importlib.import_module(name)
import evdev._input, lgpio  # the C extensions: built (evdev) or downloaded (lgpio) for aarch64
print("machine", platform.machine(), "imported", len(names), "modules")
"""


@pytest.fixture(scope="module")
def arm64_root():
    try:
        arm64.check_host()
        return arm64.rootfs(log=lambda msg: None)
    except lab.LabUnavailable as why:
        pytest.skip(f"cannot run aarch64 programs here: {why}")


def test_the_wheel_installs_on_arm64_without_a_compiler_and_every_module_imports(arm64_root, tmp_path):
    wheel = build_wheel(WORKTREE, tmp_path)
    house = arm64.wheelhouse(amd64_wheelhouse(wheel), arm64_root)
    assert not [p.name for p in house.iterdir() if not p.name.endswith(".whl")]
    script = (
        # No compiler, as on a Pi OS Lite card (removed from the run's throwaway overlay).
        f"set -e; rm {arm64.COMPILER}; ! command -v gcc cc aarch64-linux-gnu-gcc >/dev/null; "
        "python3 -m venv /opt/kiosk/venv; "
        # The app role's command for a wheelhouse (provisioning/roles/app).
        "/opt/kiosk/venv/bin/python -m pip install -q --no-input --no-index --only-binary=:all: "
        f"--find-links /wheels /app/{wheel.name}; "
        "/opt/kiosk/venv/bin/python -c '" + IMPORT_ALL.replace("'", "\"") + "'; "
        "/opt/kiosk/venv/bin/kioskctl --help >/dev/null && echo kioskctl runs")
    result = arm64.run(arm64_root, script, {house: "/wheels", wheel.parent: "/app"})
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-4000:]
    assert "machine aarch64 imported" in out and "kioskctl runs" in out, out[-4000:]
