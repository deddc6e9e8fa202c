"""`kioskctl`: the staff and developer command line for a kiosk's database and devices."""
from __future__ import annotations

import argparse
import contextlib
import os
import secrets as pysecrets
import sys
from pathlib import Path
from typing import Callable, Iterator, Sequence

from kiosk import rules
from kiosk.config import Settings, load, load_secrets, write_secrets
from kiosk.errors import KioskError
from kiosk.phones import normalise_phone
from kiosk.service import KioskService
from kiosk.store import Store

DEFAULT_CONFIG = "/etc/kiosk/kiosk.toml"
TECHS = ("rfid125", "nfc", "magstripe", "wiegand", "barcode", "qrtoken")


def config_path(explicit: str | None) -> Path:
    return Path(explicit or os.environ.get("KIOSK_CONFIG") or DEFAULT_CONFIG)


@contextlib.contextmanager
def open_service(settings: Settings) -> Iterator[KioskService]:
    """A service over the store with no readers and no consumer thread: for one-shot commands."""
    secrets = load_secrets(settings.device.secrets_file)
    with Store(settings.database_path, device_id=settings.device.id) as store:
        yield KioskService(store, settings, secrets)


def ensure_secrets(settings: Settings) -> bool:
    """Create the secrets file (chain secret, POS token, branch key) if there is none; True if created.

    A chain's devices must share the chain secret (card hashes) and a branch's the branch key
    (receipt QR codes): provisioning writes those. This is for a single device or the demo.
    """
    path = settings.device.secrets_file
    if path.exists():
        return False
    write_secrets(path, {"chain_secret": pysecrets.token_hex(32), "pos_token": pysecrets.token_urlsafe(24),
                         "branch_key": pysecrets.token_hex(32)})
    return True


# --- commands -------------------------------------------------------------------------


def cmd_init_db(args: argparse.Namespace, settings: Settings) -> int:
    settings.device.data_dir.mkdir(parents=True, exist_ok=True)
    if ensure_secrets(settings):
        print(f"created secrets file {settings.device.secrets_file} (mode 600) with a new chain secret")
    with Store(settings.database_path, device_id=settings.device.id) as store:
        counts = store.counts()
    print(f"database ready at {settings.database_path}: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    return 0


def cmd_member_add(args: argparse.Namespace, settings: Settings) -> int:
    phone = normalise_phone(args.phone, settings.members.default_region)
    with open_service(settings) as service:
        member = service.enroll(phone, args.first_name, args.last_name or "", birthday=args.birthday,
                                consent=args.consent)
        balance = service.store.balance(member.id).points
    print(f"member {member.id} {member.first_name} {member.last_name} {member.phone}: {balance} points")
    return 0


def cmd_card_bind(args: argparse.Namespace, settings: Settings) -> int:
    phone = normalise_phone(args.phone, settings.members.default_region, mobile_only=False)  # a look-up
    with open_service(settings) as service:
        member = service.store.member_by_phone(phone)
        if member is None:
            raise KioskError(f"no member with phone {phone}; add one with `kioskctl member add`")
        card = service.bind(member.id, args.tech, args.card)
    print(f"card {card.label} bound to {member.first_name} {member.last_name}")
    return 0


def cmd_earn(args: argparse.Namespace, settings: Settings) -> int:
    with open_service(settings) as service:
        card = service.member_for_card(args.tech, args.card)
        result = service.earn(card.member_id, args.amount, receipt_id=args.receipt)
    verb = "earned" if result.applied else "already recorded (receipt seen before):"
    print(f"{verb} {result.row.points} points for {args.amount} rial; balance {result.balance} points")
    return 0


def cmd_redeem(args: argparse.Namespace, settings: Settings) -> int:
    with open_service(settings) as service:
        card = service.member_for_card(args.tech, args.card)
        result = service.redeem(card.member_id, args.points)
        credit = rules.credit_rial(args.points, service.rules)
    print(f"redeemed {args.points} points for {credit} rial of purchase credit; balance {result.balance} points")
    return 0


def cmd_balance(args: argparse.Namespace, settings: Settings) -> int:
    with open_service(settings) as service:
        card = service.member_for_card(args.tech, args.card)
        view = service.summary(card.member_id, card=card)
    print(f"{view['first_name']} ({view['card_label']}): {view['points']} points = {view['credit_rial']} rial credit, "
          f"tier {view['tier']}" + (f", {view['points_to_next']} points to {view['next_tier']}" if view["next_tier"] else ""))
    return 0


def cmd_verify(args: argparse.Namespace, settings: Settings) -> int:
    with Store(settings.database_path, device_id=settings.device.id) as store:
        mismatches = store.verify()
        members = store.counts()["members"]
    for member_id, stored, derived in mismatches:
        print(f"MISMATCH member {member_id}: balance row says {stored}, ledger sums to {derived}")
    if mismatches:
        print(f"{len(mismatches)} of {members} balances do not match the ledger", file=sys.stderr)
        return 1
    print(f"ok: all {members} balances match the ledger")
    return 0


def cmd_tap(args: argparse.Namespace, settings: Settings) -> int:
    from drivers.emulated.control import send_tap

    send_tap(settings.control_socket, args.uid, kind=args.kind)
    print(f"tapped the emulated {args.kind} reader")  # echo no card data: it may be a bank card
    return 0


# --- parser ---------------------------------------------------------------------------


def _card_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--card", required=True, metavar="UID", help="the card's UID as the reader reports it")
    p.add_argument("--tech", default="rfid125", choices=TECHS, help="how the card is read (default: rfid125)")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{value} must be more than zero")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kioskctl", description="Manage a loyalty kiosk's database and devices.")
    parser.add_argument("--config", help=f"config file (default: $KIOSK_CONFIG or {DEFAULT_CONFIG})")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("init-db", help="create the data directory, database and secrets file")
    p.set_defaults(func=cmd_init_db)

    member = sub.add_parser("member", help="manage members").add_subparsers(dest="member_cmd", required=True)
    p = member.add_parser("add", help="enrol a member")
    p.add_argument("--phone", required=True)
    p.add_argument("--first-name", required=True)
    p.add_argument("--last-name")
    p.add_argument("--birthday", help="YYYY-MM-DD")
    p.add_argument("--consent", action="store_true", help="the member agreed to receive messages")
    p.set_defaults(func=cmd_member_add)

    card = sub.add_parser("card", help="manage cards").add_subparsers(dest="card_cmd", required=True)
    p = card.add_parser("bind", help="bind a card to a member")
    p.add_argument("--phone", required=True, help="the member's phone number")
    _card_args(p)
    p.set_defaults(func=cmd_card_bind)

    p = sub.add_parser("earn", help="earn points for a purchase")
    _card_args(p)
    p.add_argument("--amount", required=True, type=_positive_int, metavar="RIAL", help="purchase amount in rial")
    p.add_argument("--receipt", help="receipt id; the same receipt earns once")
    p.set_defaults(func=cmd_earn)

    p = sub.add_parser("redeem", help="turn points into purchase credit")
    _card_args(p)
    p.add_argument("--points", required=True, type=_positive_int)
    p.set_defaults(func=cmd_redeem)

    p = sub.add_parser("balance", help="show a card's balance and tier")
    _card_args(p)
    p.set_defaults(func=cmd_balance)

    p = sub.add_parser("verify", help="recompute every balance from the ledger; exit 1 on a mismatch")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("tap", help="tap a card on the emulated reader of a running demo")
    p.add_argument("uid", help="card UID, e.g. 0A1B2C3D4E for the RDM6300 emulator")
    p.add_argument("--kind", default="rdm6300", help="which emulated reader (default: rdm6300)")
    p.set_defaults(func=cmd_tap)

    from appliance.cli.sync import add_sync_commands

    add_sync_commands(sub)

    from appliance.cli import doctor as doctor_cli
    from appliance.cli import provision as provision_cli

    # These two run without loading the kiosk config: provision runs on the staff machine,
    # and doctor must report a broken config rather than stop at it.
    p = sub.add_parser("provision", help="provision a branch's kiosks over SSH with the Ansible playbook")
    provision_cli.add_arguments(p)
    p.set_defaults(standalone=provision_cli.provision)
    p = sub.add_parser("doctor", help="check readers, disk, clock, cloud and file permissions, with a fix for each")
    p.set_defaults(standalone=doctor_cli.doctor)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    standalone = getattr(args, "standalone", None)
    if standalone is not None:
        return standalone(args)
    func: Callable[[argparse.Namespace, Settings], int] = args.func
    try:
        settings = load(config_path(args.config))
        return func(args, settings)
    except KioskError as exc:
        print(f"kioskctl: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # drivers' errors and the like: say it plainly, no traceback for staff
        from drivers.errors import DriverError

        if isinstance(exc, DriverError):
            print(f"kioskctl: error: {exc}", file=sys.stderr)
            return 2
        raise


if __name__ == "__main__":
    sys.exit(main())
