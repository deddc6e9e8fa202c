"""The sync worker: drains the store's outbox to the cloud and pulls the branch config.

Delivery is at-least-once on the wire and exactly-once in effect: an outbox row is
marked delivered only after the cloud answered `accepted` or `duplicate` for its
event id, and the cloud deduplicates by event id, so a reply lost after the cloud
committed just means the batch is sent again and answered `duplicate`.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from kiosk import protocol
from kiosk.errors import KioskError, StoreError
from kiosk.sync.client import CloudClient
from kiosk.sync.errors import AuthRefused, ClockSkew, CloudRefused, CloudUnavailable, MalformedAnswer, SyncError
from kiosk.sync.files import ConfigCache, StatusFile
from drivers.backoff import Backoff
from kiosk.sync.policy import LinkState, next_link_state

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class OutboxItemLike(Protocol):
    event_id: str
    payload: str
    attempts: int


class OutboxStore(Protocol):
    """What the worker needs from kiosk.store.database.Store."""

    def outbox_batch(self, limit: int, max_bytes: int, now: datetime) -> list[Any]: ...
    def outbox_delivered(self, event_ids: list[str], at: datetime) -> None: ...
    def outbox_retry_later(self, event_ids: list[str], next_attempt_at: datetime) -> None: ...
    def outbox_rejected(self, rejections: dict[str, str], at: datetime) -> None: ...
    def outbox_depth(self) -> int: ...


@dataclass(frozen=True)
class SyncStatus:
    """What the screen, staff mode and `kioskctl sync status` show about the link."""

    link: LinkState = LinkState.OFFLINE
    registered: bool = True
    outbox_depth: int = 0
    last_success_at: datetime | None = None
    last_attempt_at: datetime | None = None
    last_error: str = ""
    consecutive_failures: int = 0
    next_attempt_at: datetime | None = None
    clock_error: bool = False
    clock_skew_seconds: float | None = None
    delivered_total: int = 0
    rejected_total: int = 0
    config_etag: str | None = None
    config_pulled_at: datetime | None = None
    config_error: str = ""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["link"] = self.link.value
        for key, value in data.items():
            if isinstance(value, datetime):
                data[key] = protocol.format_time(value)
        return data


@dataclass
class DrainResult:
    delivered: int = 0
    rejected: int = 0
    batches: int = 0
    failed: bool = False
    retry_in: float = 0.0
    errors: list[str] = field(default_factory=list)


class SyncWorker:
    """Owns the link to the cloud. Thread-safe status; one background thread via start()."""

    def __init__(
        self,
        store: OutboxStore,
        client: CloudClient,
        *,
        clock: Clock,
        rng: random.Random,
        backoff: Backoff | None = None,
        batch_events: int = 500,
        batch_bytes: int = 1_000_000,
        idle_poll: float = 5.0,
        config_interval: float = 900.0,
        config_cache: ConfigCache | None = None,
        config_validator: Callable[[dict[str, Any]], object] | None = None,
        on_config: Callable[[dict[str, Any]], None] | None = None,
        status_file: StatusFile | None = None,
        on_status: Callable[[SyncStatus], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < batch_events <= protocol.MAX_BATCH_EVENTS:
            raise KioskError(f"batch_events must be 1..{protocol.MAX_BATCH_EVENTS}, got {batch_events}")
        if not 0 < batch_bytes <= protocol.MAX_BATCH_BYTES - 64:
            raise KioskError(f"batch_bytes must be 1..{protocol.MAX_BATCH_BYTES - 64}, got {batch_bytes}")
        self.store = store
        self.client = client
        self.clock = clock
        self.rng = rng
        # Full jitter: after an outage the chain's kiosks come back spread over the window, not at once.
        self.backoff = backoff or Backoff(initial_s=1.0, cap_s=300.0, jitter=True)
        self.batch_events = batch_events
        self.batch_bytes = batch_bytes
        self.idle_poll = idle_poll
        self.config_interval = config_interval
        self.config_cache = config_cache
        self.config_validator = config_validator
        self.on_config = on_config
        self.status_file = status_file
        self.on_status = on_status
        self._status = SyncStatus()
        self._status_lock = threading.Lock()
        self._unreachable_streak = 0
        self._config_due: datetime | None = None
        self._isolate_left = 0  # after a 400 on a batch: send its events one at a time to find the bad one
        self._reconcile: set[str] = set()
        self._reconcile_lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        # For the watchdog: when the worker last made progress, and whether it is waiting by choice.
        self._monotonic = monotonic
        self._last_beat = monotonic()
        self._idle = False
        # More exchanges for a round once the outbox is drained (the engagement sync); each may raise SyncError.
        self.after_drain: list[Callable[[], None]] = []
        # Told the member id when a reconcile changed that member here (the screen showing them repaints).
        self.after_reconcile: list[Callable[[str], None]] = []
        # Exchanges before the drain, while the cloud is reachable (the fleet heartbeat: it reports the backlog
        # the drain is about to send, or cannot); each may raise SyncError, which never stops the drain.
        self.before_drain: list[Callable[[], None]] = []

    # -- status -----------------------------------------------------------------------

    @property
    def status(self) -> SyncStatus:
        with self._status_lock:
            return self._status

    def heartbeat_age_s(self) -> float:
        """Seconds since the worker last made progress; 0 while it waits for its next round by choice.

        Every request has a total deadline (CloudClient.deadline), so a worker that is not idle and has
        not beaten for a few deadlines is stuck, and the watchdog should stop vouching for the kiosk.
        """
        if self._idle:
            return 0.0
        return max(0.0, self._monotonic() - self._last_beat)

    def stalled(self, max_age_s: float | None = None) -> bool:
        """True when the worker has been busy without progress for longer than ``max_age_s`` (by default two
        request deadlines and a little: a config pull and a batch may each use a whole one)."""
        limit = max_age_s if max_age_s is not None else 2 * self.client.deadline + 5.0
        return self.heartbeat_age_s() > limit

    def _beat(self) -> None:
        self._last_beat = self._monotonic()

    def _update(self, **changes: Any) -> SyncStatus:
        with self._status_lock:
            self._status = replace(self._status, **changes)
            status = self._status
        if self.status_file is not None:
            try:
                self.status_file.write(status.to_json())
            except OSError as exc:  # a full disk must not stop delivery
                log.warning("cannot write sync status file: %s", exc)
        if self.on_status is not None:
            self.on_status(status)
        return status

    def _succeeded(self, now: datetime, **changes: Any) -> None:
        self._unreachable_streak = 0
        self._update(
            link=LinkState.ONLINE, last_success_at=now, last_attempt_at=now, last_error="",
            consecutive_failures=0, next_attempt_at=None, clock_error=False,
            clock_skew_seconds=self.client.last_skew_seconds, **changes,
        )

    def _failed(self, now: datetime, error: SyncError, retry_after: float | None = None) -> float:
        reached = not (isinstance(error, CloudUnavailable) and error.status is None)
        self._unreachable_streak = 0 if reached else self._unreachable_streak + 1
        failures = self.status.consecutive_failures + 1
        delay = self.backoff.delay(failures, self.rng, retry_after)
        clock = {}
        if isinstance(error, ClockSkew):
            clock = {"clock_error": True, "clock_skew_seconds": error.skew_seconds}
        self._update(
            link=next_link_state(self.status.link, reached_cloud=reached, succeeded=False,
                                 unreachable_streak=self._unreachable_streak),
            last_attempt_at=now, last_error=str(error), consecutive_failures=failures,
            next_attempt_at=now + timedelta(seconds=delay), **clock,
        )
        log.info("sync failed (%s); next try in %.1f s", error, delay)
        return delay

    # -- outbox -----------------------------------------------------------------------

    def drain(self, max_batches: int | None = None) -> DrainResult:
        """Send batches until the outbox has nothing due, a send fails, or max_batches."""
        result = DrainResult()
        while max_batches is None or result.batches < max_batches:
            if self._stop.is_set():
                break
            self._beat()
            now = self.clock()
            limit = 1 if self._isolate_left else self.batch_events
            try:
                items = self.store.outbox_batch(limit, self.batch_bytes, now)
                if not items:
                    self._isolate_left = 0
                    break
                result.batches += 1
                outcome = self._send(items, now)
                if outcome is not None and self._isolate_left:
                    self._isolate_left -= 1
            except StoreError as exc:
                # The kiosk's own disk or database failed (e.g. full). Rows not marked
                # delivered are simply sent again later and answered "duplicate".
                self._local_failure(now, exc)
                outcome = None
            if outcome is None:
                result.failed = True
                result.retry_in = (self.status.next_attempt_at - now).total_seconds() if self.status.next_attempt_at else 0
                result.errors.append(self.status.last_error)
                break
            delivered, rejected = outcome
            result.delivered += delivered
            result.rejected += rejected
        try:
            self._update(outbox_depth=self.store.outbox_depth())
        except StoreError as exc:
            log.warning("cannot count the outbox: %s", exc)
        return result

    def _local_failure(self, now: datetime, error: StoreError) -> None:
        failures = self.status.consecutive_failures + 1
        delay = self.backoff.delay(failures, self.rng)
        self._update(last_attempt_at=now, last_error=f"local database: {error}", consecutive_failures=failures,
                     next_attempt_at=now + timedelta(seconds=delay))
        log.error("sync stopped by the local database: %s", error)

    def _send(self, items: list[Any], now: datetime) -> tuple[int, int] | None:
        payloads, unsendable = [], {}
        for item in items:
            try:
                payloads.append(json.dumps(protocol.event_from_outbox(item.payload), separators=(",", ":"),
                                           ensure_ascii=False))
            except protocol.InvalidEvent as exc:
                unsendable[item.event_id] = f"not sent, the kiosk wrote a bad event: {exc}"
        if unsendable:
            # Parked locally with the reason; the rest of the batch goes out on the next round.
            log.error("outbox rows that break the protocol: %s", unsendable)
            self.store.outbox_rejected(unsendable, now)
            self._update(rejected_total=self.status.rejected_total + len(unsendable))
            return 0, len(unsendable)
        ids = [item.event_id for item in items]
        try:
            reply = self.client.send_batch(payloads)
        except CloudRefused as exc:
            if isinstance(exc, (ClockSkew, AuthRefused)) or exc.status not in (400, 413):
                self._retry_later(ids, now, exc)
                return None
            if len(items) > 1:
                # One unreadable payload must not block the outbox: find it alone.
                self._isolate_left = len(items)
                self._retry_later(ids, now, exc, delay=0.0)
                return None
            self.store.outbox_rejected({ids[0]: str(exc)}, now)
            self._succeeded(now, rejected_total=self.status.rejected_total + 1)
            return 0, 1
        except CloudUnavailable as exc:
            self._retry_later(ids, now, exc, retry_after=exc.retry_after)
            return None
        try:
            answers = reply.by_event(ids)
        except MalformedAnswer as exc:
            self._retry_later(ids, now, exc)
            return None
        delivered: list[str] = []
        rejected: dict[str, str] = {}
        unknown: dict[str, str] = {}
        for event_id in ids:
            answer = answers[event_id]
            status = answer.get("status")
            if status in protocol.DELIVERED_STATUSES:
                delivered.append(event_id)
            elif status == protocol.REJECTED:
                rejected[event_id] = str(answer.get("reason") or "rejected without a reason")
            else:
                unknown[event_id] = repr(status)
        if delivered:
            self.store.outbox_delivered(delivered, now)
        if rejected:
            log.warning("cloud rejected %d events: %s", len(rejected), rejected)
            self.store.outbox_rejected(rejected, now)
        if unknown:
            # Not a verdict: the events stay queued and go again after the backoff, never parked on a guess.
            error = MalformedAnswer(f"the cloud answered {len(unknown)} events with a status the protocol does "
                                    f"not have ({', '.join(sorted(set(unknown.values())))}); will resend them",
                                    status=200)
            self._retry_later(list(unknown), now, error)
            return None
        self._succeeded(
            now,
            delivered_total=self.status.delivered_total + len(delivered),
            rejected_total=self.status.rejected_total + len(rejected),
        )
        return len(delivered), len(rejected)

    def _retry_later(self, ids: list[str], now: datetime, error: SyncError, *,
                     retry_after: float | None = None, delay: float | None = None) -> None:
        wait = self._failed(now, error, retry_after)
        if delay is not None:
            wait = delay
            self._update(next_attempt_at=now + timedelta(seconds=delay))
        self.store.outbox_retry_later(ids, now + timedelta(seconds=wait))

    # -- config -----------------------------------------------------------------------

    def load_cached_config(self) -> dict[str, Any] | None:
        """Hand the last good config to the kiosk before the first pull (works offline)."""
        cached = self.config_cache.load() if self.config_cache else None
        if cached is None:
            return None
        document, etag = cached
        self._update(config_etag=etag)
        if self.on_config is not None:
            self.on_config(document)
        return document

    def pull_config(self) -> bool:
        """Fetch the branch config with If-None-Match; True if a new config was applied."""
        now = self.clock()
        self._config_due = now + timedelta(seconds=self.config_interval)
        cached = self.config_cache.load() if self.config_cache else None
        self._beat()
        try:
            reply = self.client.fetch_config(cached[1] if cached else None)
        except MalformedAnswer as exc:
            # Whatever answered is not the cloud: the link is not online, however the last batch went.
            self._unreachable_streak = 0
            self._update(link=LinkState.DEGRADED, last_error=str(exc), config_error=f"config pull failed: {exc}")
            log.info("config pull failed: %s", exc)
            return False
        except SyncError as exc:
            answered = isinstance(exc, CloudRefused) or (isinstance(exc, CloudUnavailable) and exc.status is not None)
            if answered:
                # A kiosk with nothing to send learns that the cloud is there from its config pull;
                # "no config for this branch yet" is a normal answer, not a link problem.
                self._lift_offline(LinkState.ONLINE if getattr(exc, "code", "") == "no_config" else LinkState.DEGRADED)
            self._update(config_error=f"config pull failed: {exc}")
            return False
        if reply.not_modified:
            self._lift_offline(LinkState.ONLINE)
            self._update(config_pulled_at=now, config_error="")
            return False
        document = reply.document
        try:
            protocol.validate_config(document)
            if self.config_validator is not None:
                self.config_validator(document)  # type: ignore[arg-type]
        except (KioskError, ValueError, TypeError, KeyError) as exc:
            self._lift_offline(LinkState.DEGRADED)
            self._update(config_error=f"refused the cloud's config ({exc}); keeping the last good one")
            log.warning("refused config from the cloud: %s", exc)
            return False
        self._lift_offline(LinkState.ONLINE)
        assert document is not None
        try:
            # Applied first, cached after: a cache saved for a config that did not apply would answer the next
            # pull "not modified" and the config would never take effect.
            if self.on_config is not None:
                self.on_config(document)
            if self.config_cache is not None and reply.etag:
                self.config_cache.save(document, reply.etag)
        except (StoreError, OSError) as exc:  # a full disk: the rules in force stay; the next pull tries again
            self._update(config_error=f"could not keep the cloud's config ({exc}); trying again at the next pull")
            log.warning("could not keep the cloud's config: %s", exc)
            return False
        self._update(config_etag=reply.etag, config_pulled_at=now, config_error="")
        return True

    def _lift_offline(self, state: LinkState) -> None:
        """An answer from the cloud outside the outbox path: the link is not offline any more.

        Only OFFLINE is lifted (an idle kiosk starts there and has no batch to prove the link
        with); ONLINE/DEGRADED stay the outbox's to decide.
        """
        status = self.status
        # A config pull that went wrong (nonsense answer) degraded the link with no failing batch behind it:
        # the next good pull restores it.
        config_only = status.link is LinkState.DEGRADED and status.consecutive_failures == 0
        if status.link is LinkState.OFFLINE or (config_only and state is LinkState.ONLINE):
            self._unreachable_streak = 0
            self._update(link=state, last_error="" if config_only else status.last_error)

    # -- corrections ------------------------------------------------------------------

    def request_reconcile(self, member_id: str) -> None:
        """Compare this member's balance with the cloud's on the worker thread, soon."""
        with self._reconcile_lock:
            self._reconcile.add(member_id)
        self.wake()

    def reconcile_pending(self) -> int:
        """Run queued reconciliations (after a drain, so the cloud is as current as it gets)."""
        from kiosk.sync.reconcile import reconcile

        with self._reconcile_lock:
            members, self._reconcile = self._reconcile, set()
        corrected = 0
        for member_id in sorted(members):
            self._beat()
            try:
                done = reconcile(self.store, self.client, member_id)
                corrected += done.correction is not None
                if done.changed:
                    self._tell_changed(member_id)
            except SyncError as exc:
                log.info("reconcile of %s postponed: %s", member_id, exc)
                with self._reconcile_lock:
                    self._reconcile.add(member_id)
            except KioskError as exc:
                log.warning("reconcile of %s skipped: %s", member_id, exc)
        if corrected:
            self.drain()  # send the corrections while we are online
        return corrected

    def _tell_changed(self, member_id: str) -> None:
        for told in list(self.after_reconcile):
            try:
                told(member_id)
            except Exception:  # a screen that cannot repaint must not stop the sync
                log.exception("after a reconcile of %s: %r failed", member_id, told)

    # -- thread -----------------------------------------------------------------------

    def step(self) -> float:
        """One round: config if due, then drain. Returns seconds until the next round."""
        now = self.clock()
        if self._config_due is None or now >= self._config_due:
            self.pull_config()
        if self.status.link is not LinkState.OFFLINE:
            self._exchange(self.before_drain)
        result = self.drain()
        if result.failed:
            return max(result.retry_in, 0.0)
        self.reconcile_pending()
        self._exchange(self.after_drain)
        return self.idle_poll

    @staticmethod
    def _exchange(extras: list[Callable[[], None]]) -> None:
        for extra in extras:
            try:
                extra()
            except SyncError as exc:
                log.info("%s postponed: %s", getattr(extra, "__name__", "an exchange"), exc)

    def run(self) -> None:
        self.load_cached_config()
        while not self._stop.is_set():
            self._beat()
            try:
                delay = self.step()
            except Exception as exc:  # noqa: BLE001 - the worker must outlive any one bad round
                delay = self._round_failed(exc)
            self._idle = True
            try:
                self._wake.wait(timeout=delay)
            finally:
                self._idle = False
                self._beat()
            self._wake.clear()

    def _round_failed(self, exc: Exception) -> float:
        """A bug or an error nobody foresaw: counted and backed off like any failure, the traceback logged once."""
        failures = self.status.consecutive_failures + 1
        delay = self.backoff.delay(failures, self.rng)
        if failures == 1:
            log.exception("sync round failed; next try in %.1f s", delay)
        else:
            log.error("sync round failed again (%d in a row): %s: %s; next try in %.1f s",
                      failures, type(exc).__name__, exc, delay)
        now = self.clock()
        self._update(link=LinkState.DEGRADED if self.status.link is LinkState.ONLINE else self.status.link,
                     last_attempt_at=now, last_error=f"sync round failed: {type(exc).__name__}: {exc}",
                     consecutive_failures=failures, next_attempt_at=now + timedelta(seconds=delay))
        return delay

    def wake(self) -> None:
        """New events are in the outbox: send them now rather than at the next poll."""
        self._wake.set()

    def start(self) -> SyncWorker:
        if self._thread is None:
            self._thread = threading.Thread(target=self.run, name="sync-worker", daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def __enter__(self) -> SyncWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
