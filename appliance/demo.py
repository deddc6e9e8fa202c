"""`make demo`: a kiosk with emulated readers and a few members, on http://127.0.0.1:8080/."""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from appliance.cli.kioskctl import ensure_secrets, open_service
from kiosk.config import Settings, load, load_secrets
from kiosk.errors import KioskError
from appliance.daemon import configure_logging, wait_for_stop
from appliance.runtime import Runtime

DEMO_CONFIG = """\
# Written by `make demo`; edit freely, delete the folder to start over.
[device]
id = "demo-kiosk"
branch = "demo-branch"
data_dir = "."
secrets_file = "secrets.toml"

[web]
host = "127.0.0.1"
port = {port}
language = "fa"
idle_timeout_s = 20

[[readers]]
uri = "emulated:rdm6300"
id = "counter"

[[readers]]
uri = "emulated:magstripe"
id = "swipe"

[[readers]]
uri = "emulated:pn532"
id = "nfc"

[[readers]]
uri = "emulated:barcode"
id = "scanner"

[[readers]]
uri = "emulated:wiegand"
id = "wiegand"

[members]
default_region = "IR"

[cloud]
url = "http://127.0.0.1:{cloud_port}"
sync_interval_s = 2.0
"""
CLOUD_CONFIG = Path(__file__).resolve().parent.parent / "docs" / "cloud-config.example.json"


@dataclass(frozen=True)
class DemoCard:
    uid: str
    first_name: str
    last_name: str
    phone: str
    purchases: tuple[int, ...]
    state: str = "active"


DEMO_CARDS = (
    DemoCard("0A1B2C3D4E", "سارا", "احمدی", "09121112233", (2_500_000, 4_800_000, 3_200_000)),
    DemoCard("1122334455", "علی", "رضایی", "09353334455", (25_000_000, 18_000_000, 9_000_000, 12_500_000)),
    DemoCard("5566778899", "Layla", "Haddad", "09194445566", (650_000,)),
    DemoCard("99AABBCCDD", "سارا", "احمدی", "09121112233", (), state="lost"),
)
UNKNOWN_UID = "0000C0FFEE"
DEMO_REWARDS = (("coffee", "Free coffee", 200), ("voucher10", "10% off voucher", 500), ("tote", "Club tote bag", 1500))


def start_cloud(data_dir: Path, port: int):
    """The reference cloud beside the kiosk, bound before the kiosk's config names its port (0: any free one)."""
    from cloud.app import create_app
    from appliance.web_server import WebServer

    data_dir.mkdir(parents=True, exist_ok=True)
    return WebServer(create_app(data_dir / "cloud.sqlite"), port=port, ident="kiosk-cloud").start()


def register_device(settings: Settings, data_dir: Path, cloud_url: str) -> None:
    """The demo device registered with the cloud and its branch configured; a moved cloud port is followed."""
    from cloud.store import CloudStore, load_config_file
    from kiosk.sync.client import CloudClient
    from kiosk.sync.files import Credentials, load_credentials, save_credentials
    from kiosk.sync.setup import credentials_path

    cloud_store = CloudStore(data_dir / "cloud.sqlite")
    if cloud_store.config(settings.device.branch) is None and CLOUD_CONFIG.exists():
        cloud_store.set_config(settings.device.branch, load_config_file(CLOUD_CONFIG))
    creds = credentials_path(settings)
    if creds.exists():
        known = load_credentials(creds)
        if known.cloud_url != cloud_url:
            save_credentials(creds, Credentials(cloud_url, known.device_id, known.device_key, known.branch))
        return
    token = cloud_store.create_token(settings.device.branch)
    with CloudClient(cloud_url) as client:
        reg = client.register(token, name=settings.device.id)
    save_credentials(creds, Credentials(cloud_url, reg.device_id, reg.device_key, reg.branch))


def prepare_console(data_dir: Path):
    """The console's demo login and generated chain (appliance/demo_cloud.py), segments fresh at every start."""
    from appliance import demo_cloud
    from cloud import analytics
    from cloud.store import CloudStore

    with CloudStore(data_dir / "cloud.sqlite") as cloud_store:
        login = demo_cloud.ensure_login(cloud_store, data_dir / "console-login.txt")
        if not demo_cloud.seed_chain(cloud_store, cloud_store.clock(), CLOUD_CONFIG):
            analytics.recompute(cloud_store.db, cloud_store.clock())
    return login


def prepare(data_dir: Path, port: int, cloud_port: int = 8700) -> Settings:
    """Write the demo config (each run: it names this run's ports), secrets and members once; later runs
    keep what the demo changed in its database."""
    data_dir.mkdir(parents=True, exist_ok=True)
    config_file = data_dir / "kiosk.toml"
    config_file.write_text(DEMO_CONFIG.format(port=port or 8080, cloud_port=cloud_port), encoding="utf-8")
    settings = load(config_file)
    ensure_secrets(settings)
    with open_service(settings) as service:
        if service.store.counts()["members"] == 0:
            seed(service)
    return settings


def seed(service) -> None:
    from kiosk.phones import normalise_phone

    for reward_id, name, cost in DEMO_REWARDS:
        service.store.upsert_reward(reward_id, name, cost)
    for card in DEMO_CARDS:
        phone = normalise_phone(card.phone, service.settings.members.default_region)
        member = service.store.member_by_phone(phone) or service.enroll(phone, card.first_name, card.last_name,
                                                                         consent=True)
        service.bind(member.id, "rfid125", card.uid)
        for i, amount in enumerate(card.purchases):
            service.earn(member.id, amount, receipt_id=f"demo-{card.uid}-{i}")
        if card.state != "active":
            service.store.set_card_state(service.card_ref_for("rfid125", card.uid), card.state)


def describe(settings: Settings) -> str:
    lines = ["Demo cards (tap them from a second terminal):"]
    with open_service(settings) as service:
        for card in DEMO_CARDS:
            ref = service.card_ref_for("rfid125", card.uid)
            stored = service.store.card(ref)
            if stored is None:
                continue
            view = service.summary(stored.member_id, card=stored)
            lines.append(f"  {card.uid}  {card.first_name} {card.last_name:<8}  {view['points']:>6} points  "
                         f"{view['credit_rial']:>10} rial credit  {view['tier']:<8}  card {stored.state}")
    lines.append(f"  {UNKNOWN_UID}  (not a member: shows the join offer)")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kiosk-demo", description="Run the kiosk with emulated readers.")
    parser.add_argument("--data-dir", type=Path, default=Path("var/demo"))
    parser.add_argument("--port", type=int, default=8080, help="the kiosk page's port (0: any free one)")
    parser.add_argument("--cloud-port", type=int, default=8700, help="the reference cloud's port (0: any free one)")
    args = parser.parse_args(argv)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    configure_logging(args.data_dir / "kiosk.log", "WARNING")
    try:
        with start_cloud(args.data_dir, args.cloud_port) as cloud:
            settings = prepare(args.data_dir, args.port, cloud.port)
            register_device(settings, args.data_dir, cloud.url)
            login = prepare_console(args.data_dir)
            secrets = load_secrets(settings.device.secrets_file)
            print(describe(settings))
            with Runtime(settings, secrets, port=args.port) as runtime:
                ctl = f".venv/bin/kioskctl --config {settings.path}"
                print(f"\nThe kiosk is running: open {runtime.url} in a browser.")
                print(f"Tap a card from a second terminal:  {ctl} tap 0A1B2C3D4E")
                print(f"Swipe a bank card (it is refused):  {ctl} tap --kind magstripe '%B4111111111111111^TEST/CARD^28121010000000000?'")
                print(f"Check a balance:                    {ctl} balance --card 0A1B2C3D4E")
                print(f"POS tap to earn (docs/pos-api.yaml): the till's token is pos_token in {settings.device.secrets_file}")
                print(f"Cloud sync:                         {ctl} sync status   (reference cloud on {cloud.url}/)")
                print(f"Club console:                       {cloud.url}/login  user {login.username}  "
                      f"password {login.password}")
                print("Stop with Ctrl-C.", flush=True)
                wait_for_stop()
    except KioskError as exc:
        print(f"demo: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
