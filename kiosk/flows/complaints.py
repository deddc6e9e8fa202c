"""Complaints and requests at the kiosk: file one (member or not, a phone number is enough) and get a tracking
code at once, online or not; look a code up (that needs the cloud, which holds the state and the answer)."""
from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from kiosk.errors import CasesUnavailable, KioskError
from kiosk.phones import normalise_phone
from kiosk.rules.complaints import CODE_BYTES, ComplaintRefused, clean_text, new_code, parse_code, spoken
from kiosk.service import KioskService

_FOUR_DIGITS = re.compile(r"[0-9]{4}")


class CaseLookup(Protocol):
    """Asks the cloud about a code (kiosk.sync.complaints); None when the code and phone do not match a case.

    Raises CasesUnavailable (offline) or CasesRateLimited.
    """

    def lookup(self, code: str, phone_last4: str) -> dict[str, Any] | None: ...


@dataclass(frozen=True)
class Filed:
    code: str  # as shown and read aloud: "K7QM2-XPA9R"
    repeat: bool


class ComplaintDesk:
    def __init__(self, service: KioskService, cases: CaseLookup | None = None) -> None:
        self._service = service
        self._cases = cases

    def subjects(self, language: str | None) -> list[dict[str, Any]]:
        return [s.for_screen(language) for s in self._service.complaint_subjects]

    def file(self, phone_raw: str, subject_id: str, text: Any, request_key: str, language: str | None) -> Filed:
        """Check and keep the complaint with a new tracking code; ComplaintRefused names the field at fault."""
        try:
            request_key = str(uuid.UUID(str(request_key)))
        except ValueError:
            raise ComplaintRefused("request_key", "request_key must be a UUID chosen by the page") from None
        try:
            phone = normalise_phone(str(phone_raw), self._service.settings.members.default_region)
        except KioskError as exc:
            raise ComplaintRefused("phone", str(exc)) from None
        if subject_id not in {s.subject_id for s in self._service.complaint_subjects}:
            raise ComplaintRefused("subject", f"pick one of the subjects on the screen, not {subject_id!r}")
        kept = clean_text(text)
        store = self._service.store
        member = store.member_by_phone(phone)
        filed = store.file_complaint(request_key, new_code(secrets.token_bytes(CODE_BYTES)),
                                     member_id=member.id if member else None, phone=phone, subject=subject_id,
                                     text=kept, language=language)
        return Filed(spoken(filed.code), filed.repeat)

    def lookup(self, code_text: Any, phone_last4: Any) -> dict[str, Any] | None:
        """The case's state and answer, or None: the same None for a wrong code and a wrong phone (no oracle).

        ComplaintRefused for input that cannot be a code or four digits (its format is no secret).
        """
        code = parse_code(code_text)
        if code is None:
            raise ComplaintRefused("code", "a tracking code has 10 letters and digits, e.g. K7QM2-XPA9R")
        if not isinstance(phone_last4, str) or not _FOUR_DIGITS.fullmatch(phone_last4):
            raise ComplaintRefused("phone", "type the last four digits of the phone number")
        if self._cases is None:
            raise CasesUnavailable("this kiosk has no cloud to ask")
        return self._cases.lookup(code, phone_last4)
