"""`kiosk-cloud`: run the reference cloud and administer it (tokens, branch config)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from cloud.errors import CloudError

if TYPE_CHECKING:
    from cloud.store import CloudStore

DB_ENV = "KIOSK_CLOUD_DB"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk-cloud", description="Reference cloud endpoint for loyalty kiosks.")
    parser.add_argument(
        "--db", type=Path, default=os.environ.get(DB_ENV),
        help=f"SQLite database file (default: ${DB_ENV}); created if missing",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the HTTP API with waitress")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8700)
    serve.add_argument("--threads", type=int, default=4)

    token = commands.add_parser("token", help="one-time branch enrollment tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    create = token_commands.add_parser("create", help="print a new one-time token for a branch")
    create.add_argument("--branch", required=True)
    create.add_argument("--valid-hours", type=float, default=24 * 7)

    config = commands.add_parser("config", help="branch loyalty config (rules, tiers, rewards, campaigns)")
    config_commands = config.add_subparsers(dest="config_command", required=True)
    config_set = config_commands.add_parser("set", help="store a branch's config from a JSON file")
    config_set.add_argument("--branch", required=True)
    config_set.add_argument("--file", type=Path, required=True)
    config_show = config_commands.add_parser("show", help="print a branch's config and ETag")
    config_show.add_argument("--branch", required=True)

    commands.add_parser("devices", help="list registered devices")

    sms = commands.add_parser("sms", help="the reference SMS sender's outbox (one-time codes)")
    sms_commands = sms.add_subparsers(dest="sms_command", required=True)
    outbox = sms_commands.add_parser("outbox", help="print the text messages waiting to be sent")
    outbox.add_argument("--mark-sent", action="store_true", help="mark the printed messages as sent")
    from cloud.messages import cli as messages_cli  # jobs and messages commands (docs/messages.md)
    messages_cli.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.db is None:
        print(f"kiosk-cloud: no database given; pass --db PATH or set {DB_ENV}", file=sys.stderr)
        return 2
    # Imported late so `kiosk-cloud --help` works without touching the database.
    from cloud.store import CloudStore, load_config_file

    try:
        if args.command == "serve":
            return _serve(args)
        store = CloudStore(args.db)
        if args.command in ("jobs", "messages"):
            from cloud.messages import cli as messages_cli
            return messages_cli.run(args, store)
        if args.command == "token":
            print(store.create_token(args.branch, timedelta(hours=args.valid_hours)))
        elif args.command == "config" and args.config_command == "set":
            document = load_config_file(args.file)
            _check_like_a_kiosk(document)
            saved = store.set_config(args.branch, document)
            print(f"config for branch {saved.branch} saved, ETag {saved.etag}")
        elif args.command == "config":
            shown = store.config(args.branch)
            if shown is None:
                print(f"kiosk-cloud: branch {args.branch!r} has no config; use `config set`", file=sys.stderr)
                return 1
            print(f"ETag: {shown.etag}")
            print(json.dumps(json.loads(shown.body), indent=2, ensure_ascii=False))
        elif args.command == "sms":
            return _sms_outbox(store, mark_sent=args.mark_sent)
        else:
            for device in store.devices():
                print(f"{device.device_id}  {device.branch:<16} {device.name:<20} "
                      f"last seen {device.last_seen_at or 'never'}  events {device.events_count}")
    except CloudError as exc:
        print(f"kiosk-cloud: {exc}", file=sys.stderr)
        return 1
    return 0


def _sms_outbox(store: "CloudStore", *, mark_sent: bool) -> int:
    """Print pending one-time-code messages: the reference cloud has no SMS gateway, a pilot relays them."""
    from cloud.otp import OutboxSender

    outbox = OutboxSender(store)
    pending = outbox.pending()
    for message in pending:
        print(f"{message.created_at}  {message.phone}  {message.text}")
    if not pending:
        print("no messages waiting", file=sys.stderr)
    if mark_sent:
        outbox.mark_sent([m.message_id for m in pending])
    return 0


def _check_like_a_kiosk(document: object) -> None:
    """Refuse a config the kiosks would refuse, before any kiosk has to."""
    from cloud.errors import BadConfig
    from kiosk import protocol
    from kiosk.errors import KioskError
    from kiosk.rules.cloud_config import rules_from_cloud

    try:
        rules_from_cloud(protocol.validate_config(document))
    except KioskError as exc:
        raise BadConfig(f"the kiosks would refuse this config: {exc}") from exc


def _serve(args: argparse.Namespace) -> int:
    import waitress

    from cloud.app import create_app

    from cloud.messages import cli as messages_cli
    from cloud.store import CloudStore
    from kiosk.clock import utcnow

    # The configured SMS provider sends one-time codes too; its callbacks are served when the secret file has a
    # webhook secret (docs/messages.md).
    app = create_app(args.db, sms_sender=messages_cli.otp_sender(CloudStore(args.db), args.messages_config,
                                                                  args.secrets))
    engine = messages_cli.engine_for(args.db)
    hooks = messages_cli.hooks_for(engine, args.messages_config, args.secrets, utcnow)
    if hooks is not None:
        app.register_blueprint(hooks)
    app.register_blueprint(messages_cli.status_pages_for(engine, args.messages_config, utcnow))
    print(f"kiosk-cloud serving {args.db} on http://{args.host}:{args.port}/", flush=True)
    waitress.serve(app, host=args.host, port=args.port, threads=args.threads, ident="kiosk-cloud")
    return 0


if __name__ == "__main__":
    sys.exit(main())
