"""Builds the sync worker from the kiosk's settings, and checks the cloud's branch config.

Files in the data directory (writable under systemd's ProtectSystem=strict):
`cloud-device.json` (device id and key, 0600), `cloud-config.json` (last good
config and its ETag), `sync-status.json` (what `kioskctl sync status` prints).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from kiosk.config import Settings
from kiosk.errors import ConfigError
from kiosk.rules_config import LoyaltyRules, rules_from_mapping
from kiosk.store import Store, utcnow
from kiosk.sync import SyncStatus, SyncWorker
from kiosk.sync_client import CloudClient
from kiosk.sync_files import ConfigCache, StatusFile, load_credentials

_REWARD_KEYS = {"id": str, "name": str, "cost_points": int}
_REWARD_OPTIONAL = {"active": bool, "per_member_limit": (int, type(None))}


def credentials_path(settings: Settings) -> Path:
    return settings.device.data_dir / "cloud-device.json"


def config_cache_path(settings: Settings) -> Path:
    return settings.device.data_dir / "cloud-config.json"


def status_path(settings: Settings) -> Path:
    return settings.device.data_dir / "sync-status.json"


def rules_from_cloud(document: Mapping[str, Any]) -> LoyaltyRules:
    """LoyaltyRules from the cloud's branch config; ConfigError names the bad key.

    `rules` holds the same keys as the [loyalty] table of kiosk.toml, `tiers` the same
    tier tables; rewards must each have id, name and a positive cost_points.
    """
    rules = rules_from_mapping({**document["rules"], "tiers": document["tiers"]}, section="cloud config")
    for i, reward in enumerate(document["rewards"]):
        if not isinstance(reward, Mapping):
            raise ConfigError(f"[cloud config] rewards[{i}] must be an object with id, name, cost_points")
        for key, kind in _REWARD_KEYS.items():
            if not isinstance(reward.get(key), kind) or isinstance(reward.get(key), bool):
                raise ConfigError(f"[cloud config] rewards[{i}] needs {key} ({kind.__name__})")
        if reward["cost_points"] <= 0:
            raise ConfigError(f"[cloud config] rewards[{i}] cost_points must be more than zero")
        for key, kind in _REWARD_OPTIONAL.items():
            if key in reward and not isinstance(reward[key], kind):
                raise ConfigError(f"[cloud config] rewards[{i}] {key} has the wrong type")
        unknown = set(reward) - set(_REWARD_KEYS) - set(_REWARD_OPTIONAL)
        if unknown:
            raise ConfigError(f"[cloud config] rewards[{i}] has unknown keys {sorted(unknown)}")
    for i, campaign in enumerate(document["campaigns"]):
        if not isinstance(campaign, Mapping) or not isinstance(campaign.get("id"), str):
            raise ConfigError(f"[cloud config] campaigns[{i}] must be an object with an id")
    return rules


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
