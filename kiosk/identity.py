"""Card identity: a keyed hash instead of the raw UID, and a masked label."""
from __future__ import annotations

import hashlib
import hmac


def normalise_uid(uid: str) -> str:
    """Readers differ in case and separators; the same card must hash the same."""
    return "".join(ch for ch in uid.strip().upper() if ch.isalnum())


def card_ref(secret: bytes, tech: str, uid: str) -> str:
    """``HMAC-SHA256(secret, tech + ":" + uid)`` as hex: the only form a card is stored in."""
    if not uid.strip():
        raise ValueError("a card uid must not be empty")
    message = f"{tech}:{normalise_uid(uid)}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def mask_uid(uid: str) -> str:
    """A label safe for screens and logs: only the last four characters survive."""
    clean = normalise_uid(uid)
    return "•••• " + clean[-4:] if len(clean) > 4 else "••••"


def digital_card_key(chain_secret: bytes) -> bytes:
    """The key digital-card tokens are signed with: derived from the chain secret, so every kiosk of the
    chain verifies what any kiosk issued without another secret to distribute."""
    return hmac.new(chain_secret, b"digital-card-token", hashlib.sha256).digest()
