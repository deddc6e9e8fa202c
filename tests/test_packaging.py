"""The wheel carries only product code and its assets, and building it warns about nothing."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = {"appliance", "kiosk", "drivers", "web", "cloud"}


def test_the_wheel_holds_the_product_packages_with_their_assets_and_no_test_kit(tmp_path):
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, timeout=240, cwd=tmp_path)
    assert build.returncode == 0, build.stderr
    assert "is absent from the `packages` configuration" not in build.stdout + build.stderr
    (wheel,) = tmp_path.glob("loyalty_kiosk-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {name.split("/")[0] for name in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == PRODUCT
    for asset in ("web/static/kiosk.js", "web/templates/kiosk.html", "kiosk/kiosk.example.toml",
                  "web/translations/fa/LC_MESSAGES/messages.po", "appliance/runtime.py", "drivers/emulated/pty.py"):
        assert asset in names, asset
    assert not [n for n in names if "faultproxy" in n or n.startswith(("tests/", "benchmarks/"))]
    assert not [n for n in names if "__pycache__" in n]
