"""SQL reads per tap: how many queries the store answers for one member tap, and for one till tap.

    python benchmarks/tap_reads.py [--history 200] [--rewards 8]

Runs the product's own path (the service with every flow built on it, as appliance.runtime wires it) on a
real SQLite file, counting the store's reads. Prints one `name=value` line per figure.
Goal: sql_reads_per_member_tap <= 4.
"""
from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from drivers.events import CardRead  # noqa: E402
from kiosk.config import Secrets, load  # noqa: E402
from kiosk.flows import build_flows  # noqa: E402
from kiosk.service import KioskService  # noqa: E402
from kiosk.store import Store  # noqa: E402
from kiosk.ui_events import UiEvent  # noqa: E402

UID = "0A00B1C2D3"


class ReadCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, sql: str) -> None:
        self.statements.append(sql)

    def during(self, action) -> int:
        before = len(self.statements)
        action()
        return len(self.statements) - before


def measure(data_dir: Path, *, history: int, rewards: int) -> dict[str, int]:
    config = data_dir / "kiosk.toml"
    config.write_text(f'[device]\nid = "bench"\nbranch = "bench"\ndata_dir = "{data_dir}"\n')
    settings = load(config)
    counter = ReadCounter()
    events: list[tuple[str, dict]] = []
    with Store(settings.database_path, device_id="bench", on_read=counter) as store:
        service = KioskService(store, settings, Secrets(chain_secret=secrets.token_bytes(32)))
        flows = build_flows(service)
        service.subscribe(lambda name, payload: events.append((name, payload)))
        member = service.enroll("+989120000001", "Bench")
        service.bind(member.id, "rfid125", UID)
        for i in range(history):
            service.earn(member.id, 100_000 + i)
        for i in range(rewards):
            store.upsert_reward(f"r{i}", f"Reward {i}", 50 * (i + 1))
        read = CardRead(uid=UID, tech="rfid125", reader_id="bench")
        service.handle(read)  # warm: the first tap may settle expiry or a birthday bonus
        member_tap = counter.during(lambda: service.handle(read))
        assert events[-1][0] == UiEvent.MEMBER, events[-1]
        flows.pos.post("bench-receipt-1", 1_500_000)
        till_tap = counter.during(lambda: service.handle(read))
        assert events[-1][0] == UiEvent.POS_RESULT and events[-1][1]["state"] == "earned", events[-1]
        flows.close()
    return {"sql_reads_per_member_tap": member_tap, "sql_reads_per_till_tap": till_tap}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--history", type=int, default=200, help="ledger rows of the tapping member")
    ap.add_argument("--rewards", type=int, default=8, help="rewards in the catalogue")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        figures = measure(Path(tmp), history=args.history, rewards=args.rewards)
    print(f"member_history_rows={args.history}")
    for name, value in figures.items():
        print(f"{name}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
