"""The reference cloud's device-facing data: tokens, devices, events, members, cards, balances, config.

Every query goes through cloud.db (SQLAlchemy Core), so the same code serves a SQLite file and
PostgreSQL. Each call is one transaction: a batch is applied all or nothing, and the store keeps no
state of its own beyond the connection pool, so several processes can share one database.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Select, Text, bindparam, case, or_, select, text, update

from cloud import audit, engagement_ingest, purchase_effects, status_counts, wallet
from cloud.db import Database, migrate
from cloud.db.schema import balances, cards, configs, credit_balances, devices, events, members, tokens
from cloud.errors import BadConfig, ConfigConflict, TokenError
from cloud.names import fold_name
from kiosk import protocol
from kiosk.clock import utcnow

Clock = Callable[[], datetime]


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


_DEVICE_COLUMNS = (devices.c.device_id, devices.c.branch, devices.c.key, devices.c.name,
                   devices.c.registered_at, devices.c.last_seen_at, devices.c.events_count)


class CloudStore:
    """Device-protocol SQL of the cloud. `clock` is injected so tests can move time.

    `database` is a SQLite file path or a postgresql:// URL (or an open `Database`); the schema is
    migrated to the newest revision on open unless `migrate_schema` is False.
    """

    def __init__(self, database: Database | str | os.PathLike[str], clock: Clock = utcnow,
                 *, migrate_schema: bool = True) -> None:
        self.db = database if isinstance(database, Database) else Database(database)
        self.clock = clock
        self._sql = _IngestStatements(self.db)
        self._lookup = _LookupStatements()
        # Every signed request reads its device first: built once, like the look-up's statements.
        self._device_by_id = select(*_DEVICE_COLUMNS).where(devices.c.device_id == bindparam("device_id", type_=Text))
        if migrate_schema:
            migrate(self.db)

    def close(self) -> None:
        """Close the pooled connections (a process that opened several stores, tests)."""
        self.db.close()

    def __enter__(self) -> CloudStore:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @property
    def path(self) -> Path | None:
        """The SQLite file, or None on PostgreSQL."""
        return self.db.path

    def transaction(self) -> AbstractContextManager[Connection]:
        """A write transaction for modules that keep their own tables in this database (cloud/otp.py)."""
        return self.db.write()

    # -- tokens and registration ------------------------------------------------------

    def create_token(self, branch: str, valid_for: timedelta = timedelta(days=7)) -> str:
        """A one-time enrollment token for `branch`; only its hash is stored."""
        branch = branch.strip()
        if not branch:
            raise TokenError("a branch name is needed, for example --branch tehran-01")
        # A prefix keeps the token from starting with "-", which a command line would take for an option.
        token = "kt_" + secrets.token_urlsafe(24)
        now = self.clock()
        with self.db.write() as conn:
            conn.execute(tokens.insert().values(
                token_hash=_hash_token(token), branch=branch, created_at=protocol.format_time(now),
                expires_at=protocol.format_time(now + valid_for),
            ))
        return token

    def register(self, token: str, name: str = "") -> Registration:
        """Spend a token (once) for a new device id and key."""
        now = self.clock()
        with self.db.write() as conn:
            row = conn.execute(
                select(tokens.c.branch, tokens.c.expires_at, tokens.c.used_at)
                .where(tokens.c.token_hash == _hash_token(token)).with_for_update()
            ).first()
            if row is None:
                raise TokenError("unknown enrollment token; create one with `kiosk-cloud token create`")
            branch, expires_at, used_at = row
            if used_at is not None:
                raise TokenError("this enrollment token was already used; create a new one")
            if protocol.parse_time(expires_at) < now:
                raise TokenError("this enrollment token has expired; create a new one")
            registration = Registration(str(uuid.uuid4()), protocol.new_device_key(), branch)
            conn.execute(update(tokens).where(tokens.c.token_hash == _hash_token(token)).values(
                used_at=protocol.format_time(now), device_id=registration.device_id))
            conn.execute(devices.insert().values(
                device_id=registration.device_id, branch=branch, key=registration.device_key,
                name=name[:100], registered_at=protocol.format_time(now), events_count=0,
            ))
        return registration

    def device(self, device_id: str) -> Device | None:
        with self.db.read() as conn:
            row = conn.execute(self._device_by_id, {"device_id": device_id}).first()
        return Device(*row) if row else None

    def devices(self, branches: frozenset[str] | None = None) -> list[Device]:
        """Every device (of `branches`, when given), by branch and registration."""
        query = select(*_DEVICE_COLUMNS).order_by(devices.c.branch, devices.c.registered_at)
        if branches is not None:
            query = query.where(devices.c.branch.in_(sorted(branches)))
        with self.db.read() as conn:
            return [Device(*row) for row in conn.execute(query)]

    def touch(self, device_id: str) -> None:
        with self.db.write() as conn:
            conn.execute(update(devices).where(devices.c.device_id == device_id)
                         .values(last_seen_at=protocol.format_time(self.clock())))

    # -- events -----------------------------------------------------------------------

    def ingest(self, device: Device, raw_events: list[Any]) -> list[dict[str, Any]]:
        """Apply one batch atomically; one result dict per event, in order.

        A batch costs a handful of statements whatever its length (one multi-row insert of the events, one
        look-up of the ids already stored, one upsert of the touched balances), not one per event: at a
        chain's rate the round trips to the database, not the work in it, are what limits ingest.
        Raises DatabaseUnavailable when the database cannot be reached: nothing of the batch is kept.
        """
        now = protocol.format_time(self.clock())
        results: list[dict[str, Any] | None] = [None] * len(raw_events)
        # event_id -> (index, event, digest, payload), first sighting; the payload is the canonical JSON the digest
        # hashes, spelled once per event.
        fresh: dict[str, tuple[int, dict[str, Any], str, str]] = {}
        repeats: list[tuple[int, str, str]] = []  # the same event_id again inside this batch
        for index, raw in enumerate(raw_events):
            event_id = raw.get("event_id") if isinstance(raw, dict) else None
            try:
                event = protocol.validate_event(raw)
            except protocol.InvalidEvent as exc:
                results[index] = {"event_id": event_id, "status": protocol.REJECTED, "reason": str(exc)}
                continue
            payload = protocol.canonical_json(event)
            digest = protocol.payload_digest(payload)
            if event["event_id"] in fresh:
                repeats.append((index, event["event_id"], digest))
            else:
                fresh[event["event_id"]] = (index, event, digest, payload)
        accepted = 0
        with self.db.write() as conn:
            stored = self._insert_events(conn, device, list(fresh.values()), now)
            for event_id, (index, _event, _digest, _payload) in fresh.items():
                if event_id in stored:
                    results[index] = {"event_id": event_id, "status": protocol.ACCEPTED}
                    accepted += 1
            self._apply_effects(conn, device, [fresh[event_id][1] for event_id in stored])
            known = self._known_digests(conn, [e for e in fresh if e not in stored] + [r[1] for r in repeats])
            known.update({event_id: fresh[event_id][2] for event_id in stored})
            for event_id, (index, _event, digest, _payload) in fresh.items():
                if event_id not in stored:
                    results[index] = self._resent(event_id, digest, known[event_id])
            for index, event_id, digest in repeats:
                results[index] = self._resent(event_id, digest, known[event_id])
            conn.execute(update(devices).where(devices.c.device_id == device.device_id).values(
                last_seen_at=now, events_count=devices.c.events_count + accepted))
        return [r for r in results if r is not None]

    @staticmethod
    def _resent(event_id: str, digest: str, known: str) -> dict[str, Any]:
        if known == digest:
            return {"event_id": event_id, "status": protocol.DUPLICATE}
        return {"event_id": event_id, "status": protocol.REJECTED,
                "reason": "event_id already used for a different event; give each event a new UUID"}

    def _insert_events(self, conn: Connection, device: Device, items: list[tuple[int, dict[str, Any], str, str]],
                       now: str) -> dict[str, None]:
        """Insert the batch's events in one statement; the ids actually stored (new ones), in batch order."""
        if not items:
            return {}
        rows = [self._event_row(device, event, digest, payload, now) for _index, event, digest, payload in items]
        if self.db.dialect == "postgresql":
            # The whole batch as one JSON parameter the server unpacks (json_to_recordset): one short statement
            # whatever the batch's length, and json.dumps (C) encodes it, where psycopg's text arrays quoted every
            # value with a regular expression (a third of a batch's time in the cloud process).
            inserted = set(conn.execute(self._sql.insert_events_json, {"rows": json.dumps(rows)}).scalars())
        else:
            inserted = set(conn.execute(self._sql.insert_events, rows).scalars())
        return {event["event_id"]: None for _index, event, _digest, _payload in items if event["event_id"] in inserted}

    def _known_digests(self, conn: Connection, event_ids: list[str]) -> dict[str, str]:
        if not event_ids:
            return {}
        return dict(conn.execute(select(events.c.event_id, events.c.digest)
                                 .where(events.c.event_id.in_(sorted(set(event_ids))))).all())

    @staticmethod
    def _event_row(device: Device, event: dict[str, Any], digest: str, payload: str, now: str) -> dict[str, Any]:
        return {"event_id": event["event_id"], "device_id": device.device_id, "branch": device.branch,
                "kind": event["kind"], "member_id": event["member_id"],
                "created_at": protocol.format_time(protocol.parse_time(event["created_at"])), "received_at": now,
                "points": protocol.counts_toward_balance(event), "amount": event.get("amount") or 0,
                "digest": digest, "payload": payload}

    def _apply_effects(self, conn: Connection, device: Device, stored: list[dict[str, Any]]) -> None:
        """Balances, members and cards of the events just stored: balances summed per member into one upsert,
        enrolments in one insert, card changes one by one in batch order (a later one may depend on an earlier)."""
        sums: dict[str, list[int]] = {}
        enrolments, profiles = [], []
        for event in stored:
            kind = event["kind"]
            if kind in protocol.LEDGER_KINDS:
                total = sums.setdefault(event["member_id"], [0, 0])
                total[0] += protocol.counts_toward_balance(event)
                total[1] += 1
                if kind == "redeem":
                    wallet.coupon_issued(conn, self.db, device, event)
            elif kind in protocol.WALLET_KINDS:
                wallet.apply(conn, self.db, device, event)
            elif kind == "member_enrolled":
                enrolments.append(self._member_row(device, event))
            elif kind == "member_updated":
                profiles.append(event)  # after the batch's enrolments: the member may have joined in this batch
            elif kind == "consent_withdrawn":
                pass  # kept in events: the message jobs apply it to the contacts (cloud/messages/contacts.py)
            elif kind in protocol.ENGAGEMENT_KINDS:
                engagement_ingest.apply(conn, device, event,
                                        protocol.format_time(protocol.parse_time(event["created_at"])))
            else:
                self._apply_card(conn, event)
        if sums:
            # In member order: two batches touching the same members lock their balance rows in the same order,
            # so they wait for each other instead of deadlocking.
            touched = [{"member_id": member_id, "points": sums[member_id][0], "events": sums[member_id][1]}
                       for member_id in sorted(sums)]
            if self.db.dialect == "postgresql":
                conn.execute(self._sql.add_to_balance_json, {"rows": json.dumps(touched)})
            else:
                conn.execute(self._sql.add_to_balance, touched)
        if enrolments:
            conn.execute(self._sql.insert_member, enrolments)
        for event in profiles:
            self._update_profile(conn, event)
        purchase_effects.apply(conn, device.branch, [e for e in stored if e["kind"] == "earn"])

    @staticmethod
    def _member_row(device: Device, event: dict[str, Any]) -> dict[str, Any]:
        return {"member_id": event["member_id"], "phone_e164": event["phone_e164"], "name": event["name"],
                "name_folded": fold_name(event["name"]),
                "enrolled_at": protocol.format_time(protocol.parse_time(event["created_at"])),
                "device_id": device.device_id, "branch": device.branch, "birthday": event.get("birthday"),
                "language": event.get("language"),
                "profile_at": protocol.format_time(protocol.parse_time(event["created_at"]))}

    @staticmethod
    def _update_profile(conn: Connection, event: dict[str, Any]) -> None:
        """A profile edited at a kiosk (member_updated): kept unless an edit made later is already here (two
        branches' edits arrive in any order; the latest made wins)."""
        at = protocol.format_time(protocol.parse_time(event["created_at"]))
        conn.execute(update(members).where(
            members.c.member_id == event["member_id"],
            or_(members.c.profile_at.is_(None), members.c.profile_at <= at),
        ).values(name=event["name"], name_folded=fold_name(event["name"]), birthday=event.get("birthday"),
                 language=event.get("language"), profile_at=at))

    def _apply_card(self, conn: Connection, event: dict[str, Any]) -> None:
        changed_at = protocol.format_time(protocol.parse_time(event["created_at"]))
        if event["kind"] == "card_bound":
            conn.execute(self._sql.bind_card, {"card_ref": event["card_ref"], "member_id": event["member_id"],
                                               "state": "active", "changed_at": changed_at})
        else:
            conn.execute(self._sql.set_card_state, {"card_ref": event["card_ref"], "member_id": event["member_id"],
                                                    "state": event["state"], "changed_at": changed_at})

    def _apply(self, conn: Connection, device: Device, event: dict[str, Any], now: str) -> tuple[str, str]:
        """One event made in the cloud (a console change): stored and applied like a kiosk's."""
        payload = protocol.canonical_json(event)
        digest = protocol.payload_digest(payload)
        if not self._insert_events(conn, device, [(0, event, digest, payload)], now):
            return self._resent(event["event_id"], digest,
                                self._known_digests(conn, [event["event_id"]])[event["event_id"]])["status"], ""
        self._apply_effects(conn, device, [event])
        return protocol.ACCEPTED, ""

    def adjust(self, member_id: str, points: int, reason: str, actor: str) -> int:
        """A staff adjustment from the console: an `adjust` ledger event (checked like a kiosk's), audited in
        the same transaction; returns the new chain-wide balance. Kiosks see it at their next look-up."""
        reason = reason.strip()
        if not reason:
            raise BadConfig("an adjustment needs a reason (it is kept in the ledger and the audit log)")
        now = self.clock()
        try:
            event = protocol.validate_event(protocol.make_event(
                "adjust", member_id, now, points=points, reason=reason[:200], staff_id=f"console:{actor}"[:64]))
        except protocol.InvalidEvent as exc:
            raise BadConfig(f"this adjustment is not allowed: {exc}") from exc
        with self.db.write() as conn:
            branch = conn.execute(select(members.c.branch).where(members.c.member_id == member_id)).scalar()
            if branch is None:
                raise BadConfig(f"no member {member_id!r}")
            before = conn.execute(select(balances.c.points).where(balances.c.member_id == member_id)).scalar() or 0
            console = Device(f"console:{actor}", branch, "", "console", "", None, 0)
            self._apply(conn, console, event, protocol.format_time(now))
            audit.record(conn, at=protocol.format_time(now), actor=actor, action="member.adjust", target=member_id,
                         before={"balance": before}, after={"balance": before + points, "reason": reason})
        return before + points

    def set_card_state(self, card_ref: str, state: str, actor: str) -> None:
        """Block, mark lost or re-activate a card from the console: a `card_state` event, audited. A kiosk's
        look-up of the card then sees the state."""
        now = self.clock()
        with self.db.write() as conn:
            card = conn.execute(select(cards.c.member_id, cards.c.state).where(cards.c.card_ref == card_ref)).first()
            if card is None:
                raise BadConfig("no such card")
            try:
                event = protocol.validate_event(protocol.make_event(
                    "card_state", card.member_id, now, card_ref=card_ref, state=state,
                    staff_id=f"console:{actor}"[:64]))
            except protocol.InvalidEvent as exc:
                raise BadConfig(f"this card change is not allowed: {exc}") from exc
            branch = conn.execute(select(members.c.branch).where(members.c.member_id == card.member_id)).scalar()
            self._apply(conn, Device(f"console:{actor}", branch or "", "", "console", "", None, 0), event,
                        protocol.format_time(now))
            audit.record(conn, at=protocol.format_time(now), actor=actor, action="card.state", target=card_ref,
                         before={"state": card.state}, after={"state": state})

    def move_card(self, card_ref: str, to_member_id: str, actor: str) -> None:
        """Give a card to another member from the console (a lost card found, a family's card): a `card_bound`
        event for the new member, audited; the card is active for them. A kiosk's look-up then finds them."""
        now = self.clock()
        to_member_id = to_member_id.strip()
        with self.db.write() as conn:
            card = conn.execute(select(cards.c.member_id, cards.c.state).where(cards.c.card_ref == card_ref)).first()
            if card is None:
                raise BadConfig("no such card")
            if to_member_id == card.member_id:
                raise BadConfig("the card already belongs to this member")
            branch = conn.execute(select(members.c.branch).where(members.c.member_id == to_member_id)).scalar()
            if branch is None:
                raise BadConfig(f"no member {to_member_id!r}: give the member id shown on their page")
            try:
                event = protocol.validate_event(protocol.make_event("card_bound", to_member_id, now, card_ref=card_ref))
            except protocol.InvalidEvent as exc:
                raise BadConfig(f"this card move is not allowed: {exc}") from exc
            self._apply(conn, Device(f"console:{actor}", branch, "", "console", "", None, 0), event,
                        protocol.format_time(now))
            audit.record(conn, at=protocol.format_time(now), actor=actor, action="card.move", target=card_ref,
                         before={"member_id": card.member_id, "state": card.state},
                         after={"member_id": to_member_id, "state": "active"})

    def member_branch(self, member_id: str) -> str | None:
        with self.db.read() as conn:
            return conn.execute(select(members.c.branch).where(members.c.member_id == member_id)).scalar()

    def event_ids(self, device_id: str | None = None) -> list[str]:
        """Every stored event id (for one device) in arrival order, for audits and tests."""
        query = select(events.c.event_id).order_by(events.c.seq)
        if device_id is not None:
            query = query.where(events.c.device_id == device_id)
        with self.db.read() as conn:
            return list(conn.execute(query).scalars())

    # -- members ----------------------------------------------------------------------

    def lookup(self, *, card_ref: str | None = None, member_id: str | None = None) -> dict[str, Any] | None:
        """Chain-wide member, card and balance, or None when the cloud has never heard of it.

        Two statements (the card, member, balance and credit rows joined; then the unused coupons), both built once
        per store: a kiosk waits on this at every tap, so it pays for as few round trips to the database, and as
        little statement building, as the answer needs."""
        sql = self._lookup
        with self.db.read() as conn:
            if card_ref is not None:
                row = conn.execute(sql.by_card, {"card_ref": card_ref}).mappings().first()
            else:
                row = conn.execute(sql.by_member, {"member_id": member_id}).mappings().first()
            if row is None:
                return None
            member_id = row["key"]
            unused = ([dict(coupon) for coupon in conn.execute(sql.unused_coupons, {"member_id": member_id}).mappings()]
                      if member_id else [])
        profile = _LookupStatements.PROFILE
        card = {c.name: row[c.name] for c in cards.c} if card_ref is not None else None
        member = {name: row[f"member_{name}"] for name in profile} if row["member_member_id"] is not None else None
        if member is None and row["balance_of"] is None and card is None:
            return None
        return {
            "member_id": member_id,
            "member": member,
            "card": card,
            "balance": row["points"] or 0,
            "ledger_events": row["ledger_events"] or 0,
            "credit_rial": int(row["credit_rial"] or 0),
            "coupons": unused,
        }

    # -- config -----------------------------------------------------------------------

    def set_config(self, branch: str, document: Any, *, actor: str | None = None, expected_etag: str | None = None,
                   action: str = "config.set", audited: Callable[[Any], Any] | None = None) -> BranchConfig:
        """Store a branch's config (the kiosks pull it by ETag); with `actor`, audited in the same transaction.

        With `expected_etag` the config is only replaced if it is still the version the editor started from
        (ConfigConflict otherwise), so two people editing one branch never silently undo each other.
        `audited` picks what the audit log keeps of the before and after documents (all of it by default).
        """
        try:
            protocol.validate_config(document)
        except protocol.InvalidConfig as exc:
            raise BadConfig(str(exc)) from exc
        body = protocol.canonical_json(document)
        config = BranchConfig(branch, body, protocol.config_etag(document), protocol.format_time(self.clock()))
        upsert = self.db.insert(configs).values(**config.__dict__)
        view = audited or (lambda d: d)
        with self.db.write() as conn:
            before = conn.execute(select(configs.c.body).where(configs.c.branch == branch)).scalar()
            if expected_etag is not None:
                # One conditional UPDATE: atomic on both engines, whatever the isolation level.
                changed = conn.execute(update(configs).where(configs.c.branch == branch,
                                                             configs.c.etag == expected_etag)
                                       .values(body=body, etag=config.etag, updated_at=config.updated_at)).rowcount
                if changed != 1:
                    raise ConfigConflict(f"the config of branch {branch!r} was changed by someone else meanwhile: "
                                         "open the page again and redo the change")
            else:
                conn.execute(upsert.on_conflict_do_update(
                    index_elements=[configs.c.branch],
                    set_={"body": upsert.excluded.body, "etag": upsert.excluded.etag,
                          "updated_at": upsert.excluded.updated_at},
                ))
            if actor is not None:
                audit.record(conn, at=config.updated_at, actor=actor, action=action, target=branch,
                             before=None if before is None else view(json.loads(before)), after=view(document))
        return config

    def branches(self) -> list[str]:
        """Every branch the cloud knows: with a device or a config."""
        with self.db.read() as conn:
            names = set(conn.execute(select(devices.c.branch).distinct()).scalars())
            names |= set(conn.execute(select(configs.c.branch)).scalars())
        return sorted(names)

    def config(self, branch: str) -> BranchConfig | None:
        with self.db.read() as conn:
            row = conn.execute(select(configs.c.branch, configs.c.body, configs.c.etag, configs.c.updated_at)
                               .where(configs.c.branch == branch)).first()
        return BranchConfig(*row) if row else None

    # -- status -----------------------------------------------------------------------

    def counts(self, exact_below: int = status_counts.EXACT_BELOW) -> status_counts.Counts:
        return status_counts.table_counts(self.db, (devices, events, members, cards, configs), exact_below)


_EVENT_COLUMNS = ("event_id", "device_id", "branch", "kind", "member_id", "created_at", "received_at", "points",
                  "amount", "digest", "payload")


class _LookupStatements:
    """The member look-up's statements, built once per store (SQLAlchemy then compiles each once, and psycopg
    prepares them server-side after a few runs); the card ref or member id is bound at execution."""

    PROFILE = ("member_id", "phone_e164", "name", "enrolled_at", "branch", "birthday", "language", "profile_at")

    def __init__(self) -> None:
        member_columns = [members.c[name].label(f"member_{name}") for name in self.PROFILE]
        by_card = cards.outerjoin(members, members.c.member_id == cards.c.member_id)
        self.by_card = self._with_balances(select(*cards.c, *member_columns), by_card, cards.c.member_id) \
            .where(cards.c.card_ref == bindparam("card_ref", type_=Text))
        asked = select(bindparam("member_id", type_=Text).label("member_id")).subquery("asked")
        by_member = asked.outerjoin(members, members.c.member_id == asked.c.member_id)
        self.by_member = self._with_balances(select(*member_columns), by_member, asked.c.member_id)
        self.unused_coupons = wallet.unused_statement()

    @staticmethod
    def _with_balances(found: Select[Any], source: Any, key: Any) -> Select[Any]:
        source = (source.outerjoin(balances, balances.c.member_id == key)
                  .outerjoin(credit_balances, credit_balances.c.member_id == key))
        return found.add_columns(key.label("key"), balances.c.member_id.label("balance_of"),
                                 balances.c.points.label("points"), balances.c.events.label("ledger_events"),
                                 credit_balances.c.credit_rial).select_from(source)


class _IngestStatements:
    """The ingest's statements, built once per store: SQLAlchemy then compiles each once (cached), and a
    batch pays only for executing them. Parameters are passed at execution."""

    def __init__(self, db: Database) -> None:
        # RETURNING, not rowcount, tells an insert from a conflict: with RETURNING, psycopg reports rowcount -1.
        # With a list of rows SQLAlchemy sends one multi-row INSERT (insertmanyvalues), and RETURNING names the
        # rows that went in: a conflict (an id already stored) returns nothing for its row.
        self.insert_events = db.insert(events).on_conflict_do_nothing().returning(events.c.event_id)
        record = ", ".join(f"{name} {'bigint' if name in ('points', 'amount') else 'text'}" for name in _EVENT_COLUMNS)
        self.insert_events_json = text(
            f"INSERT INTO events ({', '.join(_EVENT_COLUMNS)}) SELECT {', '.join(_EVENT_COLUMNS)} "
            f"FROM json_to_recordset(CAST(:rows AS json)) AS r({record}) "
            "ON CONFLICT (event_id) DO NOTHING RETURNING event_id")
        self.add_to_balance_json = text(
            "INSERT INTO balances (member_id, points, events) SELECT member_id, points, events "
            "FROM json_to_recordset(CAST(:rows AS json)) AS r(member_id text, points bigint, events bigint) "
            "ON CONFLICT (member_id) DO UPDATE SET points = balances.points + excluded.points, "
            "events = balances.events + excluded.events")
        balance = db.insert(balances)
        self.add_to_balance = balance.on_conflict_do_update(
            index_elements=[balances.c.member_id],
            set_={"points": balances.c.points + balance.excluded.points,
                  "events": balances.c.events + balance.excluded.events})
        self.insert_member = db.insert(members).on_conflict_do_nothing()
        # A bind fixes the card's member whenever it arrives; its state only counts
        # if nothing newer (a block delivered first) is already known.
        bind = db.insert(cards)
        newer = bind.excluded.changed_at >= cards.c.changed_at
        self.bind_card = bind.on_conflict_do_update(index_elements=[cards.c.card_ref], set_={
            "member_id": bind.excluded.member_id,
            "state": case((newer, "active"), else_=cards.c.state),
            "changed_at": case((newer, bind.excluded.changed_at), else_=cards.c.changed_at),
        })
        state = db.insert(cards)
        self.set_card_state = state.on_conflict_do_update(
            index_elements=[cards.c.card_ref],
            set_={"state": state.excluded.state, "changed_at": state.excluded.changed_at},
            where=state.excluded.changed_at >= cards.c.changed_at)


def load_config_file(path: Path) -> Any:
    """Read a branch config JSON file with an error that says what to fix."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise BadConfig(f"cannot read config file {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise BadConfig(f"config file {path} is not valid JSON: {exc}") from exc
