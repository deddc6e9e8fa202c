"""Self-enrolment on the screen: phone check, the answers checked, then the member created with a card.

The member row is written only together with its first card (a tap, or a digital card the shopper chose), so
a shopper who walks away or cancels at the tap-your-card step leaves no cardless member behind.
"""
from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Callable

from kiosk.config import LANGUAGES
from kiosk.rules import bonus as rules_bonus
from kiosk.errors import CardAlreadyBound, DuplicateMember, KioskError
from kiosk.phones import normalise_phone
from kiosk.service import CardTap, KioskService
from kiosk.store import Bonus, Member, NewCard, new_event_id
from kiosk.flows.claims import TapClaims
from kiosk.ui_events import UiEvent
from kiosk.rules.ledger import LedgerKind
from kiosk.store.spending import derived_id

PROFILE_REASON = "profile completion bonus"

log = logging.getLogger(__name__)

NAME_MAX = 40
ZWNJ = "\u200c"


class EnrollmentError(KioskError):
    """Bad enrolment input; ``field`` names the box the shopper has to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class PhoneCheck:
    phone: str
    member_id: str | None
    first_name: str | None


@dataclass(frozen=True)
class Application:
    """A checked enrolment not yet written: what the member row will hold once a card is there."""

    phone: str
    first_name: str
    last_name: str
    birthday: str | None
    referral_code: str
    consent: bool
    language: str | None

    def as_list(self) -> list[object]:
        return [self.phone, self.first_name, self.last_name, self.birthday, self.referral_code, self.consent,
                self.language]

    @classmethod
    def from_list(cls, data: list[object]) -> "Application":
        phone, first, last, birthday, referral, consent, language = data
        return cls(str(phone), str(first), str(last), str(birthday) if birthday else None, str(referral),
                   bool(consent), str(language) if language else None)


@dataclass(frozen=True)
class Enrolled:
    member: Member
    bonus_points: int


@dataclass(frozen=True)
class Profile:
    member: Member
    bonus_points: int  # 0 when the bonus was paid before


def clean_name(raw: str, field: str, *, required: bool) -> str:
    """Normalise (NFC), trim and check a name typed on the on-screen keyboard or pasted from elsewhere.

    Allowed: letters, combining marks after a letter (Arabic harakat, the dagger alef U+0670, a Latin accent
    with no precomposed form), spaces, hyphens, apostrophes and the ZWNJ Persian writes inside words (U+200C,
    kept only between two letters: elsewhere it is invisible and would make equal names differ). Arabic and
    Persian yeh/kaf (ي/ی, ك/ک) are stored as typed; the cloud's search folds them.
    """
    name = unicodedata.normalize("NFC", " ".join(raw.split()))
    name = _stray_zwnj(name)
    if not name:
        if required:
            raise EnrollmentError(field, "please type your first name")
        return ""
    if len(name) > NAME_MAX:
        raise EnrollmentError(field, f"a name can have at most {NAME_MAX} letters")
    if not name[0].isalpha() or not all(ch.isalpha() or ch in " -'\u200c" or _is_mark(ch) for ch in name):
        raise EnrollmentError(field, "a name can only have letters, spaces and hyphens")
    return name


def _is_mark(ch: str) -> bool:
    return unicodedata.category(ch) in ("Mn", "Mc")


def _stray_zwnj(name: str) -> str:
    """Drop every ZWNJ that does not stand between two letters (or a letter's marks)."""
    kept = []
    for i, ch in enumerate(name):
        if ch == ZWNJ:
            before = kept[-1] if kept else ""
            after = name[i + 1] if i + 1 < len(name) else ""
            if not (before and (before.isalpha() or _is_mark(before)) and after.isalpha()):
                continue
        kept.append(ch)
    return "".join(kept).strip()


def parse_birthday(raw: str | None, today: date) -> date | None:
    """An ISO (Gregorian) date from the picker; the page converts Jalali picks through /api/jalali first."""
    if not raw:
        return None
    try:
        born = date.fromisoformat(raw)
    except ValueError:
        raise EnrollmentError("birthday", "that birthday is not a date; pick day, month and year again") from None
    if not date(today.year - 120, 1, 1) <= born <= today:
        raise EnrollmentError("birthday", "that birthday is not possible; pick it again")
    return born


class Enrollment:
    def __init__(self, service: KioskService, claims: TapClaims, *, today: Callable[[], date] | None = None) -> None:
        self._service = service
        self._claims = claims
        self._today = today or (lambda: service.now().date())

    def check_phone(self, raw: str) -> PhoneCheck:
        try:
            phone = normalise_phone(raw, self._service.settings.members.default_region)
        except KioskError as exc:
            raise EnrollmentError("phone", str(exc)) from None
        member = self._service.store.member_by_phone(phone)
        return PhoneCheck(phone, member.id if member else None, member.first_name if member else None)

    def check(self, phone_raw: str, first_name: str, last_name: str = "", *, birthday: str | None = None,
              referral_code: str = "", consent: bool = False, language: str | None = None) -> Application:
        """Every answer checked (EnrollmentError names the field); nothing is written."""
        check = self.check_phone(phone_raw)
        if check.member_id:
            raise EnrollmentError("phone", "this phone number is already a member")
        first = clean_name(first_name, "first_name", required=True)
        last = clean_name(last_name, "last_name", required=False)
        born = parse_birthday(birthday, self._today())
        if referral_code.strip() and self._service.store.member_by_referral_code(referral_code) is None:
            raise EnrollmentError("referral", "no member has that referral code; check it or leave it empty")
        return Application(check.phone, first, last, born.isoformat() if born else None, referral_code.strip(),
                           consent, language)

    def enroll(self, phone_raw: str, first_name: str, last_name: str = "", *, birthday: str | None = None,
               referral_code: str = "", consent: bool = False, language: str | None = None) -> Enrolled:
        return self.write(self.check(phone_raw, first_name, last_name, birthday=birthday,
                                     referral_code=referral_code, consent=consent, language=language))

    def write(self, app: Application, card: NewCard | None = None) -> Enrolled:
        """The member row, its bonuses and (given) its first card, all in one transaction: a failure midway
        (a full disk) leaves nothing, so the shopper's retry enrols instead of hearing "already a member"."""
        store, rules = self._service.store, self._service.rules
        referrer = store.member_by_referral_code(app.referral_code) if app.referral_code else None
        if app.referral_code and referrer is None:
            raise EnrollmentError("referral", "no member has that referral code; check it or leave it empty")
        # A phone that joined by SMS keeps the chain's member id, so the cloud completes that record.
        member_id = self._service.joined_by_sms(app.phone) or new_event_id()
        bonuses = list(self._profile_bonuses(member_id, bool(app.birthday), bool(app.last_name), already_given=False))
        if referrer is not None:
            to_referrer, to_new = rules_bonus.referral_bonuses(rules)
            if to_new:
                bonuses.append(Bonus(to_new, "referred by a member"))
            if to_referrer:
                bonuses.append(Bonus(to_referrer, "referred a new member", member_id=referrer.id))
        try:
            member = self._service.enroll(app.phone, app.first_name, app.last_name, birthday=app.birthday,
                                          consent=app.consent, language=app.language,
                                          referred_by=referrer.id if referrer else None, member_id=member_id,
                                          bonuses=bonuses, card=card)
        except DuplicateMember:
            raise EnrollmentError("phone", "this phone number is already a member") from None
        paid = rules_bonus.enrollment_bonus(rules) + sum(b.points for b in bonuses if b.member_id is None)
        return Enrolled(member, paid)

    def complete_profile(self, member_id: str, last_name: str, birthday: str | None,
                         language: str | None = None) -> Profile:
        """Fill in what was left out at joining, or change it (an empty last name or birthday keeps the one held;
        ``language`` None keeps the member's screen language); the profile bonus is paid the first time the
        profile is complete, in the same transaction as the profile."""
        store = self._service.store
        if language is not None and language not in LANGUAGES:
            raise EnrollmentError("language", f"language must be one of {', '.join(LANGUAGES)}")
        held = store.member(member_id)
        # An empty last name keeps the one given at joining: the screen asks only for what is missing.
        last = clean_name(last_name, "last_name", required=False) or held.last_name
        if not last:
            raise EnrollmentError("last_name", "give the last name to complete the profile")
        born = parse_birthday(birthday, self._today()) or (date.fromisoformat(held.birthday) if held.birthday else None)
        if born is None:
            raise EnrollmentError("birthday", "give the birthday to complete the profile")
        # A profile complete already had its bonus, here or at the branch that completed it (a chain profile
        # taken here has no bonus row in this ledger): only the first completion pays.
        given = bool(held.last_name and held.birthday) or any(
            r.kind == LedgerKind.BONUS and r.reason == PROFILE_REASON for r in store.history(member_id))
        bonuses = self._profile_bonuses(member_id, True, True, already_given=given)
        member = store.update_profile(member_id, last_name=last, birthday=born.isoformat(), language=language,
                                      bonuses=bonuses)
        return Profile(member, sum(b.points for b in bonuses))

    def _profile_bonuses(self, member_id: str, has_birthday: bool, has_last_name: bool, *,
                         already_given: bool) -> tuple[Bonus, ...]:
        """The profile-completion bonus once: its event id is the member's, so a second one is a repeat."""
        points = rules_bonus.profile_completion_bonus(has_birthday, has_last_name, already_given, self._service.rules)
        return (Bonus(points, PROFILE_REASON, event_id=derived_id("profile", member_id)),) if points else ()

    def card_is_free(self, card_ref: str) -> bool:
        return self._service.store.card(card_ref) is None

    def enroll_with_card(self, app: Application, card_ref: str, tech: str, label: str) -> Enrolled:
        """Write the member and bind the card; raises CardAlreadyBound (writing nothing) if the card is taken."""
        if not self.card_is_free(card_ref):
            raise CardAlreadyBound(f"card {label} already belongs to a member")
        return self.write(app, NewCard(card_ref, tech, label))

    def await_first_card(self, app: Application, ttl_s: float) -> None:
        """Enrol ``app`` with the next tapped free card; a taken card keeps the reader waiting for another."""
        def on_tap(tap: CardTap) -> bool:
            service = self._service
            if tap.card is not None or not self.card_is_free(tap.card_ref):
                service.emit(UiEvent.ENROLL_CARD_TAKEN, {"label": tap.label})
                return False
            try:
                enrolled = self.enroll_with_card(app, tap.card_ref, tap.tech, tap.label)
            except EnrollmentError as exc:  # e.g. the number joined at another kiosk meanwhile
                service.emit(UiEvent.ERROR, {"message": str(exc)})
                return True
            service.emit(UiEvent.ENROLL_CARD_BOUND, {"label": tap.label, "first_name": enrolled.member.first_name,
                                                     "points": service.summary(enrolled.member.id)["points"]})
            return True

        self._claims.claim("enroll", on_tap, ttl_s)

    def await_card(self, member_id: str, ttl_s: float) -> None:
        """Bind the next tapped card to ``member_id``; the screen learns the outcome from a service event."""
        self._claims.claim("enroll", lambda tap: self.bind_tap(member_id, tap), ttl_s)

    def bind_tap(self, member_id: str, tap: CardTap) -> bool:
        """Bind the tapped card; False (reader still waiting) when it already belongs to someone."""
        service = self._service
        try:
            if tap.card is not None:  # a card this kiosk or the chain already knows
                raise CardAlreadyBound(f"card {tap.label} already belongs to a member")
            service.store.bind_card(member_id, tap.card_ref, tap.tech, tap.label)
        except CardAlreadyBound:
            service.emit(UiEvent.ENROLL_CARD_TAKEN, {"label": tap.label})
            return False
        summary = service.summary(member_id)
        service.emit(UiEvent.ENROLL_CARD_BOUND, {"label": tap.label, "first_name": summary["first_name"],
                                                 "points": summary["points"]})
        return True
