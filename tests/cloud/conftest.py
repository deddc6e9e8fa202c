"""Fixtures for the cloud tests: a real reference cloud on a loopback port, real SQLite."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from cloud.app import create_app
from cloud.server import BackgroundServer
from cloud.store import CloudStore
from kiosk.sync_client import CloudClient


class MovableClock:
    """A UTC clock tests can move; thread-safe because waitress threads read it."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(timezone.utc)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._now += delta

    def set(self, at: datetime) -> None:
        with self._lock:
            self._now = at


@dataclass
class RunningCloud:
    url: str
    db_path: Path
    store: CloudStore
    clock: MovableClock

    def client(self, **kwargs: object) -> CloudClient:
        kwargs.setdefault("clock", self.clock)
        return CloudClient(self.url, **kwargs)  # type: ignore[arg-type]

    def registered_client(self, branch: str = "tehran-01", **kwargs: object) -> CloudClient:
        client = self.client(**kwargs)
        client.register(self.store.create_token(branch), name=f"kiosk at {branch}")
        return client


@pytest.fixture
def server_clock() -> MovableClock:
    return MovableClock()


@pytest.fixture
def cloud(tmp_path: Path, server_clock: MovableClock) -> Iterator[RunningCloud]:
    db_path = tmp_path / "cloud.sqlite"
    app = create_app(db_path, clock=server_clock)
    with BackgroundServer(app) as server:
        yield RunningCloud(server.url, db_path, app.extensions["cloud_store"], server_clock)


@pytest.fixture
def proxy(cloud: RunningCloud) -> Iterator["FaultProxy"]:
    from kiosk.faultproxy import FaultProxy

    with FaultProxy(cloud.url, hang_limit=10) as running:
        yield running
