"""`kioskctl doctor`: one line per check of what a kiosk needs, each failure with its fix.

The checks take plain values (paths, URLs, reader URIs) so they run the same from the CLI,
from the provisioning health check or from a test. `settings_from_toml` is the small
adapter from /etc/kiosk/kiosk.toml to those values.
"""

from __future__ import annotations

import argparse
import os
import pwd
import shutil
import stat
import sys
import time
import tomllib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path

import requests

from appliance.cli.doctor_files import check_private_files
from kiosk.errors import KioskError

# No kiosk was built before this: a clock earlier than this is a Pi that booted without
# network time (it has no real-time clock).
CLOCK_FLOOR = 1735689600  # 2025-01-01T00:00:00Z
MAX_CLOCK_SKEW_S = 300  # signed batches outside the cloud's timestamp window are refused
MIN_FREE_BYTES = 500 * 1024 * 1024
# Written by `kioskctl register` in the data directory (kiosk/sync/setup.py).
CREDENTIALS_FILE = "cloud-device.json"


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    warn: bool = False  # passes, but a technician should know (e.g. the kiosk listens beyond loopback)


@dataclass(frozen=True)
class DoctorSettings:
    config_path: Path
    secrets_path: Path | None
    data_dir: Path
    reader_uris: tuple[str, ...] = ()
    cloud_url: str | None = None
    ca_file: str | None = None
    service_user: str = "kiosk"
    min_free_bytes: int = MIN_FREE_BYTES
    cloud_timeout_s: float = 3.0
    problems: tuple[str, ...] = field(default_factory=tuple)
    network_warning: str | None = None


def reader_device(uri: str) -> tuple[str | None, str]:
    """The device node a reader URI opens, and what kind of access it needs.

    'rdm6300:tty:/dev/ttyAMA0?baud=9600' -> ('/dev/ttyAMA0', 'rw');
    'magstripe:hid:/dev/input/by-id/...' -> (path, 'r'); 'nfc:tty:S0:pn532' ->
    ('/dev/ttyS0', 'rw'); 'wiegand:gpio:D0=17,D1=27' -> ('/dev/gpiochip0', 'rw');
    'emulated:rdm6300' -> (None, 'emulated'); 'nfc:usb:072f:2200' -> (None, 'usb'):
    nfcpy finds USB readers by vendor id, there is no fixed node to check.
    """
    parts = uri.split(":", 2)
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise ValueError(f"reader uri {uri!r} is not KIND:TRANSPORT[:ADDRESS]")
    kind, transport = parts[0], parts[1]
    address = parts[2] if len(parts) == 3 else ""
    if kind == "emulated" or transport == "pty":
        return None, "emulated"
    if transport == "usb":
        return None, "usb"
    if kind == "nfc" and transport == "tty":
        # nfcpy's own form: nfc:tty:S0:pn532 means /dev/ttyS0
        return "/dev/tty" + address.split(":", 1)[0], "rw"
    if transport in ("tty", "hid"):
        path = address.split("?", 1)[0]
        if not path.startswith("/"):
            raise ValueError(
                f"reader uri {uri!r}: {transport} needs an absolute device path after the second ':'")
        return path, "r" if transport == "hid" else "rw"
    if transport == "gpio":
        chip = next((kv.split("=", 1)[1] for kv in address.split(",") if kv.startswith("chip=")), "0")
        return f"/dev/gpiochip{chip}", "rw"
    raise ValueError(f"reader uri {uri!r}: unknown transport {transport!r}")


def check_readers(uris: Iterable[str],
                  can_access: Callable[[str, int], bool] = os.access) -> list[CheckResult]:
    """One result per reader URI. ``can_access(path, mode)`` is the permission test
    (os.access by default: the user running the doctor); passed in so the check can be
    judged for another user, and tested where the tests run as root, who may open anything."""
    results = []
    for uri in uris:
        name = f"reader {uri}"
        try:
            path, access = reader_device(uri)
        except ValueError as error:
            results.append(CheckResult(name, False, str(error),
                                       "correct the [[readers]] uri in kiosk.toml"))
            continue
        if path is None:
            detail = ("emulated reader, no device" if access == "emulated"
                      else "USB reader, found by vendor id at start (no fixed device node)")
            results.append(CheckResult(name, True, detail))
            continue
        if not os.path.exists(path):
            results.append(CheckResult(
                name, False, f"{path} does not exist",
                "plug the reader in (check the cable), or correct the uri in kiosk.toml; "
                "for a UART reader run the hardware role (enable_uart=1) and reboot"))
            continue
        mode = os.R_OK | (os.W_OK if "w" in access else 0)
        if not can_access(path, mode):
            results.append(CheckResult(
                name, False, f"{path} is not {'read/writ' if 'w' in access else 'read'}able by this user",
                "add the kiosk user to the dialout/gpio/input group (provisioning base role)"))
            continue
        results.append(CheckResult(name, True, f"{path} present"))
    return results


def check_disk(data_dir: Path, min_free_bytes: int = MIN_FREE_BYTES) -> CheckResult:
    if not data_dir.is_dir():
        return CheckResult("disk", False, f"data directory {data_dir} does not exist",
                           "run the provisioning app role, or fix [device] data_dir")
    free = shutil.disk_usage(data_dir).free
    detail = f"{free // (1024 * 1024)} MB free in {data_dir}"
    if free < min_free_bytes:
        return CheckResult("disk", False, f"{detail}, need {min_free_bytes // (1024 * 1024)} MB",
                           "free space: `journalctl --vacuum-size=50M`, remove old wheels in "
                           "/opt/kiosk/wheels, or use a larger SD card")
    return CheckResult("disk", True, detail)


def check_clock(now: float, server_time: float | None = None,
                floor: float = CLOCK_FLOOR, max_skew_s: float = MAX_CLOCK_SKEW_S) -> CheckResult:
    if now < floor:
        return CheckResult("clock", False,
                           f"the clock says {time.strftime('%Y-%m-%d', time.gmtime(now))}",
                           "the device has no network time: check the network and "
                           "`timedatectl status`; sync needs a correct clock")
    if server_time is None:
        return CheckResult("clock", True, "plausible (no cloud time to compare with)")
    skew = now - server_time
    if abs(skew) > max_skew_s:
        return CheckResult("clock", False, f"{skew:+.0f} s off the cloud's clock",
                           "enable time sync (`timedatectl set-ntp true`); the cloud refuses "
                           f"signed batches more than {max_skew_s:.0f} s off")
    return CheckResult("clock", True, f"{skew:+.0f} s off the cloud's clock")


def check_cloud(url: str | None, ca_file: str | None = None, timeout_s: float = 3.0,
                get: Callable[..., requests.Response] = requests.get,
                ) -> tuple[CheckResult, float | None]:
    """Is the cloud answering at all (any HTTP status), and what time does it say it is."""
    if not url:
        return CheckResult("cloud", False, "no [cloud] url in kiosk.toml",
                           "set [cloud] url (provisioning inventory: kiosk_cloud_url)"), None
    try:
        response = get(url, timeout=timeout_s, verify=ca_file or True, allow_redirects=False)
    except requests.exceptions.SSLError as error:
        return CheckResult("cloud", False, f"TLS check of {url} failed: {error}",
                           "set [cloud] ca_file to the chain's CA certificate, or fix the clock"), None
    except requests.exceptions.Timeout:
        return CheckResult("cloud", False, f"{url} did not answer within {timeout_s:g} s",
                           "check the shop's network and firewall; the kiosk keeps working "
                           "offline and syncs later"), None
    except requests.exceptions.RequestException as error:
        return CheckResult("cloud", False, f"cannot reach {url}: {type(error).__name__}",
                           "check the network cable/Wi-Fi, DNS and [cloud] url; the kiosk "
                           "keeps working offline and syncs later"), None
    server_time = None
    if "Date" in response.headers:
        try:
            server_time = parsedate_to_datetime(response.headers["Date"]).timestamp()
        except (TypeError, ValueError):
            server_time = None
    return CheckResult("cloud", True, f"{url} answered HTTP {response.status_code}"), server_time


def check_file(path: Path | None, label: str, *, secret: bool,
               owner: str | None = None) -> CheckResult:
    name = f"{label} file"
    if path is None:
        return CheckResult(name, False, f"no {label} file configured",
                           "set [device] secrets_file in kiosk.toml")
    try:
        info = path.stat()
    except FileNotFoundError:
        return CheckResult(name, False, f"{path} does not exist",
                           "run `kioskctl provision` for this device (config role)")
    except PermissionError:
        return CheckResult(name, False, f"{path} cannot be read by this user",
                           "run kioskctl doctor as root or as the kiosk user")
    mode = stat.S_IMODE(info.st_mode)
    if secret and mode & 0o077:
        return CheckResult(name, False, f"{path} is {mode:04o}, readable by others",
                           f"chmod 600 {path}")
    if not secret and mode & 0o022:
        return CheckResult(name, False, f"{path} is {mode:04o}, writable by others",
                           f"chmod 640 {path}")
    if owner is not None:
        try:
            uid = pwd.getpwnam(owner).pw_uid
        except KeyError:
            uid = None
        if uid is not None and info.st_uid != uid:
            return CheckResult(name, False, f"{path} is not owned by {owner}",
                               f"chown {owner}:{owner} {path}")
    return CheckResult(name, True, f"{path} {mode:04o}")


def check_device_key(path: Path, owner: str | None) -> CheckResult:
    """The key `kioskctl register` stored; without it the kiosk cannot sync."""
    if not path.exists():
        return CheckResult("device key file", False, f"{path} does not exist: not registered",
                           "kioskctl register --cloud URL --token TOKEN (a one-time token from "
                           "`kiosk-cloud token create --branch BRANCH`), then chown kiosk:kiosk it")
    return check_file(path, "device key", secret=True, owner=owner)


def run_checks(settings: DoctorSettings, now: Callable[[], float] = time.time,
               get: Callable[..., requests.Response] = requests.get,
               can_access: Callable[[str, int], bool] = os.access) -> list[CheckResult]:
    results = [CheckResult("config", False, problem, "fix kiosk.toml") for problem in settings.problems]
    results.append(check_file(settings.config_path, "config", secret=False))
    results.append(check_file(settings.secrets_path, "secrets", secret=True,
                              owner=settings.service_user))
    if settings.cloud_url:
        results.append(check_device_key(settings.data_dir / CREDENTIALS_FILE, settings.service_user))
    results.extend(check_readers(settings.reader_uris, can_access))
    results.append(check_disk(settings.data_dir, settings.min_free_bytes))
    results.extend(CheckResult(*line) for line in check_private_files(settings.data_dir))
    if settings.network_warning:
        results.append(CheckResult("web listener", True, settings.network_warning, warn=True))
    cloud, server_time = check_cloud(settings.cloud_url, settings.ca_file,
                                     settings.cloud_timeout_s, get)
    results.append(cloud)
    results.append(check_clock(now(), server_time))
    return results


def settings_from_toml(config_path: Path) -> DoctorSettings:
    """The doctor's inputs from kiosk.toml, validated by the kiosk's own loader.

    A config the kiosk would refuse becomes a failed check with the loader's message (it
    names the key); the other checks still run from whatever the file says.
    """
    from kiosk.config import load, network_warning

    problems: list[str] = []
    try:
        settings = load(config_path)
    except KioskError as error:
        problems.append(str(error))
    else:
        return DoctorSettings(
            config_path=config_path,
            secrets_path=settings.device.secrets_file,
            data_dir=settings.device.data_dir,
            reader_uris=tuple(r.uri for r in settings.readers),
            cloud_url=settings.cloud.url or None,
            ca_file=str(settings.cloud.ca_file) if settings.cloud.ca_file else None,
            network_warning=network_warning(settings.web),
        )
    try:
        data = tomllib.loads(config_path.read_text())
    except (OSError, tomllib.TOMLDecodeError):
        data = {}
    device = data.get("device", {}) if isinstance(data.get("device"), dict) else {}
    cloud = data.get("cloud", {}) if isinstance(data.get("cloud"), dict) else {}
    readers = data.get("readers", []) if isinstance(data.get("readers"), list) else []
    secrets = device.get("secrets_file")
    return DoctorSettings(
        config_path=config_path,
        secrets_path=Path(secrets) if secrets else None,
        data_dir=Path(device.get("data_dir", "/var/lib/kiosk")),
        reader_uris=tuple(str(r.get("uri", "")) for r in readers if isinstance(r, dict)),
        cloud_url=cloud.get("url") or None,
        ca_file=cloud.get("ca_file"),
        problems=tuple(problems),
    )


def format_result(result: CheckResult) -> str:
    line = f"[{('WARN' if result.warn else ' OK ') if result.ok else 'FAIL'}] {result.name}: {result.detail}"
    return line if result.ok or not result.fix else f"{line} -> fix: {result.fix}"


def doctor(args: argparse.Namespace) -> int:
    """`kioskctl --config PATH doctor`: prints one line per check; 1 if any failed."""
    config = args.config or os.environ.get("KIOSK_CONFIG") or "/etc/kiosk/kiosk.toml"
    settings = settings_from_toml(Path(config))
    results = run_checks(settings)
    for result in results:
        print(format_result(result))
    return 0 if all(r.ok for r in results) else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry (python -m appliance.cli.doctor) until kioskctl wires the subcommand."""
    parser = argparse.ArgumentParser(prog="kioskctl doctor")
    parser.add_argument("--config", help="default: $KIOSK_CONFIG or /etc/kiosk/kiosk.toml")
    return doctor(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
