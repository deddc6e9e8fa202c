"""`kiosk-cloud jobs run` and `kiosk-cloud messages ...`, registered by cloud/cli.py.

    kiosk-cloud jobs run            import new enrolments, queue today's greetings, draw winners' texts and the
                                    console's campaigns now due, send what is due
    kiosk-cloud messages status     queue counts by state and the gateway's pause, if any
    kiosk-cloud messages drain      send what is due now (without the automations)

Settings: --messages-config (or $KIOSK_CLOUD_MESSAGES), secrets: --secrets (or $KIOSK_CLOUD_SECRETS, 0600).
"""

from __future__ import annotations

import argparse
import os
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from cloud.messages import tables
from cloud.messages.automations import run_automations
from cloud.messages.contacts import import_enrolments
from cloud.messages.gateways import Gateway, OtpSender
from cloud.messages.queue import MessageQueue
from cloud.messages.settings import MessageSettings, Secrets, build_gateway, load_secrets, load_settings

if TYPE_CHECKING:
    from flask import Blueprint

    from cloud.db import Database
    from cloud.store import CloudStore

COMMANDS = ("jobs", "messages")
SETTINGS_ENV, SECRETS_ENV = "KIOSK_CLOUD_MESSAGES", "KIOSK_CLOUD_SECRETS"


def _files(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--messages-config", type=Path, default=os.environ.get(SETTINGS_ENV),
                        help=f"message settings TOML (default: ${SETTINGS_ENV}; none: built-in texts, outbox)")
    parser.add_argument("--secrets", type=Path, default=os.environ.get(SECRETS_ENV),
                        help=f"secret file (0600) with the gateway key and webhook secret (default: ${SECRETS_ENV})")


def add_commands(commands: argparse._SubParsersAction) -> None:
    # `serve` sends codes through the provider and serves its callbacks, so it reads the same two files.
    _files(commands.choices["serve"])
    jobs = commands.add_parser("jobs", help="scheduled work (run it from a systemd timer, see docs/messages.md)")
    jobs_commands = jobs.add_subparsers(dest="jobs_command", required=True)
    _files(jobs_commands.add_parser("run", help="import enrolments, queue greetings, send what is due"))
    messages = commands.add_parser("messages", help="the member message queue")
    message_commands = messages.add_subparsers(dest="messages_command", required=True)
    _files(message_commands.add_parser("status", help="queue counts by state and the gateway's state"))
    _files(message_commands.add_parser("drain", help="send what is due now"))
    campaign = message_commands.add_parser("campaign", help="count, cost and (with --send) queue a campaign")
    _files(campaign)
    campaign.add_argument("--name", required=True, help="campaign name; resending it texts nobody twice")
    who = campaign.add_mutually_exclusive_group(required=True)
    who.add_argument("--segment", help="an RFM segment (kiosk/rules/segments.py), e.g. champions, at_risk")
    who.add_argument("--members", help="comma-separated member ids")
    who.add_argument("--tier", help="a tier name of the branch configs, e.g. gold")
    who.add_argument("--phones", help="comma-separated mobile numbers of members (09..., +98...)")
    campaign.add_argument("--text", action="append", required=True, metavar="LANG=TEXT",
                          help="the text per language (fa, ar, en), with {first_name}, {points}, {club}")
    campaign.add_argument("--at", help="send at this ISO 8601 time with offset (default: now); with --send the"
                          " campaign is saved and the first `jobs run` after that time queues it")
    campaign.add_argument("--coupon", help="the coupon code the campaign gives, for {coupon} in the text")
    campaign.add_argument("--cost-per-part", type=int,
                          help="rial per SMS part, for the estimate (default: messages.cost_per_part_rial)")
    campaign.add_argument("--send", action="store_true", help="queue it (without: only count and cost)")


def engine_for(db: "Database") -> Engine:
    """The cloud database's engine for the message modules (their tables are in its schema, revision 0003).

    Every transaction on it is a write transaction: on SQLite that is BEGIN IMMEDIATE, so two `jobs run`
    processes claiming queued rows never both read before either writes (PostgreSQL uses SKIP LOCKED).
    """
    return db.engine.execution_options(cloud_write=True)


def gateway_for(store: "CloudStore", settings: MessageSettings, secrets: Secrets) -> Gateway:
    from cloud.otp import OutboxSender

    return build_gateway(settings, secrets, OutboxSender(store).send)


def otp_sender(store: "CloudStore", settings_path: Path | None, secrets_path: Path | None) -> OtpSender | None:
    """The configured provider as the one-time-code sender; None keeps the code outbox (no provider)."""
    settings = load_settings(settings_path)
    if settings.gateway["kind"] == "outbox":
        return None
    return OtpSender(gateway_for(store, settings, load_secrets(secrets_path)), lambda: f"otp-{uuid.uuid4().hex}")


def hooks_for(engine: Engine, settings_path: Path | None, secrets_path: Path | None,
              clock: Callable[[], datetime]) -> "Blueprint | None":
    """The provider callback endpoints, or None when the secret file names no webhook secret."""
    from cloud.messages.webhook import hooks_blueprint

    secrets = load_secrets(secrets_path)
    if not secrets.webhook_secret:
        return None
    return hooks_blueprint(engine, load_settings(settings_path), secrets.webhook_secret, clock)


def status_pages_for(engine: Engine, settings_path: Path | None, clock: Callable[[], datetime]) -> "Blueprint":
    """The member pages the status links open (/m/<code>)."""
    from cloud.messages.status_page import status_blueprint

    return status_blueprint(engine, load_settings(settings_path), clock)


def run(args: argparse.Namespace, store: "CloudStore") -> int:
    settings = load_settings(args.messages_config)
    secrets = load_secrets(args.secrets)
    engine = engine_for(store.db)
    queue = MessageQueue(engine, settings, clock=store.clock)
    if args.command == "messages" and args.messages_command == "status":
        for state, count in queue.counts().items():
            print(f"{state}={count}")
        with engine.connect() as conn:
            for row in conn.execute(sa.select(tables.gateway_state)).all():
                print(f"gateway {row.gateway}: paused until {row.paused_until or '-'}, failures {row.failures}"
                      f"{', last error: ' + row.last_error if row.last_error else ''}")
        return 0
    if args.command == "messages" and args.messages_command == "campaign":
        return _campaign(args, engine, queue, settings, store)
    gateway = gateway_for(store, settings, secrets)
    if args.command == "jobs":
        print(f"enrolments_imported={import_enrolments(engine)}")
        report = run_automations(engine, queue, settings, store.clock())
        print(f"birthday_queued={report.birthday}\noccasions_queued={report.occasions}\n"
              f"anniversary_queued={report.anniversary}\nlapsed_queued={report.lapsed}\n"
              f"tier_queued={report.tier}\nexpiring_queued={report.expiring}\ncoupon_queued={report.coupon}")
        from cloud.messages.draw_texts import queue_winner_texts
        from cloud.messages.scheduled import queue_due

        print(f"draw_win_queued={queue_winner_texts(engine, queue, settings, store.clock())}")
        print(f"campaign_queued={queue_due(engine, queue, settings, store.clock())}")
    from cloud.complaints import queue_tracking_texts  # complaints' tracking codes (docs/engagement.md)

    print(f"complaint_texts_queued={queue_tracking_texts(engine, queue, settings.club, settings.default_language)}")
    drained = queue.drain(gateway)
    print(f"sent={drained.sent}\nfailed={drained.failed}\ndeferred={drained.deferred}\n"
          f"unconfirmed={drained.unconfirmed}")
    if drained.paused_until is not None:
        print(f"gateway {gateway.name} paused until {drained.paused_until.isoformat()}: {drained.last_error}")
    return 0


def _campaign(args: argparse.Namespace, engine: Engine, queue: MessageQueue, settings: MessageSettings,
              store: "CloudStore") -> int:
    from cloud.messages import campaigns
    from kiosk import protocol

    texts = {}
    for item in args.text:
        language, sep, text = item.partition("=")
        if not sep:
            raise campaigns.BadCampaign(f"--text {item!r}: write LANG=TEXT, e.g. fa=سلام {{first_name}}")
        texts[language.strip()] = text
    from cloud.messages.audiences import parse_phones

    phones, bad = parse_phones((args.phones or "").split(","))
    if bad:
        raise campaigns.BadCampaign(f"--phones: not mobile numbers: {', '.join(bad)}")
    campaign = campaigns.Campaign(args.name, texts, segment=args.segment, tier=args.tier, phones=tuple(phones),
                                  member_ids=tuple(m.strip() for m in (args.members or "").split(",") if m.strip()),
                                  coupon=args.coupon)
    at = None
    if args.at:
        try:
            at = protocol.parse_time(args.at)
        except protocol.ProtocolError as exc:
            raise campaigns.BadCampaign(f"--at: {exc}") from None
    import_enrolments(engine)  # count today's members, not those of the last `jobs run`
    now = store.clock()
    price = args.cost_per_part if args.cost_per_part is not None else settings.cost_per_part_rial
    shown = campaigns.preview(engine, campaign, settings, now, price, at)
    print(f"recipients={shown.recipients}\nparts={shown.parts}")
    for language in shown.by_language:  # the console's per-language split: each text's own parts and encoding
        print(f"recipients_{language.language}={language.recipients}\nparts_{language.language}={language.parts}\n"
              f"encoding_{language.language}={language.encoding}")
    if shown.cost_rial is not None:
        print(f"cost_rial={shown.cost_rial}")
    if args.send and at is not None and at > now:
        # Saved as the console saves it: the first `jobs run` after `at` picks the audience and queues it, so
        # whoever opts out meanwhile is not texted.
        from cloud.messages import scheduled

        campaign_id = scheduled.save(engine, campaign, at, actor="kiosk-cloud messages campaign", now=now)
        print(f"scheduled={campaign_id}\nsend_at={protocol.format_time(at)}")
    elif args.send:
        print(f"queued={campaigns.send(engine, queue, campaign, settings, now)}")
    return 0
