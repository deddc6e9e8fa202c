"""Every module, file and function the docs name in backticks exists, so a reader who looks it up finds it."""
from __future__ import annotations

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("appliance", "web", "kiosk", "drivers", "cloud", "tests", "benchmarks")
NAMED = re.compile(r"`((?:%s)(?:[./][A-Za-z_][A-Za-z0-9_]*)+(?:\.py)?)(?:\(\))?`" % "|".join(PACKAGES))
# Backticked names that are settings or files, not code: the config file and its [web] host key.
NOT_CODE = {"kiosk.toml", "web.host"}


def named_in_docs() -> list[tuple[str, int, str]]:
    found = []
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), 1):
            found += [(doc.name, number, m.group(1)) for m in NAMED.finditer(line) if m.group(1) not in NOT_CODE]
    return found


def exists(name: str) -> bool:
    if "/" in name:
        return (ROOT / name).exists()
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        module = ".".join(parts[:cut])
        base = ROOT.joinpath(*parts[:cut])
        if base.with_suffix(".py").exists() or (base / "__init__.py").exists():
            target: object = importlib.import_module(module)
            for attr in parts[cut:]:
                if not hasattr(target, attr):
                    return False
                target = getattr(target, attr)
            return True
    return False


def test_the_check_tells_a_real_name_from_a_made_up_one():
    assert exists("kiosk.protocol.is_receipt_id") and exists("kiosk/sync/worker.py")
    assert not exists("kiosk.protocol.no_such_function") and not exists("kiosk/sync_offline.py")


def test_every_module_file_and_function_named_in_the_docs_exists():
    missing = [f"{doc}:{line} {name}" for doc, line, name in named_in_docs() if not exists(name)]
    assert missing == []
