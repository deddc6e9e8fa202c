"""The kiosk's heartbeat to the cloud's fleet page: version, outbox backlog and each reader's state.

It rides the sync worker's rounds (before the drain, while the cloud is reachable, so a backlog the drain cannot
send is still reported) at most once per ``interval_s``, and at once on the next round after a reader changes
state, so an unplugged reader reaches the console within one round.
"""
from __future__ import annotations

import threading
import time
from importlib import metadata
from datetime import datetime
from typing import Callable, Mapping, Protocol

from kiosk.clock import parse_iso
from kiosk.rules.fleet import Heartbeat
from kiosk.sync.client import CloudClient


class BacklogStore(Protocol):
    def outbox_backlog(self) -> tuple[int, str | None]: ...


def heartbeat_report(store: BacklogStore, readers: Mapping[str, str], version: str, now: datetime) -> Heartbeat:
    """What this kiosk tells the cloud about itself now."""
    count, oldest = store.outbox_backlog()
    age = None if not count or oldest is None else max(0.0, (now - parse_iso(oldest)).total_seconds())
    return Heartbeat(version=version, outbox_count=count, outbox_oldest_age_s=age, readers=dict(readers))


def software_version() -> str:
    """The installed kiosk package's version, as the console shows it."""
    return metadata.version("loyalty-kiosk")


class HeartbeatSender:
    """Called by the sync worker once per round; sends when due. SyncError from the client propagates (the
    worker logs it and the next round tries again)."""

    def __init__(self, store: BacklogStore, client: CloudClient, readers: Callable[[], Mapping[str, str]],
                 version: str, *, clock: Callable[[], datetime], interval_s: float = 60.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._client = client
        self._readers = readers
        self._version = version
        self._clock = clock
        self._interval_s = interval_s
        self._monotonic = monotonic
        self._sent_at: float | None = None
        self._due = threading.Event()
        self.__name__ = "the heartbeat"  # the worker names a postponed exchange in its log

    def due_now(self) -> None:
        """Something the console shows changed (a reader): send on the next round."""
        self._due.set()

    def __call__(self) -> None:
        now = self._monotonic()
        if not self._due.is_set() and self._sent_at is not None and now - self._sent_at < self._interval_s:
            return
        self._due.clear()
        report = heartbeat_report(self._store, self._readers(), self._version, self._clock())
        try:
            self._client.heartbeat(report.to_json())
        except BaseException:
            self._due.set()  # not delivered: try again next round
            raise
        self._sent_at = now
