"""Builds the sync worker from the kiosk's settings, and checks the cloud's branch config.

Files in the data directory (writable under systemd's ProtectSystem=strict):
`cloud-device.json` (device id and key, 0600), `cloud-config.json` (last good
config and its ETag), `sync-status.json` (what `kioskctl sync status` prints).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from kiosk.config import Settings
from kiosk.rules.cloud_config import rules_from_cloud
from kiosk.store import Store, utcnow
from kiosk.sync.worker import SyncStatus, SyncWorker
from kiosk.sync.client import CloudClient
from kiosk.sync.files import ConfigCache, StatusFile, load_credentials

def credentials_path(settings: Settings) -> Path:
    return settings.device.data_dir / "cloud-device.json"


def config_cache_path(settings: Settings) -> Path:
    return settings.device.data_dir / "cloud-config.json"


def status_path(settings: Settings) -> Path:
    return settings.device.data_dir / "sync-status.json"


def client_from_settings(settings: Settings, *, clock: Callable[[], datetime] = utcnow) -> CloudClient:
    """A signed client for the registered device (NotRegistered if it is not)."""
    credentials = load_credentials(credentials_path(settings))
    cloud = settings.cloud
    return CloudClient(
        cloud.url or credentials.cloud_url,
        device_id=credentials.device_id,
        device_key=credentials.device_key,
        clock=clock,
        connect_timeout=cloud.connect_timeout_s,
        read_timeout=cloud.read_timeout_s,
        ca_file=str(cloud.ca_file) if cloud.ca_file else None,
    )


def worker_from_settings(
    settings: Settings,
    store: Store,
    *,
    clock: Callable[[], datetime] = utcnow,
    rng: random.Random | None = None,
    on_config: Callable[[dict[str, Any]], None] | None = None,
    on_status: Callable[[SyncStatus], None] | None = None,
) -> SyncWorker | None:
    """The kiosk's sync worker, or None when no cloud URL is configured (offline-only kiosk).

    Raises NotRegistered when a cloud is configured but the device has no key yet.
    """
    if not settings.cloud.url:
        return None
    return SyncWorker(
        store,
        client_from_settings(settings, clock=clock),
        clock=clock,
        rng=rng or random.Random(),
        idle_poll=settings.cloud.sync_interval_s,
        config_cache=ConfigCache(config_cache_path(settings)),
        config_validator=rules_from_cloud,
        on_config=on_config,
        status_file=StatusFile(status_path(settings)),
        on_status=on_status,
    )
