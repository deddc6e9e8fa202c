"""Receipt QR codes signed by the POS with the branch key, and their verification (pure functions).

Format: ``KR1.<base64url(JSON)>.<base64url(HMAC-SHA256(branch_key, "KR1." + base64url(JSON)))>``
with JSON ``{"b": branch, "r": receipt_id, "a": amount_rial, "t": issued_at_unix}``.
Short enough for a small QR on a till slip; the HMAC makes a forged amount detectable.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime

from kiosk.errors import KioskError
from kiosk.protocol import is_receipt_id

PREFIX = "KR1"


class ReceiptRefused(KioskError):
    """A receipt that cannot be claimed; ``reason`` is a stable code the screen translates."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Receipt:
    branch: str
    receipt_id: str
    amount_rial: int
    issued_at: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    """Only the one canonical spelling decodes: base64 lets a changed last character (its unused bits) or a
    stray character decode to the same bytes, and a receipt that reads the same after a change is forged."""
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:
        raise binascii.Error("not the canonical encoding")
    return data


def sign_receipt(key: bytes, receipt: Receipt) -> str:
    body = _b64(json.dumps({"b": receipt.branch, "r": receipt.receipt_id, "a": receipt.amount_rial,
                            "t": receipt.issued_at}, separators=(",", ":"), sort_keys=True).encode())
    mac = hmac.new(key, f"{PREFIX}.{body}".encode(), hashlib.sha256).digest()
    return f"{PREFIX}.{body}.{_b64(mac)}"


def verify_receipt(key: bytes, text: str, *, now: datetime, max_age_s: int, branch: str) -> Receipt:
    """Return the receipt or raise :class:`ReceiptRefused` (malformed, forged, expired, other_branch)."""
    parts = text.strip().split(".")
    if len(parts) != 3 or parts[0] != PREFIX:
        raise ReceiptRefused("malformed", "this is not a receipt code from our tills; scan the QR on the receipt")
    try:
        mac = _unb64(parts[2])
        expected = hmac.new(key, f"{PREFIX}.{parts[1]}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(mac, expected):
            raise ReceiptRefused("forged", "this receipt's signature does not match; ask at the counter")
        data = json.loads(_unb64(parts[1]))
        receipt = Receipt(str(data["b"]), str(data["r"]), int(data["a"]), int(data["t"]))
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise ReceiptRefused("malformed", "this receipt code is damaged; scan it again or ask at the counter") from None
    if receipt.branch != branch:
        raise ReceiptRefused("other_branch", f"this receipt is from branch {receipt.branch}; claim it there")
    age = now.timestamp() - receipt.issued_at
    if age > max_age_s:
        raise ReceiptRefused("expired", "this receipt is too old to claim points for")
    if age < -300:  # a till clock far ahead is a forgery or a broken till, not a future purchase
        raise ReceiptRefused("forged", "this receipt's date is in the future; ask at the counter")
    if receipt.amount_rial <= 0 or not receipt.receipt_id:
        raise ReceiptRefused("malformed", "this receipt has no amount; ask at the counter")
    if not is_receipt_id(receipt.receipt_id):  # the ledger would keep it, the cloud would refuse it forever
        raise ReceiptRefused("malformed", "this receipt's number is not one our tills print; ask at the counter")
    return receipt
