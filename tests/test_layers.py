"""Imports point down the layers (docs/architecture.md): every import of every product module, also
those inside functions, is read from the source and held against the rules."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("appliance", "web", "kiosk", "drivers", "cloud")
MAX_LINES = 600

# The ground of the core: what every layer of kiosk/ may stand on.
GROUND = ("kiosk.clock", "kiosk.errors", "kiosk.identity", "kiosk.phones", "kiosk.private_files",
          "kiosk.config", "kiosk.protocol", "kiosk.receipts", "kiosk.chain_card", "kiosk.events")
# What the core may take from the drivers: the event records, the digital-card token format and the one
# retry schedule (the sync worker backs off like a reader reconnects, with jitter).
DRIVER_RECORDS = ("drivers.events", "drivers.digital_card", "drivers.errors", "drivers.backoff")


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def product_modules(root: Path = ROOT) -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (root / package).rglob("*.py"):
            found[module_name(path, root)] = path
    return found


def imports_of(path: Path, name: str, known: set[str]) -> set[str]:
    """Every product module this file imports, at any depth of the code (functions included)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            targets.add(base)
            targets.update(f"{base}.{alias.name}" for alias in node.names)
    return {t for t in targets if t in known and t != name}


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    modules = product_modules(root)
    known = set(modules)
    return {name: imports_of(path, name, known) for name, path in modules.items()}


def within(module: str, *prefixes: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def bare(module: str) -> bool:
    """``kiosk`` and ``drivers`` themselves are a docstring each: naming them in an import says nothing."""
    return module in ("kiosk", "drivers")


def violations(graph: dict[str, set[str]]) -> list[str]:
    """Each import that points up or sideways, as 'importer -> imported: rule'."""
    found = []

    def forbid(importer: str, imported: str, rule: str) -> None:
        found.append(f"{importer} -> {imported}: {rule}")

    for importer, targets in graph.items():
        for target in targets:
            if bare(target):
                continue
            if within(target, "appliance") and not within(importer, "appliance"):
                forbid(importer, target, "only the composition root imports the composition root")
            if within(target, "web") and not within(importer, "appliance", "web"):
                forbid(importer, target, "only appliance/ imports web/")
            if within(target, "drivers.registry", "drivers.gpio", "drivers.emulated") and not within(
                    importer, "appliance", "drivers"):
                forbid(importer, target, "only appliance/ opens readers, GPIO and emulators")
            if within(importer, "drivers") and not within(target, "drivers"):
                forbid(importer, target, "drivers/ imports nothing above it")
            if within(importer, "drivers.nfc", "drivers.wiegand", "drivers.gpio") and within(target, "drivers.emulated"):
                forbid(importer, target, "real drivers never import the emulators")
            if within(importer, "web") and within(target, "kiosk.store", "kiosk.sync", "drivers", "cloud"):
                forbid(importer, target, "web/ reaches the core through flows and the service only")
            if within(importer, "kiosk"):
                if within(target, "cloud"):
                    forbid(importer, target, "the kiosk talks to the cloud through the protocol only")
                if within(target, "drivers") and not within(target, *DRIVER_RECORDS):
                    forbid(importer, target, "the core takes only event records from the drivers")
            if within(importer, "kiosk.rules") and not within(target, "kiosk.rules", "kiosk.errors"):
                forbid(importer, target, "the rules are pure: they import only rules and errors")
            if within(importer, "kiosk.store") and not within(target, "kiosk.store", "kiosk.rules", *GROUND):
                forbid(importer, target, "the store stands on the rules and the ground only")
            if within(importer, "kiosk.service") and within(target, "kiosk.sync", "kiosk.flows"):
                forbid(importer, target, "the service is handed the chain look-up; it never imports sync or flows")
            if within(importer, "kiosk.sync") and within(target, "kiosk.service", "kiosk.flows"):
                forbid(importer, target, "sync never imports the service or the flows")
            if within(importer, "kiosk.flows") and within(target, "kiosk.sync"):
                forbid(importer, target, "flows are handed what they need of the cloud")
            if importer in GROUND and within(target, "kiosk") and not within(target, *GROUND, "kiosk.rules"):
                forbid(importer, target, "the ground stands on the rules only")
            if within(importer, "cloud") and within(target, "kiosk") and not within(
                    target, "kiosk.protocol", "kiosk.rules", "kiosk.clock", "kiosk.errors"):
                forbid(importer, target, "the cloud shares only the protocol, the rules and the clock")
            if within(importer, "cloud") and within(target, "appliance", "web", "drivers"):
                forbid(importer, target, "the cloud shares only the protocol, the rules and the clock")
    return sorted(found)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def without_packages(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """A package's __init__ importing its own modules is not a cycle with them."""
    return {m: {t for t in ts if not within(m, t)} for m, ts in graph.items()}


def test_every_import_points_down_the_layers():
    assert violations(import_graph()) == []


def test_no_modules_import_each_other_in_a_circle():
    assert cycles(without_packages(import_graph())) == []


def test_no_product_module_is_longer_than_six_hundred_lines():
    long = {name: n for name, path in product_modules().items()
            if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_no_script_of_a_page_is_longer_than_six_hundred_lines():
    # The pages' own scripts count as product code too; vendored libraries are not ours to split.
    scripts = [p for package in PACKAGES for p in (ROOT / package).rglob("*.js") if "vendor" not in p.parts]
    assert scripts, "no page scripts found: the rule would hold vacuously"
    long = {str(p.relative_to(ROOT)): n for p in scripts if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_test_support_never_ships_in_a_product_package():
    for name, path in product_modules().items():
        assert "tests" not in imports_of(path, name, {"tests", "tests.support"} | {
            f"tests.support.{p.stem}" for p in (ROOT / "tests" / "support").glob("*.py")}), name


# The rule test itself must be able to fail: held against yesterday's shapes, it does.

def _tree(tmp_path: Path, files: dict[str, str]) -> dict[str, set[str]]:
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for package in PACKAGES:
        (tmp_path / package).mkdir(exist_ok=True)
        (tmp_path / package / "__init__.py").touch()
    modules = product_modules(tmp_path)
    return {name: imports_of(path, name, set(modules)) for name, path in modules.items()}


def test_the_core_importing_the_web_layer_inside_a_function_is_caught(tmp_path):
    graph = _tree(tmp_path, {"kiosk/runtime.py": "def start():\n    from web import create_app\n",
                             "web/flows.py": "from kiosk.service import KioskService\n",
                             "kiosk/service.py": ""})
    assert "kiosk.runtime -> web: only appliance/ imports web/" in violations(graph)


def test_yesterdays_nine_module_circle_is_caught(tmp_path):
    chain = ["kiosk.coupons", "kiosk.digital_card", "kiosk.runtime", "web", "web.flows", "kiosk.phone_codes",
             "web.pos_api", "web.shopper", "web.staff_views"]
    files = {}
    for here, there in zip(chain, chain[1:] + chain[:1]):
        rel = "web/__init__.py" if here == "web" else here.replace(".", "/") + ".py"
        files[rel] = f"def f():\n    import {there}\n"
    graph = _tree(tmp_path, files)
    assert cycles(without_packages(graph)) == [sorted(chain)]


def test_a_relative_import_between_emulators_is_read_as_a_cycle(tmp_path):
    graph = _tree(tmp_path, {"drivers/emulate.py": "from .emulate_control import TapControlServer\n",
                             "drivers/emulate_control.py": "from . import emulate\n"})
    assert cycles(without_packages(graph)) == [["drivers.emulate", "drivers.emulate_control"]]


@pytest.mark.parametrize("importer,imported,rule", [
    ("cloud/store.py", "kiosk.store", "the cloud shares only the protocol"),
    ("drivers/reader.py", "kiosk.errors", "drivers/ imports nothing above it"),
    ("kiosk/service.py", "kiosk.sync.lookup", "the service is handed the chain look-up"),
    ("drivers/nfc/reader.py", "drivers.emulated.pn532", "real drivers never import the emulators"),
    ("web/shopper.py", "kiosk.store", "web/ reaches the core through flows"),
])
def test_each_rule_names_the_import_that_breaks_it(tmp_path, importer, imported, rule):
    target = imported.replace(".", "/") + ".py"
    graph = _tree(tmp_path, {importer: f"import {imported}\n", target: ""})
    assert any(rule in v for v in violations(graph))
