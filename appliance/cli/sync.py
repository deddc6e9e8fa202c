"""`kioskctl register`, `kioskctl sync status` and `kioskctl outbox`.

Each command is a function (args, settings) -> exit code, like the rest of appliance/cli/kioskctl.py;
`add_sync_commands(subparsers)` adds their parsers.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone

from kiosk import protocol
from kiosk.clock import utcnow
from kiosk.config import Settings
from kiosk.store import Store
from kiosk.sync.client import CloudClient
from kiosk.sync.errors import NotRegistered, SyncError
from kiosk.sync.files import Credentials, StatusFile, load_credentials, save_credentials
from kiosk.sync.setup import credentials_path, status_path


def cmd_register(args: argparse.Namespace, settings: Settings) -> int:
    """Exchange a one-time branch token for this device's id and key (stored 0600)."""
    url = args.cloud or settings.cloud.url
    if not url:
        raise SyncError("no cloud URL: pass --cloud URL or set [cloud] url in the config file")
    path = credentials_path(settings)
    if path.exists() and not args.force:
        existing = load_credentials(path)
        raise SyncError(
            f"this kiosk is already registered as device {existing.device_id} with {existing.cloud_url}; "
            "pass --force to register again with a new token"
        )
    ca_file = str(settings.cloud.ca_file) if settings.cloud.ca_file else None
    with CloudClient(url, ca_file=ca_file, connect_timeout=settings.cloud.connect_timeout_s,
                     read_timeout=settings.cloud.read_timeout_s) as client:
        registration = client.register(args.token.strip(), name=args.name or settings.device.id)
    save_credentials(path, Credentials(url, registration.device_id, registration.device_key, registration.branch))
    print(f"registered as device {registration.device_id} of branch {registration.branch}; key saved to {path} (mode 600)")
    if registration.branch != settings.device.branch:
        print(f"note: the token was for branch {registration.branch!r} but the config says "
              f"[device] branch = {settings.device.branch!r}; the cloud sends this device {registration.branch!r}'s rules")
    return 0


def _ago(stamp: str | None, now: datetime) -> str:
    if not stamp:
        return "never"
    seconds = (now - protocol.parse_time(stamp)).total_seconds()
    return f"{stamp} ({seconds:.0f} s ago)"


def cmd_sync_status(args: argparse.Namespace, settings: Settings) -> int:
    """Print the link state; exit 0 when online with a good clock, 1 otherwise."""
    try:
        credentials: Credentials | None = load_credentials(credentials_path(settings))
    except NotRegistered:
        credentials = None
    status = StatusFile(status_path(settings)).read() or {}
    with Store(settings.database_path, device_id=settings.device.id) as store:
        waiting = store.outbox_depth()
        parked = len(store.outbox_parked(limit=10_000))
    report = {
        "registered": credentials is not None,
        "device_id": credentials.device_id if credentials else None,
        "cloud_url": (settings.cloud.url or credentials.cloud_url) if credentials else settings.cloud.url,
        "link": status.get("link", "unknown (the kiosk service has not synced yet)"),
        "outbox_waiting": waiting,
        "outbox_parked": parked,
        **{k: status.get(k) for k in ("last_success_at", "last_attempt_at", "last_error", "consecutive_failures",
                                      "next_attempt_at", "clock_error", "clock_skew_seconds", "config_etag",
                                      "config_pulled_at", "config_error", "delivered_total")},
    }
    healthy = report["registered"] and report["link"] == "online" and not report["clock_error"]
    if args.json:
        print(json.dumps(report, indent=2))
        return 0 if healthy else 1
    now = datetime.now(timezone.utc)
    if credentials is None:
        print("registered: NO - run `kioskctl register --cloud URL --token T`")
    else:
        print(f"registered: device {credentials.device_id} at {report['cloud_url']}")
    print(f"link: {report['link']}")
    print(f"last success: {_ago(report['last_success_at'], now)}")
    print(f"outbox: {waiting} waiting, {parked} parked (refused by the cloud; see `kioskctl outbox --parked`)")
    if report["clock_error"]:
        print(f"CLOCK ERROR: this device's clock is {abs(report['clock_skew_seconds'] or 0):.0f} s "
              f"{'ahead of' if (report['clock_skew_seconds'] or 0) > 0 else 'behind'} the cloud; set the time (NTP)")
    elif report["clock_skew_seconds"] is not None:
        print(f"clock: ok ({report['clock_skew_seconds']:+.1f} s from the cloud)")
    if report["last_error"]:
        print(f"last error: {report['last_error']}")
        if report["next_attempt_at"]:
            print(f"next try: {report['next_attempt_at']}")
    print(f"config: ETag {report['config_etag'] or 'none yet'}, pulled {_ago(report['config_pulled_at'], now)}")
    if report["config_error"]:
        print(f"config error: {report['config_error']}")
    return 0 if healthy else 1


def cmd_outbox(args: argparse.Namespace, settings: Settings) -> int:
    """List events waiting for the cloud (or, with --parked, those the cloud refused); `outbox requeue`
    sends parked events again."""
    if getattr(args, "outbox_cmd", None) == "requeue":
        return cmd_outbox_requeue(args, settings)
    with Store(settings.database_path, device_id=settings.device.id) as store:
        if args.parked:
            rows = store.outbox_parked(limit=args.limit)
            for row in rows:
                print(f"{row['event_id']}  {row['kind']:<16} refused {row['rejected_at']}: {row['last_error']}")
            print(f"{len(rows)} parked event(s)")
            return 0
        rows = store.outbox_pending(limit=args.limit)
        depth = store.outbox_depth()
    for row in rows:
        print(f"{row['event_id']}  {row['kind']:<16} attempts {row['attempts']:<3} "
              f"next {row['next_attempt_at']}  created {row['created_at']}")
    more = f" (showing {len(rows)})" if depth > len(rows) else ""
    print(f"{depth} event(s) waiting{more}")
    return 0


def cmd_outbox_requeue(args: argparse.Namespace, settings: Settings) -> int:
    if bool(args.event_ids) == args.all:
        print("kioskctl outbox requeue: name the parked event ids, or --all (not both)", file=sys.stderr)
        return 2
    if not args.reason.strip():
        print("kioskctl outbox requeue: --reason must say why", file=sys.stderr)
        return 2
    with Store(settings.database_path, device_id=settings.device.id) as store:
        count = store.outbox_requeue(None if args.all else args.event_ids, args.reason, utcnow())
    asked = "all parked events" if args.all else f"{len(args.event_ids)} named event(s)"
    print(f"requeued {count} of {asked}; the sync worker sends them on its next round")
    return 0 if args.all or count == len(args.event_ids) else 1


def add_sync_commands(sub: argparse._SubParsersAction) -> None:
    """Add register, sync status and outbox to kioskctl's subcommands."""
    p = sub.add_parser("register", help="enrol this kiosk with the cloud using a one-time branch token")
    p.add_argument("--cloud", metavar="URL", help="cloud endpoint (default: [cloud] url from the config)")
    p.add_argument("--token", required=True, help="one-time token from `kiosk-cloud token create`")
    p.add_argument("--name", help="label shown in the cloud (default: the device id)")
    p.add_argument("--force", action="store_true", help="register again even if a device key exists")
    p.set_defaults(func=cmd_register)

    sync = sub.add_parser("sync", help="cloud sync").add_subparsers(dest="sync_cmd", required=True)
    p = sync.add_parser("status", help="link state, outbox, clock and config; exit 1 unless online")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_sync_status)

    p = sub.add_parser("outbox", help="list events waiting to be sent to the cloud")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--parked", action="store_true", help="list events the cloud refused instead")
    p.set_defaults(func=cmd_outbox)
    requeue = p.add_subparsers(dest="outbox_cmd").add_parser(
        "requeue", help="send parked events again (after fixing why they were refused)")
    requeue.add_argument("event_ids", nargs="*", metavar="EVENT_ID")
    requeue.add_argument("--all", action="store_true", help="every parked event")
    requeue.add_argument("--reason", required=True, help="why, kept with each event")
    requeue.set_defaults(func=cmd_outbox)
