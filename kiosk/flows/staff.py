"""Staff mode: PIN hashing (scrypt), a lockout that survives restarts, and the staff desk's actions."""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

from kiosk.errors import KioskError, UnknownMember
from kiosk.private_files import write_atomic
from kiosk.phones import normalise_phone
from kiosk.service import KioskService
from kiosk.store import iso, parse_iso
from kiosk.flows.claims import TapClaims
from kiosk.rules.ledger import LedgerKind

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1

log = logging.getLogger(__name__)


class StaffLocked(KioskError):
    def __init__(self, until: datetime) -> None:
        super().__init__(f"too many wrong PINs; staff mode is locked until {until:%H:%M:%S} UTC")
        self.until = until


class WrongPin(KioskError):
    def __init__(self, attempts_left: int) -> None:
        super().__init__(f"wrong PIN; {attempts_left} attempt(s) left before staff mode locks")
        self.attempts_left = attempts_left


class StaffError(KioskError):
    """A staff action that cannot be done as asked; ``code`` names the reason for the screen's own translation."""

    def __init__(self, message: str, code: str = "staff_error") -> None:
        super().__init__(message)
        self.code = code


def hash_pin(pin: str, *, salt: bytes | None = None) -> str:
    """``scrypt$N$r$p$salt_hex$hash_hex`` for the secrets file's staff_pin_hash."""
    if not pin.isdigit() or not 4 <= len(pin) <= 12:
        raise ValueError("a staff PIN is 4 to 12 digits")
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_pin(pin: str, encoded: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(pin.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(bytes.fromhex(digest)))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, bytes.fromhex(digest))


class PinLock:
    """Counts wrong PINs in a 0600 JSON file in the data dir, so a restart does not reset the lockout."""

    def __init__(self, path: Path, *, max_attempts: int, lockout_s: int,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.path = path
        self.max_attempts = max_attempts
        self.lockout = timedelta(seconds=lockout_s)
        self._clock = clock
        self._lock = threading.Lock()
        self._unsaved: dict[str, Any] | None = None  # a count the disk had no room for

    def _read(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except FileNotFoundError:
            return {}
        except (ValueError, OSError):
            # A damaged lock file fails closed: one full lockout from now, written back so that it ends.
            data = {"failures": 0, "locked_until": iso(self._clock() + self.lockout)}
            try:
                self._write(data)
            except OSError:
                pass
            return data

    def _write(self, data: dict[str, Any]) -> None:
        write_atomic(self.path, json.dumps(data), 0o600)

    def _save(self, data: dict[str, Any]) -> None:
        """Write the count; when the disk is full keep it in memory instead, so the lockout still holds here."""
        try:
            self._write(data)
            self._unsaved = None
        except OSError as exc:
            log.warning("cannot save the staff PIN count to %s (%s); keeping it in memory", self.path, exc)
            self._unsaved = data

    def _state(self) -> dict[str, Any]:
        return self._unsaved if self._unsaved is not None else self._read()

    def locked_until(self) -> datetime | None:
        until = self._state().get("locked_until")
        if until and parse_iso(until) > self._clock():
            return parse_iso(until)
        return None

    def check(self, pin: str, encoded: str | None) -> None:
        """Raise StaffLocked or WrongPin; return quietly on the right PIN (and reset the count).

        A full disk changes nothing a staff member sees: the right PIN opens, a wrong one is counted (in
        memory until the file can be written) and locks as usual.
        """
        with self._lock:
            if self._unsaved is not None:  # space may be back: the count kept in memory goes to the file
                self._save(self._unsaved)
            until = self.locked_until()
            if until is not None:
                raise StaffLocked(until)
            data = self._state()
            if encoded and verify_pin(pin, encoded):
                if data.get("failures") or data.get("locked_until"):
                    self._save({"failures": 0})
                return
            failures = int(data.get("failures", 0)) + 1
            if failures >= self.max_attempts:
                until = self._clock() + self.lockout
                self._save({"failures": 0, "locked_until": iso(until)})
                raise StaffLocked(until)
            self._save({"failures": failures})
            raise WrongPin(self.max_attempts - failures)


@dataclass(frozen=True)
class MemberView:
    id: str
    first_name: str
    last_name: str
    phone: str
    points: int
    cards: list[dict[str, str]]


class StaffDesk:
    """What staff can do on the kiosk; every change is a ledger or card event carrying the staff id."""

    def __init__(self, service: KioskService, claims: TapClaims) -> None:
        self._service = service
        self._claims = claims
        self._cards = dict((ref, sid) for sid, ref in service.settings.staff.cards)

    def staff_for_card(self, card_ref: str) -> str | None:
        return self._cards.get(card_ref)

    def status(self, *, last_sync: str | None = None) -> dict[str, Any]:
        service = self._service
        now = service.now()
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
        health = service.health()
        return {
            "device_id": health["device_id"],
            "branch": health["branch"],
            "readers": health["readers"],
            "outbox_depth": health["outbox_depth"],
            "last_sync": last_sync,
            "taps_today": service.taps_today(),
            "enrolments_today": service.store.members_enrolled_since(midnight),
        }

    def find_member(self, phone_raw: str) -> MemberView:
        store = self._service.store
        phone = normalise_phone(phone_raw, self._service.settings.members.default_region)
        member = store.member_by_phone(phone)
        if member is None:
            raise UnknownMember("no member has that phone number")
        return MemberView(member.id, member.first_name, member.last_name, member.phone,
                          store.balance(member.id).points,
                          [{"card_ref": c.card_ref, "label": c.label, "state": c.state} for c in store.cards_of(member.id)])

    def block_card(self, member_id: str, card_ref: str, staff_id: str, *, state: str = "lost") -> None:
        card = self._service.store.card(card_ref)
        if card is None or card.member_id != member_id:
            raise StaffError("that card does not belong to this member", "staff_not_this_member")
        self._service.store.set_card_state(card_ref, state, staff_id=staff_id)

    def await_new_card(self, member_id: str, ttl_s: float) -> None:
        """Bind the next tap to the member (after blocking a lost card, or for a member with no card at all);
        outcome as enroll_card_* events, and a card that is already someone's leaves the reader waiting."""
        from kiosk.flows.enrollment import Enrollment

        binder = Enrollment(self._service, self._claims)
        self._claims.claim("staff-card", lambda tap: binder.bind_tap(member_id, tap), ttl_s)

    def adjust(self, member_id: str, points: int, reason: str, staff_id: str) -> int:
        if isinstance(points, bool) or not isinstance(points, int) or points == 0 or abs(points) > 1_000_000:
            raise StaffError("points must be a whole number, not zero, between -1000000 and 1000000", "staff_points")
        reason = " ".join(reason.split())
        if len(reason) < 3:
            raise StaffError("write a reason (at least 3 characters); it is kept in the ledger", "staff_reason")
        return self._service.store.record(member_id, LedgerKind.ADJUST, points, reason=reason[:200], staff_id=staff_id).balance
