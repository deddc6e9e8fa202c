"""One exception root for the kiosk core; each message says what to do."""

from typing import ClassVar


class KioskError(Exception):
    """Root of every error the kiosk core raises on purpose."""


class ConfigError(KioskError):
    """The configuration file is missing, unreadable or has a bad value."""


class StoreError(KioskError):
    """The database cannot be opened or written; ``reason`` is a code the screens translate."""

    reason = "store_error"


class StorageFull(StoreError):
    """The disk holding the database is full: nothing was written, and writes work again once space returns."""

    reason = "storage_full"


class UnknownCard(KioskError):
    """A card that is not bound to any member."""


class CardNotActive(KioskError):
    """A card that is blocked or reported lost."""

    def __init__(self, state: str) -> None:
        super().__init__(f"this card is {state}; please ask staff at the counter for help")
        self.state = state


class UnknownMember(KioskError):
    """No member with that phone number or id."""


class DuplicateMember(KioskError):
    """A member with that phone number already exists."""


class CardAlreadyBound(KioskError):
    """The card is already bound to a member."""


class InsufficientPoints(KioskError):
    """A redemption larger than the member's balance."""

    def __init__(self, needed: int, available: int) -> None:
        super().__init__(
            f"not enough points: this needs {needed} points and the balance is {available}"
        )
        self.needed = needed
        self.available = available


class RewardNotAvailable(KioskError):
    """A reward the member may not take now for a reason other than points."""

    _WHY: ClassVar[dict[str, str]] = {
        "inactive": "it is no longer offered; please choose another reward",
        "not_started": "it is offered from {detail}; please come back then",
        "ended": "it ended on {detail}; please choose another reward",
        "tier": "it is for {detail} members and above; earn more points to reach that tier",
        "member_limit": "you have already taken it {detail} times, the most allowed per member",
    }

    def __init__(self, reward_id: str, name: str, reason: str, detail: str = "") -> None:
        why = self._WHY.get(reason, reason).format(detail=detail)
        super().__init__(f"{name!r} cannot be taken: {why}")
        self.reward_id = reward_id
        self.reason = reason
        self.detail = detail


class InvalidCouponCode(KioskError):
    """A typed or scanned coupon code that is not well formed."""

    def __init__(self, text: str, why: str) -> None:
        super().__init__(f"{text!r} is not a valid coupon code: {why}; please check it and "
                         f"type it again, or scan the QR code")
        self.text = text
        self.why = why


class OfflineRedemptionCap(KioskError):
    """While the cloud is unreachable, a member may redeem only so many points a day."""

    def __init__(self, allowance: int, cap: int) -> None:
        super().__init__(
            f"the kiosk is offline and can redeem at most {cap} points per member per day; "
            f"{allowance} points are left today. Please try again when the kiosk is back online or ask staff"
        )
        self.allowance = allowance
        self.cap = cap


class CodesUnavailable(KioskError):
    """No one-time code can be sent or checked now (cloud unreachable, not registered, SMS gateway down)."""


class CodesRateLimited(KioskError):
    """The cloud sent this phone too many codes lately."""


class ChainUnreachable(KioskError):
    """The chain's cloud could not be asked in time (offline, slow, or answering nonsense)."""


class SpendRefused(KioskError):
    """A till quote, commit, void or refund that cannot go ahead; ``reason`` is a stable code for the till.

    Codes: coupon_used, coupon_other_member, coupon_unknown, quote_expired, quote_changed, quote_unknown,
    replay_mismatch, staff_required, staff_not_needed, quote_pending, refund_too_large, already_spent,
    not_earned, unknown_commit, coupon_offline (another branch's coupon while the cloud cannot be asked),
    credit_short (the chain's credit was spent or held at another branch meanwhile; ``available_rial`` is what
    the chain said this kiosk may still spend of it, when it said).
    """

    def __init__(self, reason: str, message: str, status: int = 409, *, available_rial: int | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.status = status
        self.available_rial = available_rial


class CasesUnavailable(KioskError):
    """A complaint's state cannot be asked now: the kiosk has no cloud or cannot reach it."""


class CasesRateLimited(KioskError):
    """This kiosk asked about too many tracking codes lately; the cloud says when to try again."""

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class BudgetSpent(KioskError):
    """A campaign's grant no longer holds the points a purchase was planned with (another earn took them)."""


class EngagementRefused(KioskError):
    """A draw entry or a game play that cannot be had; `reason` is a code the page translates."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
