"""The kiosk <-> cloud wire protocol: request signing, the batch and event formats (specified in docs/protocol.md).

Pure functions only (no I/O, no clock of its own): both the kiosk's sync worker and the reference cloud
(`cloud/`) import this module, so the two sides cannot drift. Every event kind's keys are listed in
_KEYS_BY_KIND below; any other key is refused, so a raw UID or track data cannot ride along by mistake.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from kiosk.errors import KioskError
from kiosk.rules.complaints import complaint_problem
from kiosk.rules.ledger import CREDIT_KINDS, DEBIT_KINDS, LedgerKind
from kiosk.rules.surveys import SURVEY_ID, answer_shape_problem

PROTOCOL_VERSION = "v1"
HEADER_DEVICE = "X-Kiosk-Device"
HEADER_TIMESTAMP = "X-Kiosk-Timestamp"
HEADER_SIGNATURE = "X-Kiosk-Signature"
HEADER_SERVER_TIME = "X-Kiosk-Server-Time"
SIGNATURE_WINDOW = timedelta(minutes=5)
DEVICE_KEY_HEX_LENGTH = 64

MAX_BATCH_EVENTS = 1000
MAX_BATCH_BYTES = 2_000_000

LEDGER_KINDS = frozenset(LedgerKind)
MEMBER_KINDS = frozenset({"member_enrolled", "member_updated", "card_bound", "card_state", "consent_withdrawn"})
# Engagement (issue 14): survey answers and complaints (kiosk.rules.surveys, kiosk.rules.complaints), and
# entries in a draw, whose points travel as a separate redeem ledger event.
ENGAGEMENT_KINDS = frozenset({"survey_answered", "complaint_filed", "draw_entry"})
DRAW_ENTRY_SOURCES = frozenset({"points", "purchase", "survey"})
# The wallet across branches (issue 11): a coupon used or given back at a till, and every move of the purchase
# credit (cashback in, till spending out, reversals), so the cloud holds coupons and credit chain-wide.
WALLET_KINDS = frozenset({"coupon_used", "coupon_released", "credit_moved", "credit_released"})
CREDIT_MOVES = frozenset({"cashback", "spend", "reversal"})
KINDS = LEDGER_KINDS | MEMBER_KINDS | ENGAGEMENT_KINDS | WALLET_KINDS
ORIGINS = frozenset({"device", "cloud_correction"})
CARD_STATES = frozenset({"active", "blocked", "lost"})
# The kiosk's store has no origin column: a correction is an adjust whose reason
# starts with this token (see event_from_outbox).
CLOUD_CORRECTION_REASON = "cloud_correction:"

ACCEPTED = "accepted"
DUPLICATE = "duplicate"
REJECTED = "rejected"
DELIVERED_STATUSES = frozenset({ACCEPTED, DUPLICATE})

CONFIG_SECTIONS = {"rules": dict, "tiers": list, "rewards": list, "campaigns": list}

_COMMON_KEYS = {"event_id", "kind", "member_id", "created_at"}
_KEYS_BY_KIND = {
    **{kind: _COMMON_KEYS | {"points", "amount", "reason", "origin", "receipt_id", "staff_id"} for kind in LEDGER_KINDS},
    # A purchase also says which campaigns added points to it and the purchase credit (cashback) it gave:
    # what the console's campaign results and weekly reports count (cloud/campaign_results.py, cloud/reports.py).
    "earn": _COMMON_KEYS | {"points", "amount", "reason", "origin", "receipt_id", "staff_id", "campaigns", "cashback"},
    "member_enrolled": _COMMON_KEYS | {"phone_e164", "name", "birthday", "consent", "language", "referred_by"},
    "member_updated": _COMMON_KEYS | {"name", "birthday", "language"},  # the profile after an edit at a kiosk
    "card_bound": _COMMON_KEYS | {"card_ref"},
    "card_state": _COMMON_KEYS | {"card_ref", "state", "staff_id"},
    "survey_answered": _COMMON_KEYS | {"survey_id", "answers", "language"},
    "complaint_filed": _COMMON_KEYS | {"code", "phone_e164", "subject", "text", "language"},
    "draw_entry": _COMMON_KEYS | {"draw_id", "entries", "source", "answer_id"},  # answer_id: a survey's free entries
    "consent_withdrawn": _COMMON_KEYS | {"staff_id"},
    "coupon_used": _COMMON_KEYS | {"code", "use_key"},
    "coupon_released": _COMMON_KEYS | {"code", "use_key"},
    "credit_moved": _COMMON_KEYS | {"amount_rial", "move", "receipt_id", "reason", "use_key"},
    "credit_released": _COMMON_KEYS | {"use_key"},
}
_REQUIRED_BY_KIND = {
    **{kind: _COMMON_KEYS | {"points"} for kind in LEDGER_KINDS},
    "member_enrolled": _COMMON_KEYS | {"phone_e164", "name"},
    "member_updated": _COMMON_KEYS | {"name"},
    "card_bound": _COMMON_KEYS | {"card_ref"},
    "card_state": _COMMON_KEYS | {"card_ref", "state"},
    "survey_answered": _COMMON_KEYS | {"survey_id", "answers"},
    "complaint_filed": _COMMON_KEYS | {"code", "phone_e164", "subject", "text"},
    "draw_entry": _COMMON_KEYS | {"draw_id", "entries", "source"},
    "consent_withdrawn": _COMMON_KEYS,
    "coupon_used": _COMMON_KEYS | {"code", "use_key"},
    "coupon_released": _COMMON_KEYS | {"code", "use_key"},
    "credit_moved": _COMMON_KEYS | {"amount_rial", "move"},
    "credit_released": _COMMON_KEYS | {"use_key"},
}
# Patterns are used with fullmatch: re.match with "$" also accepts a final newline ("T-1\n" is not "T-1").
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")
_CARD_REF = re.compile(r"[0-9a-f]{64}")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")  # canonical form, as str(uuid)
# A coupon code in its canonical form (kiosk.rules.rewards.coupon_code): four groups of Crockford base 32.
COUPON_CODE = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]")
_BIRTHDAY = re.compile(r"(?:[0-9]{4}-)?(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])")

# One set of limits, shared: every edge that takes one of these fields (the till's API, the shopper's and
# staff's APIs, signed receipt codes) checks it here, so nothing accepted locally is refused by the cloud later.
TEXT_LIMITS = {"member_id": 64, "reason": 200, "receipt_id": 100, "staff_id": 64, "name": 100, "language": 16,
               "referred_by": 64}
# A till's receipt id (docs/pos-api.yaml): short, printable, no spaces, inside TEXT_LIMITS["receipt_id"].
RECEIPT_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def is_card_ref(value: Any) -> bool:
    """True for a whole card reference: 64 lowercase hex characters, nothing after them (not even a newline)."""
    return isinstance(value, str) and _CARD_REF.fullmatch(value) is not None


def is_e164(value: Any) -> bool:
    """True for a whole E.164 phone number ("+989121234567"), nothing after it."""
    return isinstance(value, str) and _E164.fullmatch(value) is not None


def is_coupon_code(value: Any) -> bool:
    """True for a whole coupon code in its canonical form (parse a typed one with kiosk.rules.rewards first)."""
    return isinstance(value, str) and COUPON_CODE.fullmatch(value) is not None


def is_receipt_id(value: Any) -> bool:
    """True for a whole receipt id (fullmatch: a trailing newline is not part of an id)."""
    return isinstance(value, str) and RECEIPT_ID.fullmatch(value) is not None


def text_problem(key: str, value: Any) -> str | None:
    """Why ``value`` cannot be sent as field ``key`` (a sentence naming the field), or None if it can."""
    longest = TEXT_LIMITS[key]
    if not isinstance(value, str):
        return f"{key} must be text"
    if len(value) > longest:
        return f"{key} must be at most {longest} characters (got {len(value)})"
    return None


class ProtocolError(KioskError):
    """A message that does not follow the kiosk <-> cloud protocol."""


class InvalidEvent(ProtocolError):
    """An event dict that breaks the documented schema; the message says which key."""


class InvalidConfig(ProtocolError):
    """A branch config document that cannot be used; the last good one must be kept."""


# -- time ------------------------------------------------------------------------------


def format_time(at: datetime) -> str:
    """ISO 8601 in UTC with a 'Z'; refuses naive datetimes (their zone is a guess)."""
    if at.tzinfo is None:
        raise ProtocolError("a naive datetime has no time zone; pass an aware UTC datetime")
    return at.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    """Parse an ISO 8601 time with an offset (or 'Z') into an aware UTC datetime."""
    try:
        at = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (AttributeError, ValueError) as exc:
        raise ProtocolError(f"not an ISO 8601 time: {text!r}") from exc
    if at.tzinfo is None:
        raise ProtocolError(f"time {text!r} has no offset; send UTC with 'Z' or '+00:00'")
    return at.astimezone(timezone.utc)


# -- signing ---------------------------------------------------------------------------


def new_device_key() -> str:
    """A fresh device key: 32 random bytes as 64 hex chars."""
    import secrets

    return secrets.token_hex(DEVICE_KEY_HEX_LENGTH // 2)


def _key_bytes(device_key: str) -> bytes:
    if len(device_key) != DEVICE_KEY_HEX_LENGTH:
        raise ProtocolError("a device key is 64 hex characters; register the device again")
    try:
        return bytes.fromhex(device_key)
    except ValueError as exc:
        raise ProtocolError("a device key is 64 hex characters; register the device again") from exc


def signing_message(timestamp: int, method: str, path_and_query: str, body: bytes) -> bytes:
    """The exact bytes that are signed (see the module docstring)."""
    return f"{timestamp}.{method.upper()}.{path_and_query}.".encode() + body


def sign(device_key: str, timestamp: int, method: str, path_and_query: str, body: bytes) -> str:
    """The X-Kiosk-Signature header value for one request."""
    digest = hmac.new(
        _key_bytes(device_key),
        signing_message(timestamp, method, path_and_query, body),
        hashlib.sha256,
    ).hexdigest()
    return f"{PROTOCOL_VERSION}={digest}"


def signed_headers(
    device_id: str, device_key: str, now: datetime, method: str, path_and_query: str, body: bytes
) -> dict[str, str]:
    """All auth headers for one request made at `now` (the device's clock)."""
    timestamp = int(now.timestamp())
    return {
        HEADER_DEVICE: device_id,
        HEADER_TIMESTAMP: str(timestamp),
        HEADER_SIGNATURE: sign(device_key, timestamp, method, path_and_query, body),
    }


def signature_matches(
    device_key: str, timestamp: int, method: str, path_and_query: str, body: bytes, header: str
) -> bool:
    """Constant-time check of a received signature header."""
    expected = sign(device_key, timestamp, method, path_and_query, body)
    return hmac.compare_digest(expected.encode(), header.encode("utf-8", "replace"))


def parse_timestamp_header(value: str | None) -> int:
    """The integer timestamp from X-Kiosk-Timestamp, or ProtocolError saying what is wrong."""
    if value is None or not value.strip():
        raise ProtocolError(f"missing {HEADER_TIMESTAMP} header (unix seconds)")
    if not re.fullmatch(r"[0-9]{1,12}", value.strip()):
        raise ProtocolError(f"{HEADER_TIMESTAMP} must be whole unix seconds, got {value!r}")
    return int(value.strip())


def clock_skew(timestamp: int, server_now: datetime) -> timedelta:
    """How far the device's clock is ahead of the server (negative: behind)."""
    return timedelta(seconds=timestamp - server_now.timestamp())


def within_window(timestamp: int, server_now: datetime) -> bool:
    return abs(clock_skew(timestamp, server_now)) <= SIGNATURE_WINDOW


# -- events ----------------------------------------------------------------------------


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise InvalidEvent(message)


def _require_one_of(value: Any, choices: frozenset[str], name: str) -> None:
    if not isinstance(value, str) or value not in choices:  # sorted only when refused: 2 % of an ingest, per event
        raise InvalidEvent(f"{name} must be one of {sorted(choices)}")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def validate_event(event: Any) -> dict[str, Any]:
    """Check one event against the schema; return it unchanged or raise InvalidEvent."""
    _require(isinstance(event, Mapping), "an event must be a JSON object")
    kind = event.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        raise InvalidEvent(f"unknown kind {kind!r}; expected one of {sorted(KINDS)}")
    missing = _REQUIRED_BY_KIND[kind] - event.keys()
    _require(not missing, f"{kind} event is missing {sorted(missing)}")
    extra = event.keys() - _KEYS_BY_KIND[kind]
    _require(not extra, f"{kind} event has unknown keys {sorted(extra)}")
    try:
        uuid.UUID(str(event["event_id"]))
    except ValueError:
        raise InvalidEvent(f"event_id {event['event_id']!r} is not a UUID") from None
    _require(isinstance(event["event_id"], str), "event_id must be a string")
    member_id = event["member_id"]
    _require(
        isinstance(member_id, str) and member_id != "" and text_problem("member_id", member_id) is None,
        f"member_id must be a string of 1 to {TEXT_LIMITS['member_id']} characters",
    )
    try:
        parse_time(event["created_at"])
    except ProtocolError as exc:
        raise InvalidEvent(f"created_at: {exc}") from None
    if kind in LEDGER_KINDS:
        _validate_ledger(event)
    elif kind in ("member_enrolled", "member_updated"):
        _validate_enrollment(event)
    elif kind == "draw_entry":
        _require(isinstance(event["draw_id"], str) and 0 < len(event["draw_id"]) <= 64, "draw_id must be 1-64 chars")
        _require(_is_int(event["entries"]) and 0 < event["entries"] <= 1000, "entries must be an integer 1..1000")
        _require_one_of(event["source"], DRAW_ENTRY_SOURCES, "source")
        _require(event.get("answer_id") is None or (event["source"] == "survey" and isinstance(
            event["answer_id"], str) and bool(_UUID.fullmatch(event["answer_id"]))),
                 "answer_id is the UUID of the survey answer that gave the entries, only with source survey")
    elif kind in ENGAGEMENT_KINDS:
        _validate_engagement(event)
    elif kind == "consent_withdrawn":
        _optional_text(event, "staff_id")
    elif kind in WALLET_KINDS:
        _validate_wallet(event)
    else:
        card_ref = event["card_ref"]
        _require(
            is_card_ref(card_ref),
            "card_ref must be 64 lowercase hex characters (the card's HMAC, never its UID)",
        )
        if kind == "card_state":
            _require_one_of(event["state"], CARD_STATES, "state")
            _optional_text(event, "staff_id")
    return dict(event)


def _validate_ledger(event: Mapping[str, Any]) -> None:
    kind, points = event["kind"], event["points"]
    _require(_is_int(points), "points must be an integer")
    if kind in CREDIT_KINDS:
        _require(points > 0, f"{kind} points must be positive, got {points}")
    elif kind in DEBIT_KINDS:
        _require(points < 0, f"{kind} points must be negative (a debit), got {points}")
    else:
        _require(points != 0, "an adjust of 0 points changes nothing; do not send it")
    if "amount" in event:
        _require(_is_int(event["amount"]) and event["amount"] >= 0, "amount must be an integer >= 0 (minor units)")
    if "reason" in event:
        _require(text_problem("reason", event["reason"]) is None,
                 f"reason must be text of at most {TEXT_LIMITS['reason']} characters")
    _optional_text(event, "receipt_id")
    _optional_text(event, "staff_id")
    if "campaigns" in event:
        _validate_applied_campaigns(event["campaigns"])
    if "cashback" in event:
        _require(_is_int(event["cashback"]) and event["cashback"] >= 0, "cashback must be an integer >= 0 (rial)")
    origin = event.get("origin", "device")
    _require_one_of(origin, ORIGINS, "origin")
    _require(origin == "device" or kind == "adjust", "only an adjust event can have origin cloud_correction")


MAX_APPLIED_CAMPAIGNS = 20


def _validate_applied_campaigns(applied: Any) -> None:
    """[{"id": "yalda", "points": 120}, ...]: each campaign once, with the points it added (0 for a points cap)."""
    _require(isinstance(applied, list) and len(applied) <= MAX_APPLIED_CAMPAIGNS,
             f"campaigns must be a list of at most {MAX_APPLIED_CAMPAIGNS} {{id, points}} objects")
    seen = set()
    for item in applied:
        _require(isinstance(item, Mapping) and set(item) == {"id", "points"},
                 "each applied campaign is an object with exactly id and points")
        _require(isinstance(item["id"], str) and 0 < len(item["id"]) <= 64, "an applied campaign id is 1-64 chars")
        _require(_is_int(item["points"]) and item["points"] >= 0, "an applied campaign's points are an integer >= 0")
        _require(item["id"] not in seen, f"campaign {item['id']!r} is listed twice")
        seen.add(item["id"])


def _validate_wallet(event: Mapping[str, Any]) -> None:
    if event["kind"] == "credit_moved":
        _require(_is_int(event["amount_rial"]) and event["amount_rial"] != 0,
                 "amount_rial must be a whole number of rial other than 0 (+ into the wallet, - out of it)")
        _require_one_of(event["move"], CREDIT_MOVES, "move")
        # A reversal goes either way (a voided spend comes back, a refunded purchase's cashback goes out).
        _require(event["move"] == "reversal" or (event["amount_rial"] > 0) == (event["move"] == "cashback"),
                 "cashback moves credit into the wallet (amount_rial > 0), spend out of it (amount_rial < 0)")
        _optional_text(event, "receipt_id")
        if "reason" in event:
            _require(text_problem("reason", event["reason"]) is None,
                     f"reason must be text of at most {TEXT_LIMITS['reason']} characters")
    elif event["kind"] != "credit_released":
        _require(is_coupon_code(event["code"]), "code must be a coupon code such as 7K3M-Q9XD-2HVB-R")
    _require("use_key" not in event or is_receipt_id(event["use_key"]),
             "use_key must be the till's idempotency key: 1-64 letters, digits, '.', '_', ':' or '-'")


def _validate_enrollment(event: Mapping[str, Any]) -> None:
    phone = event.get("phone_e164")
    _require(event["kind"] == "member_updated" or isinstance(phone, str) and bool(_E164.fullmatch(phone)),
             f"phone_e164 {phone!r} is not E.164 (+ and digits)")
    name = event["name"]
    _require(isinstance(name, str) and name.strip() != "" and text_problem("name", name) is None,
             f"name must be text of 1 to {TEXT_LIMITS['name']} characters")
    if event.get("birthday") is not None:
        _require(
            isinstance(event["birthday"], str) and bool(_BIRTHDAY.fullmatch(event["birthday"])),
            "birthday must be YYYY-MM-DD or MM-DD",
        )
    if "consent" in event and event["consent"] is not None:
        _require(isinstance(event["consent"], Mapping), "consent must be an object")
    _optional_text(event, "language")
    _optional_text(event, "referred_by")


def _validate_engagement(event: Mapping[str, Any]) -> None:
    if event["kind"] == "survey_answered":
        _require(isinstance(event["survey_id"], str) and bool(SURVEY_ID.fullmatch(event["survey_id"])),
                 "survey_id must be a survey id")
        problem = answer_shape_problem(event["answers"])
    else:
        _require(isinstance(event["phone_e164"], str) and bool(_E164.fullmatch(event["phone_e164"])),
                 "phone_e164 is not E.164 (+ and digits)")
        problem = complaint_problem(event)
    _require(problem is None, str(problem))
    _optional_text(event, "language")


def _optional_text(event: Mapping[str, Any], key: str) -> None:
    value = event.get(key)
    _require(
        value is None or text_problem(key, value) is None,
        f"{key} must be text of at most {TEXT_LIMITS[key]} characters, or null",
    )


def counts_toward_balance(event: Mapping[str, Any]) -> int:
    """Points this event adds to the chain-wide balance (0 for non-ledger and mirrors)."""
    if event["kind"] not in LEDGER_KINDS or event.get("origin", "device") != "device":
        return 0
    return int(event["points"])


def canonical_json(value: Any) -> str:
    """One spelling per value, so equal events hash equal on both sides."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def payload_digest(payload: str) -> str:
    """An event's digest, of its canonical JSON (canonical_json), which the cloud stores as its payload too."""
    return hashlib.sha256(payload.encode()).hexdigest()


def encode_batch(payloads: list[str]) -> bytes:
    """The POST body for outbox payloads that are already JSON text (no re-parse)."""
    return ('{"events":[' + ",".join(payloads) + "]}").encode()


def decode_batch(body: bytes) -> list[Any]:
    """The list of raw event objects in a batch body, or ProtocolError."""
    if len(body) > MAX_BATCH_BYTES:
        raise ProtocolError(f"batch is {len(body)} bytes; send at most {MAX_BATCH_BYTES}")
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError(f"batch body is not UTF-8 JSON: {exc}") from exc
    if not isinstance(document, dict) or not isinstance(document.get("events"), list):
        raise ProtocolError('batch body must be {"events": [...]}')
    events = document["events"]
    if not events:
        raise ProtocolError("batch has no events; do not send an empty batch")
    if len(events) > MAX_BATCH_EVENTS:
        raise ProtocolError(f"batch has {len(events)} events; send at most {MAX_BATCH_EVENTS}")
    return events


# -- config ----------------------------------------------------------------------------


def validate_config(document: Any) -> dict[str, Any]:
    """Structural check of a branch config (rules, tiers, rewards, campaigns)."""
    if not isinstance(document, dict):
        raise InvalidConfig("config must be a JSON object with rules, tiers, rewards, campaigns")
    missing = [name for name in CONFIG_SECTIONS if name not in document]
    if missing:
        raise InvalidConfig(f"config is missing {missing}; every section must be present")
    for name, kind in CONFIG_SECTIONS.items():
        if not isinstance(document[name], kind):
            raise InvalidConfig(f"config section {name!r} must be a JSON {'object' if kind is dict else 'array'}")
    if "branding" in document and not isinstance(document["branding"], dict):
        raise InvalidConfig("config section 'branding' must be a JSON object (it is optional)")
    return document


def config_etag(document: Mapping[str, Any]) -> str:
    """Strong ETag (quoted) of a config document, stable across key order."""
    return '"' + hashlib.sha256(canonical_json(document).encode()).hexdigest()[:32] + '"'


def make_event(kind: str, member_id: str, created_at: datetime, *, event_id: str | None = None, **fields: Any) -> dict[str, Any]:
    """Build and check one event dict (a new UUID4 unless `event_id` is given)."""
    event = {
        "event_id": event_id or str(uuid.uuid4()),
        "kind": kind,
        "member_id": member_id,
        "created_at": format_time(created_at),
        **fields,
    }
    return validate_event(event)


def event_from_outbox(payload: str) -> dict[str, Any]:
    """The wire event for one outbox payload written by kiosk.store.database.Store.

    The store keeps its own row shapes in the outbox (nested "member"/"card" dicts,
    the local device name, a masked card label); this maps them onto the documented
    event schema and drops what the cloud must not get. Pure and deterministic: the
    same payload always gives the same event, so a resend reads as a duplicate.
    Raises InvalidEvent if the result breaks the schema.
    """
    try:
        raw = json.loads(payload)
    except ValueError as exc:
        raise InvalidEvent(f"outbox payload is not JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise InvalidEvent("outbox payload must be a JSON object")
    kind = raw.get("kind")
    base = {"event_id": raw.get("event_id"), "kind": kind, "created_at": raw.get("created_at")}
    if kind in LEDGER_KINDS:
        event = {**base, "member_id": raw.get("member_id"), "points": raw.get("points")}
        for key in ("amount", "reason", "receipt_id", "staff_id"):
            if raw.get(key) not in (None, ""):
                event[key] = raw[key]
        if kind == "earn":
            if raw.get("campaigns"):
                event["campaigns"] = [{"id": c[0], "points": c[1]} if isinstance(c, list) else c
                                      for c in raw["campaigns"]]
            if raw.get("cashback"):
                event["cashback"] = raw["cashback"]
        if kind == "adjust" and str(raw.get("reason", "")).startswith(CLOUD_CORRECTION_REASON):
            event["origin"] = "cloud_correction"
    elif kind in ("member_enrolled", "member_updated"):
        member = raw.get("member") if isinstance(raw.get("member"), dict) else raw
        name = " ".join(part.strip() for part in (member.get("first_name") or "", member.get("last_name") or "") if part.strip())
        event = {**base, "member_id": member.get("id", member.get("member_id")),
                 "phone_e164": member.get("phone", member.get("phone_e164")), "name": name or member.get("name")}
        for key in ("birthday", "language", "referred_by"):
            if member.get(key):
                event[key] = member[key]
        if member.get("consent_version"):
            event["consent"] = {"at": member.get("consent_at"), "text_version": member["consent_version"]}
        if kind == "member_updated":
            event = {k: v for k, v in event.items() if k in _KEYS_BY_KIND[kind]}
    elif kind == "card_bound":
        card = raw.get("card") if isinstance(raw.get("card"), dict) else raw
        event = {**base, "member_id": card.get("member_id"), "card_ref": card.get("card_ref")}
    elif kind == "card_state":
        event = {**base, "member_id": raw.get("member_id"), "card_ref": raw.get("card_ref"), "state": raw.get("state")}
        if raw.get("staff_id"):
            event["staff_id"] = raw["staff_id"]
    elif kind == "draw_entry":
        event = {**base, **{k: raw.get(k) for k in ("member_id", "draw_id", "entries", "source", "answer_id")
                            if k != "answer_id" or raw.get(k) is not None}}
    elif kind in ENGAGEMENT_KINDS:
        event = {**base, **{k: raw[k] for k in _KEYS_BY_KIND[kind] - base.keys() if raw.get(k) is not None}}
    elif kind == "consent_withdrawn":
        event = {**base, "member_id": raw.get("member_id")}
        if raw.get("staff_id"):
            event["staff_id"] = raw["staff_id"]
    elif kind in WALLET_KINDS:
        event = {**base, **{k: raw[k] for k in _KEYS_BY_KIND[kind] - base.keys() if raw.get(k) not in (None, "")}}
    else:
        raise InvalidEvent(f"outbox payload has unknown kind {kind!r}")
    return validate_event(event)


# -- one-time codes by SMS (POST /v1/devices/{id}/otp and /otp/verify) -------------------
#
# Request a code: {"phone": "+98912...", "purpose": "enroll" | "add_card"} -> 202 {"status": "sent",
# "expires_in": 300}; 429 with Retry-After when the phone asked too often; 502 when the SMS could not be handed
# on. Check a code: {"phone", "purpose", "code": "123456"} -> 200 {"result": "ok" | "wrong" | "expired" |
# "locked", "attempts_left": n}. A code is bound to the device that asked for it, the phone and the purpose.

OTP_PURPOSES = frozenset({"enroll", "add_card"})
OTP_CODE_DIGITS = 6
OTP_TTL = timedelta(minutes=5)
OTP_MAX_ATTEMPTS = 5
OTP_RESULTS = frozenset({"ok", "wrong", "expired", "locked"})
_OTP_CODE = re.compile(rf"[0-9]{{{OTP_CODE_DIGITS}}}")


def parse_otp_request(body: bytes, *, with_code: bool) -> tuple[str, str, str | None]:
    """(phone, purpose, code) from a code request or check body; ProtocolError says what is wrong."""
    try:
        data = json.loads(body or b"null")
    except ValueError:
        raise ProtocolError("send a JSON object such as {\"phone\": \"+989121234567\", \"purpose\": \"enroll\"}") from None
    if not isinstance(data, dict):
        raise ProtocolError("send a JSON object such as {\"phone\": \"+989121234567\", \"purpose\": \"enroll\"}")
    phone, purpose, code = data.get("phone"), data.get("purpose"), data.get("code")
    _require(isinstance(phone, str) and bool(_E164.fullmatch(phone)), "phone must be an E.164 number such as +989121234567")
    _require_one_of(purpose, OTP_PURPOSES, "purpose")
    if with_code:
        _require(isinstance(code, str) and bool(_OTP_CODE.fullmatch(code)), f"code must be {OTP_CODE_DIGITS} digits")
        return phone, purpose, code
    return phone, purpose, None


@dataclass(frozen=True)
class OtpVerdict:
    """The cloud's answer to a code check."""

    result: str  # one of OTP_RESULTS
    attempts_left: int


def otp_purpose(existing_member: bool) -> str:
    """A code for an existing member's number adds a card; otherwise it confirms a new member."""
    return "add_card" if existing_member else "enroll"


def is_otp_code(text: str) -> bool:
    return bool(_OTP_CODE.fullmatch(text)) and text.isascii()
