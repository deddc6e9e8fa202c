"""A kiosk process for the crash test: earns in a loop while its sync worker runs.

    python tests/cloud/crash_kiosk.py CONFIG MEMBER_ID

Prints `OK <event_id>` after each earn the store committed (that is what a cashier
would have seen as success) and is killed with SIGKILL at a random moment.
"""

from __future__ import annotations

import random
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from kiosk.config import load  # noqa: E402
from kiosk.store import Store  # noqa: E402
from kiosk.sync.setup import worker_from_settings  # noqa: E402


def main() -> None:
    settings = load(Path(sys.argv[1]))
    member_id = sys.argv[2]
    rng = random.Random()
    with Store(settings.database_path, device_id=settings.device.id) as store:
        worker = worker_from_settings(settings, store)
        assert worker is not None
        worker.start()
        print("READY", flush=True)
        for _ in range(100_000):  # bounded; the test kills it long before
            event_id = str(uuid.uuid4())
            amount = rng.randrange(10_000, 500_000, 10_000)
            store.record(member_id, "earn", amount // 10_000, amount=amount, event_id=event_id,
                         receipt_id=f"crash-{event_id}")
            print(f"OK {event_id}", flush=True)
            worker.wake()


if __name__ == "__main__":
    main()
