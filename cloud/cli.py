"""`kiosk-cloud`: run the reference cloud and administer it (migrations, users, tokens, branch config)."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING

from cloud.errors import CloudError

if TYPE_CHECKING:
    from cloud.store import CloudStore

DB_ENV = "KIOSK_CLOUD_DB"
PASSWORD_ENV = "KIOSK_CLOUD_PASSWORD"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk-cloud", description="Reference cloud endpoint for loyalty kiosks.")
    parser.add_argument(
        "--db", "--database", dest="db", default=os.environ.get(DB_ENV),
        help=f"a SQLite file (created if missing) or a postgresql://user@host/name URL (default: ${DB_ENV})",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the HTTP API and the console with waitress")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8700, help="0 picks a free port (printed)")
    serve.add_argument("--threads", type=int, default=4)
    serve.add_argument("--silent-after-minutes", type=float, default=30,
                       help="the console flags a device not heard from for longer (default 30)")
    serve.add_argument("--backlog-after-minutes", type=float, default=30,
                       help="the console flags a device whose oldest undelivered event is older (default 30)")

    commands.add_parser("migrate", help="bring the database to the newest schema (safe to run twice)")

    token = commands.add_parser("token", help="one-time branch enrollment tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    create = token_commands.add_parser("create", help="print a new one-time token for a branch")
    create.add_argument("--branch", required=True)
    create.add_argument("--valid-hours", type=float, default=24 * 7)

    config = commands.add_parser("config", help="branch loyalty config (rules, tiers, rewards, campaigns)")
    config_commands = config.add_subparsers(dest="config_command", required=True)
    config_set = config_commands.add_parser("set", help="store a branch's config from a JSON file")
    config_set.add_argument("--branch", required=True)
    config_set.add_argument("--file", required=True)
    config_show = config_commands.add_parser("show", help="print a branch's config and ETag")
    config_show.add_argument("--branch", required=True)

    commands.add_parser("devices", help="list registered devices")

    user = commands.add_parser("user", help=f"console users (the password is asked, or read from ${PASSWORD_ENV})")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    add = user_commands.add_parser("add", help="add a console user")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=("admin", "marketer", "branch_manager"))
    add.add_argument("--branch", action="append", default=[], help="a branch manager's branch (repeat for more)")
    passwd = user_commands.add_parser("passwd", help="set a user's password (ends their sessions, lifts a lockout)")
    passwd.add_argument("username")
    disable = user_commands.add_parser("disable", help="stop a user from logging in (ends their sessions)")
    disable.add_argument("username")
    user_commands.add_parser("list", help="list console users")

    segments = commands.add_parser("segments", help="recompute RFM segments and A/B/C value classes now")
    segments.add_argument("--quiet", action="store_true")

    sms = commands.add_parser("sms", help="the reference SMS sender's outbox (one-time codes)")
    sms_commands = sms.add_subparsers(dest="sms_command", required=True)
    outbox = sms_commands.add_parser("outbox", help="print the text messages waiting to be sent")
    outbox.add_argument("--mark-sent", action="store_true", help="mark the printed messages as sent")
    from cloud.messages import cli as messages_cli  # jobs and messages commands (docs/messages.md)
    messages_cli.add_commands(commands)
    _add_segment_job(commands)
    from cloud import draws_cli  # draws verify / publish / run (docs/draws.md)
    draws_cli.add_commands(commands)
    return parser


def _add_segment_job(commands: argparse._SubParsersAction) -> None:
    """`kiosk-cloud jobs segments`, beside the message jobs: what the segments timer runs (systemd/)."""
    jobs = commands.choices["jobs"]
    job_commands = next(a for a in jobs._actions if isinstance(a, argparse._SubParsersAction))
    job_commands.add_parser("segments", help="recompute RFM segments and A/B/C classes (audited; for a timer)")


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "draws" and args.draws_command == "verify":
        from cloud import draws_cli  # anyone may check a published draw: no database needed

        return draws_cli.verify_file(args.file)
    if args.db is None:
        print(f"kiosk-cloud: no database given; pass --db PATH (or a postgresql:// URL) or set {DB_ENV}",
              file=sys.stderr)
        return 2
    # Imported late so `kiosk-cloud --help` works without touching the database.
    from cloud.store import CloudStore

    try:
        if args.command == "serve":
            return _serve(args)
        with CloudStore(args.db) as store:
            return _command(args, store)
    except CloudError as exc:
        print(f"kiosk-cloud: {exc}", file=sys.stderr)
        return 1


def _command(args: argparse.Namespace, store: "CloudStore") -> int:
    from cloud.store import load_config_file

    if args.command == "jobs" and args.jobs_command == "segments":
        return _segment_job(store)
    if args.command in ("jobs", "messages"):
        from cloud.messages import cli as messages_cli

        return messages_cli.run(args, store)
    if args.command == "draws":
        from cloud import draws_cli

        return draws_cli.run(args, store)
    if args.command == "migrate":
        from cloud.db import current_revision

        print(f"database {store.db} is at schema revision {current_revision(store.db)}")
    elif args.command == "token":
        print(store.create_token(args.branch, timedelta(hours=args.valid_hours)))
    elif args.command == "config" and args.config_command == "set":
        from cloud import surveys

        document = surveys.with_chain_surveys(store, load_config_file(args.file))
        _check_like_a_kiosk(document)
        saved = store.set_config(args.branch, document, actor="kiosk-cloud")
        print(f"config for branch {saved.branch} saved, ETag {saved.etag}, "
              f"with the chain's {len(document.get('surveys', []))} survey(s)")
    elif args.command == "config":
        shown = store.config(args.branch)
        if shown is None:
            print(f"kiosk-cloud: branch {args.branch!r} has no config; use `config set`", file=sys.stderr)
            return 1
        print(f"ETag: {shown.etag}")
        print(json.dumps(json.loads(shown.body), indent=2, ensure_ascii=False))
    elif args.command == "sms":
        return _sms_outbox(store, mark_sent=args.mark_sent)
    elif args.command == "user":
        return _user(args, store)
    elif args.command == "segments":
        from cloud.analytics import recompute

        run = recompute(store.db, store.clock())
        if not args.quiet:
            print(f"{run.members} members scored; top {run.top_count} bring {run.top_share_percent}% of spend")
    else:
        for device in store.devices():
            print(f"{device.device_id}  {device.branch:<16} {device.name:<20} "
                  f"last seen {device.last_seen_at or 'never'}  events {device.events_count}")
    return 0


def _segment_job(store: "CloudStore") -> int:
    from cloud.analytics import recompute_audited

    run = recompute_audited(store.db, store.clock(), actor="kiosk-cloud jobs")
    print(f"segments_members={run.members}\ntop_count={run.top_count}\ntop_share_percent={run.top_share_percent}")
    return 0


def _password() -> str:
    if os.environ.get(PASSWORD_ENV):
        return os.environ[PASSWORD_ENV]
    first = getpass.getpass("new password: ")
    if getpass.getpass("again: ") != first:
        raise CloudError("the two passwords differ; nothing changed")
    return first


def _user(args: argparse.Namespace, store: "CloudStore") -> int:
    from cloud.users import UserStore

    users = UserStore(store.db, store.clock)
    if args.user_command == "add":
        added = users.add(args.username, _password(), args.role, args.branch)
        print(f"user {added.username} added as {added.role}"
              + (f" of {', '.join(sorted(added.branches))}" if added.branches else ""))
    elif args.user_command == "passwd":
        users.set_password(args.username, _password())
        print(f"password of {args.username} changed; their open sessions have ended")
    elif args.user_command == "disable":
        users.set_disabled(args.username, True)
        print(f"user {args.username} disabled; their open sessions have ended")
    else:
        for user in users.all():
            print(f"{user.username:<20} {user.role:<15} {','.join(sorted(user.branches)) or '-':<20}"
                  f" {'disabled' if user.disabled else 'active'}")
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
    from waitress.server import create_server

    from cloud.app import create_app

    from cloud.messages import cli as messages_cli
    from cloud.store import CloudStore
    from kiosk.clock import utcnow

    # The configured SMS provider sends one-time codes too; its callbacks are served when the secret file has a
    # webhook secret (docs/messages.md).
    with CloudStore(args.db) as sender_store:
        sms_sender = messages_cli.otp_sender(sender_store, args.messages_config, args.secrets)
    app = create_app(args.db, silent_after=timedelta(minutes=args.silent_after_minutes),
                     backlog_after=timedelta(minutes=args.backlog_after_minutes), sms_sender=sms_sender,
                     messages_config=args.messages_config)
    engine = messages_cli.engine_for(app.extensions["cloud_store"].db)
    hooks = messages_cli.hooks_for(engine, args.messages_config, args.secrets, utcnow)
    if hooks is not None:
        app.register_blueprint(hooks)
    app.register_blueprint(messages_cli.status_pages_for(engine, args.messages_config, utcnow))
    # Bound before the line is printed, so --port 0 prints the port it got.
    server = create_server(app, host=args.host, port=args.port, threads=args.threads, ident="kiosk-cloud")
    print(f"kiosk-cloud serving {app.extensions['cloud_store'].db} on http://{args.host}:{server.effective_port}/",
          flush=True)
    server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
