"""Small files of the sync path: device credentials (0600), the last good config, the status.

Every write is atomic (temp file, fsync, rename) so a power cut leaves the old file or
the new one, never half of one.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kiosk.private_files import require_private, write_atomic
from kiosk.sync.errors import NotRegistered, SyncError


@dataclass(frozen=True)
class Credentials:
    cloud_url: str
    device_id: str
    device_key: str
    branch: str


def save_credentials(path: Path, credentials: Credentials) -> None:
    """Store the device key readable only by the service user (0600)."""
    write_atomic(path, json.dumps(asdict(credentials), indent=2) + "\n", 0o600)


def load_credentials(path: Path) -> Credentials:
    path = Path(path)
    try:
        require_private(path, "device key file", SyncError)
    except FileNotFoundError:
        raise NotRegistered(
            f"no device key at {path}; run `kioskctl register --cloud URL --token T` first"
        ) from None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Credentials(**{k: str(data[k]) for k in ("cloud_url", "device_id", "device_key", "branch")})
    except (ValueError, KeyError, TypeError) as exc:
        raise SyncError(f"device key file {path} is damaged ({exc}); register the device again") from exc


class ConfigCache:
    """The last good branch config from the cloud, with its ETag."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def load(self) -> tuple[dict[str, Any], str] | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return data["document"], data["etag"]
        except FileNotFoundError:
            return None
        except (ValueError, KeyError, TypeError):
            return None  # unreadable cache: pull a fresh copy rather than crash the kiosk

    def save(self, document: dict[str, Any], etag: str) -> None:
        write_atomic(self.path, json.dumps({"etag": etag, "document": document}, ensure_ascii=False), 0o644)


class StatusFile:
    """The worker's last status as JSON, so `kioskctl sync status` can read it from outside."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def write(self, status: dict[str, Any]) -> None:
        write_atomic(self.path, json.dumps(status, indent=2, default=str) + "\n", 0o644)

    def read(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return None
