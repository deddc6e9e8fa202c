"""Members enrolled at another branch: ask the cloud about a card this kiosk does not know.

The cloud's `GET /v1/members/lookup?card_ref=` is the chain-wide answer. A card the
chain knows is copied into the local store (Store.import_member) with the member's id
and the chain balance, so the member sees their points at any branch. The look-up runs
on a thread of its own and the tap waits for it at most `timeout` seconds: a slow or
absent cloud costs one tap that long and then shows the unknown-card screen as before.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from kiosk import protocol
from kiosk.chain_card import ChainCard, chain_card_from_reply
from kiosk.sync.client import CloudClient
from kiosk.sync.errors import SyncError

log = logging.getLogger(__name__)


class ChainCardLookup:
    """Callable card_ref -> ChainCard | None; None for unknown, unreachable, slow or garbled.

    One look-up thread: a hung request holds it until the client's own timeouts end it,
    and a tap behind it still waits no longer than `timeout`. Use as a context manager
    or call close().
    """

    def __init__(self, client: CloudClient, *, timeout: float | None = None) -> None:
        self.client = client
        self.timeout = client.timeout[1] if timeout is None else timeout
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chain-lookup")

    def __call__(self, card_ref: str) -> ChainCard | None:
        try:
            future = self._pool.submit(self.client.lookup, card_ref=card_ref)
        except RuntimeError:  # closed while the kiosk shuts down
            return None
        try:
            reply = future.result(timeout=self.timeout)
        except FutureTimeout:
            future.cancel()
            log.info("the cloud did not answer a card look-up within %.1f s; treating the card as unknown",
                     self.timeout)
            return None
        except SyncError as exc:
            log.info("card look-up failed, treating the card as unknown: %s", exc)
            return None
        if reply is None:
            return None
        try:
            return chain_card_from_reply(reply, card_ref)
        except protocol.ProtocolError as exc:
            log.warning("%s; treating the card as unknown", exc)
            return None

    def joined_by_sms(self, phone: str) -> str | None:
        """The chain's member id for a phone that joined by SMS and is enrolling now (so the kiosk completes
        that record instead of making a second one); None when there is none or the cloud cannot say in time."""
        try:
            future = self._pool.submit(self.client.lookup, phone=phone)
        except RuntimeError:
            return None
        try:
            reply = future.result(timeout=self.timeout)
        except FutureTimeout:
            future.cancel()
            log.info("the cloud did not answer a phone look-up within %.1f s; enrolling a new member", self.timeout)
            return None
        except SyncError as exc:
            log.info("phone look-up failed, enrolling a new member: %s", exc)
            return None
        member_id = (reply or {}).get("member_id")
        if (reply or {}).get("source") != "sms" or not isinstance(member_id, str) or not member_id:
            return None
        problem = protocol.text_problem("member_id", member_id)
        if problem is not None:
            log.warning("the cloud's phone look-up answered a bad member_id (%s); enrolling a new member", problem)
            return None
        return member_id

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.client.close()

    def __enter__(self) -> ChainCardLookup:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
