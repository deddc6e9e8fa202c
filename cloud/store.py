"""The reference cloud's own SQLite database: devices, tokens, events, members, config.

One short-lived connection per call (waitress serves from several threads); writes
run in `BEGIN IMMEDIATE` transactions so a batch is applied all or nothing and two
batches never interleave.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
import uuid
from collections.abc import Callable, Iterator
import contextlib
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

from cloud.errors import BadConfig, TokenError
from kiosk import protocol
from kiosk.clock import utcnow

Clock = Callable[[], datetime]
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Device:
    device_id: str
    branch: str
    key: str
    name: str
    registered_at: str
    last_seen_at: str | None
    events_count: int


@dataclass(frozen=True)
class Registration:
    device_id: str
    device_key: str
    branch: str


@dataclass(frozen=True)
class BranchConfig:
    branch: str
    body: str
    etag: str
    updated_at: str


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class CloudStore:
    """All SQL of the reference cloud. `clock` is injected so tests can move time."""

    def __init__(self, path: Path, clock: Clock = utcnow) -> None:
        self.path = Path(path)
        self.clock = clock
        self._migrate()

    @contextmanager
    def _connect(self) -> Iterator[sqlite_utils.Database]:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        try:
            conn.execute("PRAGMA busy_timeout = 30000")
            conn.execute("PRAGMA synchronous = FULL")
            yield sqlite_utils.Database(conn)
        finally:
            conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite_utils.Database]:
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def transaction(self) -> contextlib.AbstractContextManager[sqlite_utils.Database]:
        """A write transaction for modules that keep their own tables in this database (cloud/otp.py)."""
        return self._transaction()

    def _migrate(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            # The database holds device keys: nobody but the service user may read it.
            fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("BEGIN IMMEDIATE")
            try:
                self._create_tables(db)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    @staticmethod
    def _create_tables(db: sqlite_utils.Database) -> None:
        db["schema_version"].create({"version": int}, pk="version", if_not_exists=True)
        db.execute("INSERT OR IGNORE INTO schema_version (version) VALUES (?)", [SCHEMA_VERSION])
        db["tokens"].create(
            {"token_hash": str, "branch": str, "created_at": str, "expires_at": str,
             "used_at": str, "device_id": str},
            pk="token_hash", not_null={"branch", "created_at", "expires_at"}, if_not_exists=True,
        )
        db["devices"].create(
            {"device_id": str, "branch": str, "key": str, "name": str, "registered_at": str,
             "last_seen_at": str, "events_count": int},
            pk="device_id", not_null={"branch", "key", "registered_at"},
            defaults={"events_count": 0, "name": ""}, if_not_exists=True,
        )
        db["events"].create(
            {"event_id": str, "device_id": str, "kind": str, "member_id": str, "created_at": str,
             "received_at": str, "points": int, "digest": str, "payload": str},
            pk="event_id", not_null={"device_id", "kind", "member_id", "digest", "payload"},
            if_not_exists=True,
        )
        db["events"].create_index(["member_id"], if_not_exists=True)
        db["events"].create_index(["device_id"], if_not_exists=True)
        db["members"].create(
            {"member_id": str, "phone_e164": str, "name": str, "enrolled_at": str,
             "device_id": str, "branch": str},
            pk="member_id", if_not_exists=True,
        )
        db["members"].create_index(["phone_e164"], if_not_exists=True)
        db["cards"].create(
            {"card_ref": str, "member_id": str, "state": str, "changed_at": str},
            pk="card_ref", if_not_exists=True,
        )
        db["balances"].create(
            {"member_id": str, "points": int, "events": int}, pk="member_id", if_not_exists=True,
        )
        db["configs"].create(
            {"branch": str, "body": str, "etag": str, "updated_at": str},
            pk="branch", if_not_exists=True,
        )

    # -- tokens and registration ------------------------------------------------------

    def create_token(self, branch: str, valid_for: timedelta = timedelta(days=7)) -> str:
        """A one-time enrollment token for `branch`; only its hash is stored."""
        branch = branch.strip()
        if not branch:
            raise TokenError("a branch name is needed, for example --branch tehran-01")
        # A prefix keeps the token from starting with "-", which a command line would take for an option.
        token = "kt_" + secrets.token_urlsafe(24)
        now = self.clock()
        with self._transaction() as db:
            db["tokens"].insert({
                "token_hash": _hash_token(token), "branch": branch,
                "created_at": protocol.format_time(now),
                "expires_at": protocol.format_time(now + valid_for),
                "used_at": None, "device_id": None,
            })
        return token

    def register(self, token: str, name: str = "") -> Registration:
        """Spend a token (once) for a new device id and key."""
        now = self.clock()
        with self._transaction() as db:
            row = db.execute(
                "SELECT branch, expires_at, used_at FROM tokens WHERE token_hash = ?",
                [_hash_token(token)],
            ).fetchone()
            if row is None:
                raise TokenError("unknown enrollment token; create one with `kiosk-cloud token create`")
            branch, expires_at, used_at = row
            if used_at is not None:
                raise TokenError("this enrollment token was already used; create a new one")
            if protocol.parse_time(expires_at) < now:
                raise TokenError("this enrollment token has expired; create a new one")
            registration = Registration(str(uuid.uuid4()), protocol.new_device_key(), branch)
            db.execute(
                "UPDATE tokens SET used_at = ?, device_id = ? WHERE token_hash = ?",
                [protocol.format_time(now), registration.device_id, _hash_token(token)],
            )
            db["devices"].insert({
                "device_id": registration.device_id, "branch": branch,
                "key": registration.device_key, "name": name[:100],
                "registered_at": protocol.format_time(now), "last_seen_at": None,
                "events_count": 0,
            })
        return registration

    def device(self, device_id: str) -> Device | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT device_id, branch, key, name, registered_at, last_seen_at, events_count"
                " FROM devices WHERE device_id = ?",
                [device_id],
            ).fetchone()
        return Device(*row) if row else None

    def devices(self) -> list[Device]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT device_id, branch, key, name, registered_at, last_seen_at, events_count"
                " FROM devices ORDER BY branch, registered_at"
            ).fetchall()
        return [Device(*row) for row in rows]

    def touch(self, device_id: str) -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE devices SET last_seen_at = ? WHERE device_id = ?",
                [protocol.format_time(self.clock()), device_id],
            )

    # -- events -----------------------------------------------------------------------

    def ingest(self, device: Device, raw_events: list[Any]) -> list[dict[str, Any]]:
        """Apply one batch atomically; one result dict per event, in order."""
        now = protocol.format_time(self.clock())
        results: list[dict[str, Any]] = []
        accepted = 0
        with self._transaction() as db:
            for raw in raw_events:
                event_id = raw.get("event_id") if isinstance(raw, dict) else None
                try:
                    event = protocol.validate_event(raw)
                except protocol.InvalidEvent as exc:
                    results.append({"event_id": event_id, "status": protocol.REJECTED, "reason": str(exc)})
                    continue
                status, reason = self._apply(db, device, event, now)
                result = {"event_id": event_id, "status": status}
                if reason:
                    result["reason"] = reason
                results.append(result)
                accepted += status == protocol.ACCEPTED
            db.execute(
                "UPDATE devices SET last_seen_at = ?, events_count = events_count + ?"
                " WHERE device_id = ?",
                [now, accepted, device.device_id],
            )
        return results

    @staticmethod
    def _apply(db: sqlite_utils.Database, device: Device, event: dict[str, Any], now: str) -> tuple[str, str]:
        digest = protocol.event_digest(event)
        created_at = protocol.format_time(protocol.parse_time(event["created_at"]))
        points = protocol.counts_toward_balance(event)
        inserted = db.execute(
            "INSERT OR IGNORE INTO events (event_id, device_id, kind, member_id, created_at,"
            " received_at, points, digest, payload) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [event["event_id"], device.device_id, event["kind"], event["member_id"], created_at,
             now, points, digest, protocol.canonical_json(event)],
        ).rowcount
        if not inserted:
            (known,) = db.execute("SELECT digest FROM events WHERE event_id = ?", [event["event_id"]]).fetchone()
            if known == digest:
                return protocol.DUPLICATE, ""
            return protocol.REJECTED, "event_id already used for a different event; give each event a new UUID"
        kind = event["kind"]
        if kind in protocol.LEDGER_KINDS:
            db.execute(
                "INSERT INTO balances (member_id, points, events) VALUES (?, ?, 1)"
                " ON CONFLICT(member_id) DO UPDATE SET points = points + excluded.points,"
                " events = events + 1",
                [event["member_id"], points],
            )
        elif kind == "member_enrolled":
            db.execute(
                "INSERT OR IGNORE INTO members (member_id, phone_e164, name, enrolled_at, device_id,"
                " branch) VALUES (?, ?, ?, ?, ?, ?)",
                [event["member_id"], event["phone_e164"], event["name"], created_at,
                 device.device_id, device.branch],
            )
        elif kind == "card_bound":
            # A bind fixes the card's member whenever it arrives; its state only counts
            # if nothing newer (a block delivered first) is already known.
            db.execute(
                "INSERT INTO cards (card_ref, member_id, state, changed_at) VALUES (?, ?, 'active', ?)"
                " ON CONFLICT(card_ref) DO UPDATE SET member_id = excluded.member_id,"
                " state = CASE WHEN excluded.changed_at >= cards.changed_at THEN 'active' ELSE cards.state END,"
                " changed_at = max(excluded.changed_at, cards.changed_at)",
                [event["card_ref"], event["member_id"], created_at],
            )
        else:
            db.execute(
                "INSERT INTO cards (card_ref, member_id, state, changed_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(card_ref) DO UPDATE SET state = excluded.state, changed_at = excluded.changed_at"
                " WHERE excluded.changed_at >= cards.changed_at",
                [event["card_ref"], event["member_id"], event["state"], created_at],
            )
        return protocol.ACCEPTED, ""

    def event_ids(self, device_id: str | None = None) -> list[str]:
        """Every stored event id (for one device), for audits and tests."""
        with self._connect() as db:
            if device_id is None:
                rows = db.execute("SELECT event_id FROM events ORDER BY rowid").fetchall()
            else:
                rows = db.execute(
                    "SELECT event_id FROM events WHERE device_id = ? ORDER BY rowid", [device_id]
                ).fetchall()
        return [row[0] for row in rows]

    # -- members ----------------------------------------------------------------------

    def lookup(self, *, card_ref: str | None = None, member_id: str | None = None) -> dict[str, Any] | None:
        """Chain-wide member, card and balance, or None when the cloud has never heard of it."""
        with self._connect() as db:
            card = None
            if card_ref is not None:
                card = db.execute(
                    "SELECT card_ref, member_id, state, changed_at FROM cards WHERE card_ref = ?", [card_ref]
                ).fetchone()
                if card is None:
                    return None
                member_id = card[1]
            member = db.execute(
                "SELECT member_id, phone_e164, name, enrolled_at, branch FROM members WHERE member_id = ?",
                [member_id],
            ).fetchone()
            balance = db.execute(
                "SELECT points, events FROM balances WHERE member_id = ?", [member_id]
            ).fetchone()
        if member is None and balance is None and card is None:
            return None
        return {
            "member_id": member_id,
            "member": None if member is None else dict(
                zip(("member_id", "phone_e164", "name", "enrolled_at", "branch"), member)
            ),
            "card": None if card is None else dict(zip(("card_ref", "member_id", "state", "changed_at"), card)),
            "balance": balance[0] if balance else 0,
            "ledger_events": balance[1] if balance else 0,
        }

    # -- config -----------------------------------------------------------------------

    def set_config(self, branch: str, document: Any) -> BranchConfig:
        try:
            protocol.validate_config(document)
        except protocol.InvalidConfig as exc:
            raise BadConfig(str(exc)) from exc
        body = protocol.canonical_json(document)
        config = BranchConfig(branch, body, protocol.config_etag(document), protocol.format_time(self.clock()))
        with self._transaction() as db:
            db["configs"].upsert(config.__dict__, pk="branch")
        return config

    def config(self, branch: str) -> BranchConfig | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT branch, body, etag, updated_at FROM configs WHERE branch = ?", [branch]
            ).fetchone()
        return BranchConfig(*row) if row else None

    # -- status -----------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        with self._connect() as db:
            return {
                table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # noqa: S608 fixed names
                for table in ("devices", "events", "members", "cards", "configs")
            }


def load_config_file(path: Path) -> Any:
    """Read a branch config JSON file with an error that says what to fix."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise BadConfig(f"cannot read config file {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise BadConfig(f"config file {path} is not valid JSON: {exc}") from exc
