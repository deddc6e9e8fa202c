"""The message queue: enqueue (deduplicated, quiet hours applied), drain through a gateway, delivery reports.

Decisions come from cloud/messages/rules.py; this module only reads and writes the tables of
cloud/messages/tables.py. A drain hands messages to the gateway in id order, at most `rate_per_second`,
and stops at the first gateway fault, pausing the gateway (so a gateway down for an hour sends its backlog
in order afterwards, nothing twice).

Several drains may run at once (overlapping `jobs run` processes, several cloud hosts): each claim is one
transaction that locks the gateway's row, takes queued rows (SKIP LOCKED on PostgreSQL; SQLite's BEGIN
IMMEDIATE serialises claims) and reserves their send slots from the gateway's `last_slot`, so the rate
holds across all of them and no row is handed out twice.
"""

from __future__ import annotations

import threading
import time as time_module
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from cloud.messages import tables as t
from cloud.messages.gateways import Gateway, GatewayError
from cloud.messages.rules import CATEGORIES, MARKETING, backoff, reserve_slots, segments, send_not_before
from cloud.messages.settings import MessageSettings
from kiosk import protocol

Clock = Callable[[], datetime]
# Longer than any batch can take (rate batches of <= 1 s, 10 s provider timeouts, at most 32 in flight).
CLAIM_TIMEOUT = timedelta(minutes=15)


@dataclass(frozen=True)
class Outgoing:
    phone_e164: str
    text: str
    kind: str
    category: str
    member_id: str | None = None
    dedupe_key: str | None = None
    branch: str | None = None  # the member's shop: its time zone's quiet hours hold marketing


@dataclass(frozen=True)
class DrainReport:
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    paused_until: datetime | None = None
    last_error: str = ""
    unconfirmed: int = 0  # sent messages this drain marked as never reported (delivery_report_hours)


@dataclass(frozen=True)
class _Claim:
    batch: list[tuple[sa.Row, datetime]]  # (message, its send slot)
    held: int = 0
    seen: int = 0
    failures: int = 0  # the gateway's consecutive faults before this batch
    paused_until: datetime | None = None


class MessageQueue:
    def __init__(self, engine: Engine, settings: MessageSettings, *, clock: Clock,
                 sleep: Callable[[float], None] = time_module.sleep) -> None:
        self._engine = engine
        self.settings = settings
        self._clock = clock
        self._sleep = sleep

    def now(self) -> datetime:
        return self._clock()

    # -- enqueue ------------------------------------------------------------------------

    def enqueue(self, outgoing: Iterable[Outgoing], conn: Connection | None = None, *,
                not_before: datetime | None = None) -> int:
        """Queue messages (to go at `not_before`, or now); one whose dedupe key was ever queued is skipped.

        How many were queued.
        """
        now = self._clock()
        start = now if not_before is None else max(now, not_before)
        rows = []
        for message in outgoing:
            if message.category not in CATEGORIES:
                raise ValueError(f"category {message.category!r}: use one of {CATEGORIES}")
            zone = self.settings.zone_for(message.branch)
            rows.append({
                "member_id": message.member_id, "phone_e164": message.phone_e164, "text": message.text,
                "kind": message.kind, "category": message.category, "dedupe_key": message.dedupe_key,
                "state": t.QUEUED, "attempts": 0, "segments": segments(message.text),
                "not_before": protocol.format_time(send_not_before(start, message.category, self.settings.quiet, zone)),
                "time_zone": None if zone is self.settings.zone else zone.key,
                "created_at": protocol.format_time(now),
            })
        if conn is not None:
            return t.insert_ignoring_duplicates(conn, t.messages, rows, "dedupe_key")
        with self._engine.begin() as new_conn:
            return t.insert_ignoring_duplicates(new_conn, t.messages, rows, "dedupe_key")

    # -- drain --------------------------------------------------------------------------

    def drain(self, gateway: Gateway, *, max_messages: int | None = None) -> DrainReport:
        """Send what is due through `gateway` until nothing is due, the gateway faults, or `max_messages`.

        Up to `concurrency` messages are in flight at once (the provider's round trip, not our database, is
        what limits throughput). With the default 1 the provider gets them strictly in order, also across
        an outage; more in flight may let a message overtake the one before it (none is lost or sent twice).
        """
        self._resume_interrupted()
        unconfirmed = self.mark_unconfirmed()
        with ThreadPoolExecutor(self.settings.concurrency, thread_name_prefix=f"sms-{gateway.name}") as pool:
            return replace(self._drain(pool, gateway, max_messages), unconfirmed=unconfirmed)

    def _drain(self, pool: ThreadPoolExecutor, gateway: Gateway, max_messages: int | None) -> DrainReport:
        batch_size = max(1, int(self.settings.rate_per_second))
        sent = failed = deferred = 0
        while max_messages is None or sent + failed < max_messages:
            limit = batch_size if max_messages is None else min(batch_size, max_messages - sent - failed)
            claim = self._claim(gateway.name, self._clock(), limit)
            if claim.paused_until is not None:
                return DrainReport(sent, failed, deferred, claim.paused_until, self._last_error(gateway.name))
            deferred += claim.held
            failed += claim.seen - claim.held - len(claim.batch)  # marketing to a member without consent
            if not claim.seen:
                return DrainReport(sent, failed, deferred)
            if not claim.batch:
                continue
            results, fault = self._send_batch(pool, gateway, claim.batch)
            sent += sum(values["state"] == t.SENT for _, values in results)
            failed += sum(values["state"] == t.FAILED for _, values in results)
            paused = self._record(results, gateway.name, fault, claim.failures)
            if fault is not None:
                return DrainReport(sent, failed, deferred, paused, fault.reason)
        return DrainReport(sent, failed, deferred)

    def _send_batch(self, pool: ThreadPoolExecutor, gateway: Gateway, batch: list[tuple[sa.Row, datetime]],
                    ) -> tuple[list[tuple[int, dict]], GatewayError | None]:
        """Hand the batch to the gateway, each message no sooner than its slot; stop at the first gateway fault.

        A gateway with a bulk call (`batch_limit` > 1) takes chunks of that many at the slot of the chunk's
        last message, so the rate still holds for every message while a round trip carries many.
        """
        stop = threading.Event()
        in_flight = threading.Semaphore(self.settings.concurrency)
        size = max(1, int(getattr(gateway, "batch_limit", 1)))

        def send(rows: list[sa.Row]) -> list[object]:
            try:
                if size == 1:
                    row = rows[0]
                    outcomes: list[object] = [gateway.send(row.phone_e164, row.text, reference=f"m{row.message_id}")]
                else:
                    outcomes = list(gateway.send_many(  # type: ignore[attr-defined]
                        [(row.phone_e164, row.text, f"m{row.message_id}") for row in rows]))
            except GatewayError as exc:
                outcomes = [exc]
            if any(isinstance(o, GatewayError) and not o.message_fault for o in outcomes):
                stop.set()  # before the release below, so the submitting loop sees it
            in_flight.release()
            return outcomes

        submitted: list[tuple[list[sa.Row], Future]] = []
        for first in range(0, len(batch), size):
            chunk = batch[first:first + size]
            in_flight.acquire()
            if stop.is_set():
                in_flight.release()
                break
            wait = (chunk[-1][1] - self._clock()).total_seconds()
            if wait > 0:
                self._sleep(wait)
            rows = [row for row, _ in chunk]
            submitted.append((rows, pool.submit(send, rows) if self.settings.concurrency > 1 else _done(send(rows))))
        results: list[tuple[int, dict]] = []
        back: list[sa.Row] = []
        fault: GatewayError | None = None
        for rows, future in submitted:
            outcomes = future.result()
            for index, row in enumerate(rows):
                outcome = outcomes[index] if index < len(outcomes) else None
                if isinstance(outcome, GatewayError) and outcome.message_fault:
                    results.append((row.message_id, {"state": t.FAILED, "reason": outcome.reason,
                                                     "attempts": row.attempts + 1}))
                elif outcome is None or isinstance(outcome, GatewayError):
                    if isinstance(outcome, GatewayError):
                        fault = fault or outcome
                    back.append(row)
                else:
                    results.append((row.message_id, {"state": t.SENT, "provider_id": outcome.provider_id,
                                                     "attempts": row.attempts + 1}))
        back += [row for row, _ in batch[sum(len(rows) for rows, _ in submitted):]]
        if back:
            self._release(back, fault.reason if fault else f"{gateway.name} gave no outcome for these messages")
        return results, fault

    def _resume_interrupted(self) -> None:
        """Messages claimed by a drain that crashed go back to the queue, first in line (same reference).

        Only claims older than CLAIM_TIMEOUT: a younger one may belong to a drain still running.
        """
        stale = protocol.format_time(self._clock() - CLAIM_TIMEOUT)
        with self._engine.begin() as conn:
            conn.execute(sa.update(t.messages).where(t.messages.c.state == t.SENDING, t.messages.c.claimed_at < stale)
                         .values(state=t.QUEUED))

    def mark_unconfirmed(self) -> int:
        """Sent messages without a delivery report after `delivery_report_hours` become unconfirmed. How many.

        An unconfirmed message is never resent (the provider took it; sending again could text twice); a late
        report still marks it delivered or failed.
        """
        hours = self.settings.delivery_report_hours
        if not hours:
            return 0
        now = self._clock()
        with self._engine.begin() as conn:
            result = conn.execute(
                sa.update(t.messages)
                .where(t.messages.c.state == t.SENT,
                       t.messages.c.sent_at < protocol.format_time(now - timedelta(hours=hours)))
                .values(state=t.UNCONFIRMED, done_at=protocol.format_time(now),
                        reason=f"the provider took it but reported no delivery within {hours:g} h"))
        return result.rowcount

    def _gateway_row(self, conn: Connection, gateway: str) -> sa.Row:
        """The gateway's state row, locked for this transaction (PostgreSQL; SQLite already holds its lock)."""
        t.insert_ignoring_duplicates(conn, t.gateway_state, [{"gateway": gateway, "failures": 0}], "gateway")
        return conn.execute(sa.select(t.gateway_state).where(t.gateway_state.c.gateway == gateway)
                            .with_for_update()).one()

    def _claim(self, gateway: str, now: datetime, limit: int) -> _Claim:
        """Mark up to `limit` due messages as sending, each with its send slot; marketing that now falls in quiet
        hours (of its shop's zone), or whose member withdrew consent since it was queued, is held or failed."""
        stamp = protocol.format_time(now)
        with self._engine.begin() as conn:
            gate = self._gateway_row(conn, gateway)
            paused = protocol.parse_time(gate.paused_until) if gate.paused_until else None
            if paused is not None and paused > now:
                return _Claim([], failures=gate.failures, paused_until=paused)
            rows = conn.execute(
                sa.select(t.messages.c.message_id, t.messages.c.phone_e164, t.messages.c.text,
                          t.messages.c.attempts, t.messages.c.category, t.messages.c.member_id,
                          t.messages.c.time_zone, t.contacts.c.marketing_consent)
                .select_from(t.messages.outerjoin(t.contacts, t.contacts.c.member_id == t.messages.c.member_id))
                .where(t.messages.c.state == t.QUEUED, t.messages.c.not_before <= stamp)
                .order_by(t.messages.c.message_id).limit(limit)
                # PostgreSQL: two drains never claim the same rows (SQLite's write lock already serialises them).
                .with_for_update(skip_locked=True, of=t.messages)
            ).all()
            claimed, refused, held = [], [], 0
            for row in rows:
                if row.category == MARKETING:
                    if not row.marketing_consent:
                        refused.append(row.message_id)
                        continue
                    zone = ZoneInfo(row.time_zone) if row.time_zone else self.settings.zone
                    resume = send_not_before(now, MARKETING, self.settings.quiet, zone)
                    if resume > now:
                        conn.execute(sa.update(t.messages).where(t.messages.c.message_id == row.message_id)
                                     .values(not_before=protocol.format_time(resume)))
                        held += 1
                        continue
                claimed.append(row)
            if refused:
                conn.execute(sa.update(t.messages).where(t.messages.c.message_id.in_(refused)).values(
                    state=t.FAILED, reason="no marketing consent at send time (opted out or never gave it)",
                    done_at=stamp))
            if claimed:
                # Only rows still queued are ours: a drain running at the same time may have taken some.
                taken = set(conn.execute(
                    sa.update(t.messages)
                    .where(t.messages.c.message_id.in_([r.message_id for r in claimed]), t.messages.c.state == t.QUEUED)
                    .values(state=t.SENDING, claimed_at=stamp).returning(t.messages.c.message_id)).scalars())
                claimed = [r for r in claimed if r.message_id in taken]
            slots = reserve_slots(protocol.parse_time(gate.last_slot) if gate.last_slot else None, now,
                                  self.settings.rate_per_second, len(claimed))
            if slots:
                conn.execute(sa.update(t.gateway_state).where(t.gateway_state.c.gateway == gateway)
                             .values(last_slot=protocol.format_time(slots[-1])))
        return _Claim(list(zip(claimed, slots)), held, len(rows), gate.failures)

    def _release(self, rows: list[sa.Row], reason: str) -> None:
        """Claimed messages the gateway could not take go back, in order; the head one counts an attempt."""
        now = protocol.format_time(self._clock())
        with self._engine.begin() as conn:
            head = rows[0]
            if head.attempts + 1 >= self.settings.max_attempts:
                conn.execute(sa.update(t.messages).where(t.messages.c.message_id == head.message_id).values(
                    state=t.FAILED, attempts=head.attempts + 1, done_at=now,
                    reason=f"gave up after {head.attempts + 1} attempts: {reason}"))
            else:
                conn.execute(sa.update(t.messages).where(t.messages.c.message_id == head.message_id).values(
                    state=t.QUEUED, attempts=head.attempts + 1, reason=reason))
            conn.execute(sa.update(t.messages)
                         .where(t.messages.c.message_id.in_([r.message_id for r in rows[1:]]))
                         .values(state=t.QUEUED))

    def _record(self, results: list[tuple[int, dict]], gateway: str, fault: GatewayError | None,
                failures: int) -> datetime | None:
        """Write a batch's outcomes in one transaction (one statement per outcome); when the gateway paused."""
        now = self._clock()
        stamp = protocol.format_time(now)
        m = t.messages.c
        sent = [{"b_id": i, "b_provider": v["provider_id"], "b_attempts": v["attempts"]}
                for i, v in results if v["state"] == t.SENT]
        failed = [{"b_id": i, "b_reason": v["reason"], "b_attempts": v["attempts"]}
                  for i, v in results if v["state"] == t.FAILED]
        paused_until = None
        with self._engine.begin() as conn:
            if sent:
                conn.execute(sa.update(t.messages).where(m.message_id == sa.bindparam("b_id")).values(
                    state=t.SENT, gateway=gateway, reason=None, provider_id=sa.bindparam("b_provider"),
                    attempts=sa.bindparam("b_attempts"), sent_at=stamp), sent)
            if failed:
                conn.execute(sa.update(t.messages).where(m.message_id == sa.bindparam("b_id")).values(
                    state=t.FAILED, reason=sa.bindparam("b_reason"), attempts=sa.bindparam("b_attempts"),
                    done_at=stamp), failed)
            where = t.gateway_state.c.gateway == gateway
            if fault is None:
                if failures:
                    conn.execute(sa.update(t.gateway_state).where(where)
                                 .values(failures=0, paused_until=None, last_error=None))
                return None
            wait = (timedelta(seconds=fault.retry_after_s) if fault.retry_after_s is not None
                    else backoff(failures + 1))
            paused_until = now + wait
            conn.execute(sa.update(t.gateway_state).where(where).values(
                failures=failures + 1, paused_until=protocol.format_time(paused_until), last_error=fault.reason))
        return paused_until

    def _last_error(self, gateway: str) -> str:
        with self._engine.connect() as conn:
            return conn.execute(sa.select(t.gateway_state.c.last_error)
                                .where(t.gateway_state.c.gateway == gateway)).scalar() or ""

    # -- reports ------------------------------------------------------------------------

    def record_delivery(self, provider_id: str, state: str, reason: str = "") -> bool:
        """A provider's final delivery report; False when no sent message has that provider id."""
        if state not in (t.DELIVERED, t.FAILED):
            raise ValueError(f"delivery state {state!r}: use delivered or failed")
        with self._engine.begin() as conn:
            result = conn.execute(
                sa.update(t.messages)
                .where(t.messages.c.provider_id == provider_id,
                       t.messages.c.state.in_([t.SENT, t.DELIVERED, t.UNCONFIRMED]))
                .values(state=state, reason=reason or None, done_at=protocol.format_time(self._clock())))
        return bool(result.rowcount)

    def counts(self) -> dict[str, int]:
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(t.messages.c.state, sa.func.count())
                                .group_by(t.messages.c.state)).all()
        return {state: 0 for state in t.STATES} | {state: n for state, n in rows}


def _done(outcome: object) -> Future:
    """A finished future: with one message in flight the drain sends inline, sparing a thread hand-off each."""
    future: Future = Future()
    future.set_result(outcome)
    return future
