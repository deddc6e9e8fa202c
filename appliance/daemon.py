"""`kiosk`: run the kiosk service (readers, core, web UI) until SIGTERM or Ctrl-C."""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Callable, Sequence

from appliance.cli.kioskctl import config_path
from kiosk.config import load, load_secrets
from kiosk.errors import KioskError
from kiosk.private_files import create_private
from appliance.runtime import Runtime
from appliance.watchdog import ServiceSupervision


def configure_logging(log_file: Path | None, level: str = "INFO") -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        create_private(log_file)  # 0600 whatever the umask: a log names members and staff
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", handlers=handlers,
                        force=True)
    # nfcpy logs raw card UIDs at DEBUG; a UID must never reach a log, whatever the level asked for.
    logging.getLogger("nfc").setLevel(max(logging.getLevelName(level), logging.INFO))


def wait_for_stop(every_s: float = 1.0, tick: Callable[[], None] | None = None) -> None:
    """Block until SIGTERM/SIGINT (systemd stops the service with SIGTERM), calling ``tick`` meanwhile."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(every_s):
        if tick is not None:
            tick()


def liveness(runtime: Runtime) -> dict[str, bool]:
    """Probe each loop the watchdog vouches for: the database writer, the service, the sync worker, every reader."""
    probes: dict[str, bool] = {}
    try:
        runtime.store.write(lambda db: None, timeout=5)  # an empty transaction through the writer thread
        probes["store-writer"] = True
    except Exception:
        probes["store-writer"] = False
    probes["service"] = runtime.service.heartbeat_age_s() < 10
    if runtime.sync is not None:
        # Busy without progress past its requests' deadlines (idle waits count as alive): a stuck worker.
        probes["sync-worker"] = not runtime.sync.stalled()
    for reader in runtime.readers:
        probes[f"reader:{reader.reader_id}"] = bool(getattr(reader, "running", True))
    return probes


def _port(text: str) -> int:
    port = int(text) if text.isdigit() else -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text} is not a port (0 to 65535)")
    return port


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kiosk", description="Run the loyalty kiosk service.")
    parser.add_argument("--config", help="config file (default: $KIOSK_CONFIG or /etc/kiosk/kiosk.toml)")
    parser.add_argument("--log-file", type=Path, help="also write the log to this file")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    # A second kiosk beside the service (staff debugging, the tests) must not fight it for web.port;
    # 0 lets the kernel pick a free one, told in the ready status and on stdout.
    parser.add_argument("--port", type=_port, help="listen on this port instead of web.port (0: any free port)")
    args = parser.parse_args(argv)
    configure_logging(args.log_file, args.log_level)
    try:
        settings = load(config_path(args.config))
        secrets = load_secrets(settings.device.secrets_file)
        with ServiceSupervision(os.environ) as supervision, Runtime(settings, secrets, port=args.port) as runtime:
            beats = {name: supervision.board.register(name, max_age_s=30) for name in liveness(runtime)}

            def tick() -> None:
                # Beat only for loops that answered; a stuck one stops the WATCHDOG=1 pings.
                for name, alive in liveness(runtime).items():
                    if alive:
                        beats[name].beat()

            tick()
            supervision.ready(f"serving on {runtime.url}")
            print(f"kiosk {settings.device.id} is running on {runtime.url}", flush=True)
            wait_for_stop(every_s=2.0, tick=tick)
    except KioskError as exc:
        print(f"kiosk: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
