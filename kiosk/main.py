"""`kiosk`: run the kiosk service (readers, core, web UI) until SIGTERM or Ctrl-C."""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Sequence

from kiosk.cli import config_path
from kiosk.config import load, load_secrets
from kiosk.errors import KioskError
from kiosk.runtime import Runtime


def configure_logging(log_file: Path | None, level: str = "INFO") -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", handlers=handlers,
                        force=True)
    # nfcpy logs raw card UIDs at DEBUG; a UID must never reach a log, whatever the level asked for.
    logging.getLogger("nfc").setLevel(max(logging.getLevelName(level), logging.INFO))


def wait_for_stop() -> None:
    """Block until SIGTERM/SIGINT; systemd stops the service with SIGTERM."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(1.0):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kiosk", description="Run the loyalty kiosk service.")
    parser.add_argument("--config", help="config file (default: $KIOSK_CONFIG or /etc/kiosk/kiosk.toml)")
    parser.add_argument("--log-file", type=Path, help="also write the log to this file")
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    args = parser.parse_args(argv)
    configure_logging(args.log_file, args.log_level)
    try:
        settings = load(config_path(args.config))
        secrets = load_secrets(settings.device.secrets_file)
        with Runtime(settings, secrets) as runtime:
            print(f"kiosk {settings.device.id} is running on {runtime.url}", flush=True)
            wait_for_stop()
    except KioskError as exc:
        print(f"kiosk: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
