"""Signed digital-card tokens shown as a QR code on the shopper's phone.

Token: ``LC1.<payload>.<signature>``, both base64url without padding; the payload is
compact JSON ``{"c": card_id, "exp": unix_seconds}`` and the signature is
HMAC-SHA256(key, "LC1." + payload). The kiosk issues tokens with the same key it
verifies them with, so both are here as pure functions taking the key.

The payload is signed, not encrypted: the card id is as visible as on a printed card.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from datetime import datetime, timezone

from drivers.errors import DriverError, RefusedCardError

PREFIX = "LC1."
MIN_KEY_BYTES = 16
_MAX_TOKEN = 512


class TokenRefused(RefusedCardError):
    """A digital-card token that is malformed, forged or expired; ``code`` says which."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def looks_like_token(text: str) -> bool:
    return text.startswith(PREFIX)


def issue_token(card_id: str, key: bytes, *, expires_at: datetime) -> str:
    """A token for ``card_id`` valid until ``expires_at`` (timezone-aware)."""
    _check_key(key)
    if not card_id or not isinstance(card_id, str):
        raise DriverError("a digital card token needs a non-empty card id")
    if expires_at.tzinfo is None:
        raise DriverError("expires_at must be timezone-aware (e.g. datetime.now(timezone.utc) + ttl)")
    payload = json.dumps({"c": card_id, "exp": int(expires_at.timestamp())}, separators=(",", ":"))
    body = PREFIX + _b64(payload.encode("utf-8"))
    return body + "." + _b64(_sign(key, body))


def verify_token(token: str, key: bytes, *, now: datetime | None = None, leeway_s: int = 30) -> str:
    """The card id in a genuine, unexpired token; TokenRefused(code=malformed|forged|expired) otherwise."""
    _check_key(key)
    now = now or datetime.now(timezone.utc)
    if len(token) > _MAX_TOKEN or not looks_like_token(token) or token.count(".") != 2:
        raise TokenRefused("malformed", "this code is not a digital loyalty card: open the card in the app again")
    body, _, signature = token.rpartition(".")
    try:
        given = _unb64(signature)
    except ValueError:
        given = b""
    # Signature first, and in constant time: nothing in an unsigned payload is trusted.
    if not hmac.compare_digest(given, _sign(key, body)):
        raise TokenRefused("forged", "this digital card is not genuine: open the card in the shop's app again")
    try:
        claims = json.loads(_unb64(body[len(PREFIX):]))
        card_id, expires = claims["c"], claims["exp"]
        if not isinstance(card_id, str) or not card_id or not isinstance(expires, int):
            raise ValueError("bad claim types")
    except (ValueError, KeyError, TypeError):
        raise TokenRefused("malformed", "this digital card could not be read: open the card in the app again") from None
    if now.timestamp() > expires + leeway_s:
        raise TokenRefused("expired", "this digital card has expired: refresh the card in the app and scan again")
    return card_id


def _check_key(key: bytes) -> None:
    if not isinstance(key, (bytes, bytearray)) or len(key) < MIN_KEY_BYTES:
        raise DriverError(
            f"the digital card key must be at least {MIN_KEY_BYTES} random bytes; set it in the secrets file"
        )


def _sign(key: bytes, body: str) -> bytes:
    return hmac.new(bytes(key), body.encode("utf-8"), hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text.isascii():
        raise ValueError("non-ascii")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as error:
        raise ValueError(str(error)) from None
