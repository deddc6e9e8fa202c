"""Short-lived signed tokens the page holds in memory: which member is on screen, which card was just tapped,
which staff member is signed in. The page never sends a bare member id or card reference the server trusts."""
from __future__ import annotations

from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


# Kinds a verified one-time SMS code earns (web/phone_codes.py): enrol exactly this phone number, or bind a card
# to the member who owns the number.
PHONE_VERIFIED = "phone-verified"
ADD_CARD = "add-card"


class TokenError(Exception):
    def __init__(self, expired: bool) -> None:
        super().__init__("this screen timed out; please start again" if expired else "invalid screen token")
        self.expired = expired


class Tokens:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def seal(self, kind: str, data: Any) -> str:
        return URLSafeTimedSerializer(self._secret, salt=f"kiosk-{kind}").dumps(data)

    def open(self, kind: str, token: Any, max_age_s: float | None) -> Any:
        """The sealed data, or TokenError; ``max_age_s=None`` for a token that lives as long as what it is bound to."""
        if not isinstance(token, str) or not token:
            raise TokenError(expired=False)
        try:
            return URLSafeTimedSerializer(self._secret, salt=f"kiosk-{kind}").loads(token, max_age=max_age_s)
        except SignatureExpired:
            raise TokenError(expired=True) from None
        except BadSignature:
            raise TokenError(expired=False) from None
