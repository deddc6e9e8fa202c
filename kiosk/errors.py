"""One exception root for the kiosk core; each message says what to do."""


class KioskError(Exception):
    """Root of every error the kiosk core raises on purpose."""


class ConfigError(KioskError):
    """The configuration file is missing, unreadable or has a bad value."""


class StoreError(KioskError):
    """The database cannot be opened or written."""


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


class UnknownReward(KioskError):
    """A reward id that is not in the active catalogue."""


class RewardLimitReached(KioskError):
    """The member already redeemed this reward as often as it allows."""
