"""The chain's wallet for this kiosk's till: look a coupon up, claim one for a commit (cloud/wallet.py), hold
the member's chain credit for a commit (cloud/credit_holds.py).

Like the card look-up, each request runs on a thread of its own and the till waits at most `timeout`
seconds; a cloud that is down, slow or garbled is ChainUnreachable, and the till then decides by its own
rule (its own coupons) or refuses (another branch's). A refusal by the cloud is the till's SpendRefused.
"""
from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, Callable

from kiosk import protocol
from kiosk.errors import ChainUnreachable, SpendRefused
from kiosk.sync.client import CloudClient
from kiosk.sync.errors import CloudRefused, SyncError

log = logging.getLogger(__name__)

_REFUSALS = {"coupon_used", "coupon_other_member", "credit_short"}
_FIELDS = ("code", "member_id", "reward_id", "branch", "issued_at")


def _checked(reply: Any, code: str) -> dict[str, Any]:
    """The coupon fields of a cloud reply; ChainUnreachable when they do not hold together."""
    if not isinstance(reply, dict) or reply.get("code") != code or not all(
            isinstance(reply.get(k), str) and reply[k] for k in _FIELDS if k != "branch"):
        raise ChainUnreachable(f"the cloud's answer about coupon {code} is unusable")
    if protocol.text_problem("member_id", reply["member_id"]) is not None:
        raise ChainUnreachable(f"the cloud's answer about coupon {code} has a bad member id")
    return {**{k: str(reply.get(k) or "") for k in _FIELDS}, "used_at": reply.get("used_at"),
            "used_branch": reply.get("used_branch")}


def _available(detail: dict[str, Any]) -> int | None:
    """credit_short's available_rial when it is a figure the kiosk can use (a cloud that garbles it, or an older
    one that leaves it out, gives none: the kiosk then waits for its next reconcile as before)."""
    value = detail.get("available_rial")
    return value if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 10**13 else None


class ChainCoupons:
    """find(code) and claim(code, member_id, key) against the chain; use as a context manager or close()."""

    def __init__(self, client: CloudClient, *, timeout: float | None = None) -> None:
        self.client = client
        self.timeout = client.timeout[1] if timeout is None else timeout
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chain-coupons")

    def _ask(self, call: Callable[[], Any], what: str) -> Any:
        try:
            future = self._pool.submit(call)
        except RuntimeError:  # closed while the kiosk shuts down
            raise ChainUnreachable("the kiosk is shutting down") from None
        try:
            return future.result(timeout=self.timeout)
        except FutureTimeout:
            future.cancel()
            raise ChainUnreachable(f"the cloud did not answer a {what} within {self.timeout:.1f} s") from None
        except CloudRefused as exc:
            if exc.code in _REFUSALS:
                raise SpendRefused(exc.code, str(exc).split(": ", 1)[-1],
                                   available_rial=_available(exc.detail) if exc.code == "credit_short" else None) from None
            raise ChainUnreachable(f"the cloud refused a {what}: {exc}") from None
        except SyncError as exc:
            raise ChainUnreachable(f"{what} failed: {exc}") from None

    def find(self, code: str) -> dict[str, Any] | None:
        """The chain's coupon (with used_at/used_branch), None when the chain has no such coupon."""
        reply = self._ask(lambda: self.client.coupon(code), "coupon look-up")
        return None if reply is None else _checked(reply, code)

    def claim(self, code: str, member_id: str, key: str) -> dict[str, Any] | None:
        """Mark the coupon used by commit `key` chain-wide; None when the chain has no such coupon (yet)."""
        reply = self._ask(lambda: self.client.use_coupon(code, member_id, key), "coupon claim")
        return None if reply is None else _checked(reply, code)

    def hold_credit(self, member_id: str, amount_rial: int, key: str, unsent: list[list[Any]]) -> dict[str, Any]:
        """Hold `amount_rial` of the member's chain credit for commit `key` (cloud/credit_holds.py); SpendRefused
        credit_short when the chain does not cover it, ChainUnreachable when it cannot say."""
        reply = self._ask(lambda: self.client.hold_credit(member_id, amount_rial, key, unsent), "credit hold")
        if not isinstance(reply, dict) or reply.get("state") not in ("held", "settled") \
                or reply.get("amount_rial") != amount_rial or reply.get("use_key") != key:
            raise ChainUnreachable(f"the cloud's answer to a credit hold for {key} is unusable")
        return reply

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.client.close()

    def __enter__(self) -> ChainCoupons:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
