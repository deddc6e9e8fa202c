"""One TOML file loaded into typed, frozen settings, validated at load.

Every error names the key, the bad value and what is allowed, because the
person reading it is a shop technician at a terminal, not the author.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from kiosk.errors import ConfigError
from kiosk.private_files import require_private, write_atomic
from kiosk.rules.config import LoyaltyRules, rules_from_mapping

LANGUAGES = ("fa", "ar", "en")


@dataclass(frozen=True)
class DeviceSettings:
    id: str
    branch: str
    data_dir: Path
    secrets_file: Path
    timezone: str = "Asia/Tehran"


@dataclass(frozen=True)
class WebSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    language: str = "fa"
    idle_timeout_s: int = 20
    calendar: str = "jalali"
    # Listening beyond loopback (for the tills) must be asked for by name; the network then reaches /pos/v1 only.
    open_to_network: bool = False
    # Where the card reader sits, seen from the shopper: the idle screen's arrow points there.
    reader_position: str = "below"


@dataclass(frozen=True)
class ReaderSettings:
    uri: str
    id: str
    debounce_s: float = 1.0


@dataclass(frozen=True)
class MemberSettings:
    default_region: str = "IR"
    consent_version: str = "2026-01"


@dataclass(frozen=True)
class CardSettings:
    """What the chain's own cards look like on magstripe and barcode readers."""

    magstripe_track: int = 2
    magstripe_pattern: str = r"(?P<id>\d{6,19})"
    magstripe_lrc: bool = False
    magstripe_enter_per_track: bool = False
    barcode_pattern: str = r"(?P<id>[0-9]{6,32})"
    swipe_timeout_s: float = 0.5
    digital_cards: bool = True


@dataclass(frozen=True)
class CloudSettings:
    url: str = ""
    ca_file: Path | None = None
    connect_timeout_s: float = 3.0
    read_timeout_s: float = 10.0
    sync_interval_s: float = 5.0


@dataclass(frozen=True)
class StaffSettings:
    timeout_s: int = 60
    max_attempts: int = 5
    lockout_s: int = 300
    # staff id -> card_ref (HMAC of the staff card, printed by `kioskctl card-ref`-style tooling), never a raw UID
    cards: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class PosSettings:
    enabled: bool = True
    pending_timeout_s: int = 120


@dataclass(frozen=True)
class EnrollmentSettings:
    sms_otp: bool = False
    # The sign-up screens' idle time-out: typing a number and a name takes longer than reading a balance.
    timeout_s: int = 60


@dataclass(frozen=True)
class ReceiptSettings:
    max_age_s: int = 7 * 24 * 3600


@dataclass(frozen=True)
class BrandingSettings:
    name: str = "Loyalty club"
    tagline: str = ""
    help_text: str = ""


@dataclass(frozen=True)
class Settings:
    path: Path
    device: DeviceSettings
    web: WebSettings = field(default_factory=WebSettings)
    readers: tuple[ReaderSettings, ...] = ()
    members: MemberSettings = field(default_factory=MemberSettings)
    loyalty: LoyaltyRules = field(default_factory=LoyaltyRules)
    cloud: CloudSettings = field(default_factory=CloudSettings)
    cards: CardSettings = field(default_factory=CardSettings)
    # Validated by the gpiozero builders in drivers.gpio.feedback / drivers.gpio.motion at start.
    feedback: Mapping[str, Any] = field(default_factory=dict)
    motion: Mapping[str, Any] = field(default_factory=dict)
    staff: StaffSettings = field(default_factory=StaffSettings)
    pos: PosSettings = field(default_factory=PosSettings)
    enrollment: EnrollmentSettings = field(default_factory=EnrollmentSettings)
    receipts: ReceiptSettings = field(default_factory=ReceiptSettings)
    branding: BrandingSettings = field(default_factory=BrandingSettings)

    @property
    def database_path(self) -> Path:
        return self.device.data_dir / "kiosk.db"

    @property
    def control_socket(self) -> Path:
        """Unix socket of the emulated readers, used by ``kioskctl tap``."""
        return self.device.data_dir / "emulator.sock"


# --- validation helpers: small and explicit rather than a schema library ---

Check = Callable[[str, Any], Any]


def _fail(key: str, value: Any, allowed: str) -> ConfigError:
    return ConfigError(f"{key} = {value!r} is not allowed: {allowed}")


def _int(low: int, high: int | None = None) -> Check:
    def check(key: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(key, value, f"an integer >= {low}" + (f" and <= {high}" if high is not None else ""))
        if value < low or (high is not None and value > high):
            raise _fail(key, value, f"an integer >= {low}" + (f" and <= {high}" if high is not None else ""))
        return value

    return check


def _number(low: float, high: float) -> Check:
    def check(key: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise _fail(key, value, f"a number from {low} to {high}")
        return float(value)

    return check


def _text(nonempty: bool = True) -> Check:
    def check(key: str, value: Any) -> str:
        if not isinstance(value, str) or (nonempty and not value.strip()):
            raise _fail(key, value, "a non-empty string" if nonempty else "a string")
        return value

    return check


def _bool(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _fail(key, value, "true or false")
    return value


def _regex(key: str, value: Any) -> str:
    import re

    _text()(key, value)
    try:
        re.compile(value)
    except re.error as exc:
        raise _fail(key, value, f"a valid regular expression ({exc})") from None
    return value


def _timezone(key: str, value: Any) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    _text()(key, value)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise _fail(key, value, "an IANA time zone name such as \"Asia/Tehran\" or \"Asia/Dubai\"") from None
    return value


def _choice(*options: str) -> Check:
    def check(key: str, value: Any) -> str:
        if value not in options:
            raise _fail(key, value, "one of " + ", ".join(repr(o) for o in options))
        return value

    return check


def _staff_cards(key: str, value: Any) -> tuple[tuple[str, str], ...]:
    """A table staff_id = "card_ref" (64 hex characters, the HMAC a tap resolves to)."""
    if not isinstance(value, Mapping):
        raise _fail(key, value, 'a table such as { alice = "<64 hex characters of the card_ref>" }')
    pairs = []
    for staff_id, ref in value.items():
        if not isinstance(ref, str) or len(ref) != 64 or any(c not in "0123456789abcdef" for c in ref):
            raise _fail(f"{key}.{staff_id}", ref, "the card's card_ref: 64 lowercase hex characters")
        pairs.append((staff_id, ref))
    return tuple(pairs)


def _section(raw: Mapping[str, Any], name: str, checks: Mapping[str, Check]) -> dict[str, Any]:
    """Validate one table: reject unknown keys, check each known one."""
    if not isinstance(raw, Mapping):
        raise _fail(name, raw, "a table")
    unknown = sorted(set(raw) - set(checks))
    if unknown:
        raise ConfigError(
            f"unknown key {name}.{unknown[0]}; allowed keys in [{name}]: {', '.join(sorted(checks))}"
        )
    return {k: checks[k](f"{name}.{k}", v) for k, v in raw.items()}


def _resolve(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base / path)


def parse(raw: Mapping[str, Any], path: Path) -> Settings:
    """Turn parsed TOML into :class:`Settings`; pure apart from path arithmetic."""
    base = path.parent
    top = {"device", "web", "readers", "members", "loyalty", "cloud", "cards", "feedback", "motion",
           "staff", "pos", "enrollment", "receipts", "branding"}
    unknown = sorted(set(raw) - top)
    if unknown:
        raise ConfigError(f"unknown section [{unknown[0]}]; allowed sections: {', '.join(sorted(top))}")
    if "device" not in raw:
        raise ConfigError("missing section [device]: it needs at least id and branch")
    device = _section(
        raw["device"],
        "device",
        {"id": _text(), "branch": _text(), "data_dir": _text(), "secrets_file": _text(), "timezone": _timezone},
    )
    for key in ("id", "branch"):
        if key not in device:
            raise ConfigError(f"missing key device.{key}: every kiosk needs a {key}")
    data_dir = _resolve(base, device.get("data_dir", "/var/lib/kiosk"))
    device_settings = DeviceSettings(
        id=device["id"],
        branch=device["branch"],
        data_dir=data_dir,
        secrets_file=_resolve(base, device.get("secrets_file", str(data_dir / "secrets.toml"))),
        timezone=device.get("timezone", "Asia/Tehran"),
    )
    web = WebSettings(
        **_section(
            raw.get("web", {}),
            "web",
            {
                "host": _text(),
                "port": _int(1, 65535),
                "language": _choice(*LANGUAGES),
                "idle_timeout_s": _int(3, 600),
                "calendar": _choice("jalali", "gregorian"),
                "open_to_network": _bool,
                "reader_position": _choice("below", "left", "right"),
            },
        )
    )
    if not is_loopback_host(web.host) and not web.open_to_network:
        raise ConfigError(
            f"web.host = {web.host!r} would open the kiosk to the network; the kiosk's own screen needs only "
            "127.0.0.1. To let tills reach the POS API, also set web.open_to_network = true (the network then "
            "reaches /pos/v1 only, with its bearer token); otherwise set web.host = \"127.0.0.1\"")
    readers_raw = raw.get("readers", [])
    if not isinstance(readers_raw, list):
        raise _fail("readers", readers_raw, "an array of [[readers]] tables")
    readers = []
    for i, item in enumerate(readers_raw):
        values = _section(item, f"readers[{i}]", {"uri": _text(), "id": _text(), "debounce_s": _number(0.0, 60.0)})
        if "uri" not in values:
            raise ConfigError(f"missing key readers[{i}].uri, for example uri = \"rdm6300:tty:/dev/ttyAMA0\"")
        values.setdefault("id", f"reader{i + 1}")
        readers.append(ReaderSettings(**values))
    ids = [r.id for r in readers]
    if len(set(ids)) != len(ids):
        raise _fail("readers[].id", ids, "a different id for each reader")
    members = MemberSettings(
        **_section(raw.get("members", {}), "members", {"default_region": _text(), "consent_version": _text()})
    )
    _check_region(members.default_region)
    cloud_values = _section(
        raw.get("cloud", {}),
        "cloud",
        {
            "url": _text(nonempty=False),
            "ca_file": _text(),
            "connect_timeout_s": _number(0.1, 60),
            "read_timeout_s": _number(0.1, 300),
            "sync_interval_s": _number(0.05, 3600),
        },
    )
    url = cloud_values.get("url", "")
    if url and not url.startswith(("http://", "https://")):
        raise _fail("cloud.url", url, "an http:// or https:// URL, or \"\" to run without a cloud")
    if "ca_file" in cloud_values:
        cloud_values["ca_file"] = _resolve(base, cloud_values["ca_file"])
    cards = CardSettings(
        **_section(
            raw.get("cards", {}),
            "cards",
            {
                "magstripe_track": _int(1, 3),
                "magstripe_pattern": _regex,
                "magstripe_lrc": _bool,
                "magstripe_enter_per_track": _bool,
                "barcode_pattern": _regex,
                "swipe_timeout_s": _number(0.05, 10),
                "digital_cards": _bool,
            },
        )
    )
    for name in ("feedback", "motion"):
        if not isinstance(raw.get(name, {}), Mapping):
            raise _fail(name, raw[name], "a table")
    settings = Settings(
        path=path,
        cards=cards,
        feedback=dict(raw.get("feedback", {})),
        motion=dict(raw.get("motion", {})),
        device=device_settings,
        web=web,
        readers=tuple(readers),
        members=members,
        loyalty=rules_from_mapping(raw.get("loyalty", {})),
        cloud=CloudSettings(**cloud_values),
        **_screen_sections(raw),
    )
    if settings.enrollment.sms_otp and not settings.cloud.url:
        # Codes are sent through the cloud's SMS hook: a switch that could never work must not look enabled.
        raise ConfigError("enrollment.sms_otp = true needs [cloud] url: one-time codes are sent through the "
                          "cloud's SMS hook; set the cloud url or set sms_otp = false")
    return settings


def is_loopback_host(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a name other than localhost may resolve to anything


def network_warning(web: WebSettings) -> str | None:
    """What the log and `doctor` say about a kiosk listening beyond loopback, or None."""
    if is_loopback_host(web.host):
        return None
    return (f"web.host = {web.host!r} with open_to_network: port {web.port} is reachable from the network; "
            "only /pos/v1 (bearer token) answers there, so keep the port firewalled to the tills")


def _screen_sections(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The sections the touchscreen flows read: staff mode, POS, enrolment, receipts, branding."""
    return {
        "staff": StaffSettings(**_section(raw.get("staff", {}), "staff", {
            "timeout_s": _int(10, 3600), "max_attempts": _int(1, 100), "lockout_s": _int(1, 86400),
            "cards": _staff_cards})),
        "pos": PosSettings(**_section(raw.get("pos", {}), "pos", {
            "enabled": _bool, "pending_timeout_s": _int(5, 3600)})),
        "enrollment": EnrollmentSettings(**_section(raw.get("enrollment", {}), "enrollment", {
            "sms_otp": _bool, "timeout_s": _int(10, 600)})),
        "receipts": ReceiptSettings(**_section(raw.get("receipts", {}), "receipts", {"max_age_s": _int(60)})),
        "branding": BrandingSettings(**_section(raw.get("branding", {}), "branding", {
            "name": _text(), "tagline": _text(nonempty=False), "help_text": _text(nonempty=False)})),
    }


def _check_region(region: str) -> None:
    import phonenumbers

    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise _fail("members.default_region", region, "a two-letter region code such as \"IR\", \"AE\" or \"GB\"")


def load(path: Path | str) -> Settings:
    """Read and validate the config file at ``path``."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist; copy kiosk/kiosk.example.toml there") from None
    except PermissionError:
        raise ConfigError(f"config file {path} is not readable by this user") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    return parse(raw, path.resolve())


@dataclass(frozen=True, repr=False)
class Secrets:
    chain_secret: bytes
    device_key: bytes | None = None
    staff_pin_hash: str | None = None
    pos_token: str | None = None
    branch_key: bytes | None = None

    def __repr__(self) -> str:  # never print secret material
        return "Secrets(<hidden>)"


def load_secrets(path: Path) -> Secrets:
    """Read the 0600 secrets file; refuse one that others can read."""
    try:
        require_private(path, "secrets file", ConfigError)
    except FileNotFoundError:
        raise ConfigError(
            f"secrets file {path} does not exist; run `kioskctl init-db` to create one or provision the device"
        ) from None
    with path.open("rb") as fh:
        raw = tomllib.load(fh)
    values = _section(raw, "secrets", {"chain_secret": _text(), "device_key": _text(), "staff_pin_hash": _text(),
                                       "pos_token": _text(), "branch_key": _text()})
    if "chain_secret" not in values:
        raise ConfigError(f"secrets file {path} has no chain_secret")
    try:
        chain_secret = bytes.fromhex(values["chain_secret"])
        device_key = bytes.fromhex(values["device_key"]) if "device_key" in values else None
        branch_key = bytes.fromhex(values["branch_key"]) if "branch_key" in values else None
    except ValueError:
        raise ConfigError(f"secrets file {path}: chain_secret, device_key and branch_key must be hex strings") from None
    if values.get("pos_token") is not None and len(values["pos_token"]) < 16:
        raise ConfigError(f"secrets file {path}: pos_token must be at least 16 characters; make one with "
                          "`python -c 'import secrets; print(secrets.token_urlsafe(32))'`")
    if len(chain_secret) < 16:
        raise ConfigError(f"secrets file {path}: chain_secret must be at least 16 bytes (32 hex characters)")
    return Secrets(chain_secret=chain_secret, device_key=device_key, staff_pin_hash=values.get("staff_pin_hash"),
                   pos_token=values.get("pos_token"), branch_key=branch_key)


def write_secrets(path: Path, secrets: Mapping[str, str]) -> None:
    """Write the secrets file atomically, created 0600 from the start."""
    write_atomic(path, "".join(f'{key} = "{value}"\n' for key, value in secrets.items()), 0o600)
