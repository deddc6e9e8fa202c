"""The SMS gateway interface, its errors, and the adapters that need no provider.

A gateway takes one message and either accepts it (with the provider's id, for delivery reports) or raises
:class:`GatewayError` saying whether the message itself is bad (fail it: invalid number, text refused) or the
gateway cannot send anything now (wrong key, no credit, rate limited, down: stop and retry later, in order).
A gateway whose provider has a bulk call also has `batch_limit` (> 1) and `send_many` (Kavenegar's
sendarray.json); the drain then hands it chunks, see MessageQueue._send_batch.
Provider adapters: cloud/messages/kavenegar.py and cloud/messages/http_post.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from cloud.errors import CloudError

# Delivery states a provider report maps to (the queue's own states are in cloud/messages/tables.py).
DELIVERED = "delivered"
UNDELIVERED = "failed"


@dataclass(frozen=True)
class Accepted:
    """The provider took the message; `provider_id` links later delivery reports to it."""

    provider_id: str
    cost: int | None = None


class GatewayError(CloudError):
    """The provider refused or could not take a message.

    `message_fault` True: this message can never be sent (invalid number, text refused); fail it.
    False: the gateway is unusable now (wrong key, no credit, rate limit, outage); keep every message queued
    and pause the gateway for `retry_after_s` (or the backoff) so that later messages do not overtake it.
    """

    def __init__(self, reason: str, *, message_fault: bool, retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.message_fault = message_fault
        self.retry_after_s = retry_after_s


class Gateway(Protocol):
    name: str

    def send(self, phone: str, text: str, *, reference: str) -> Accepted:
        """Hand one message (E.164 phone) to the provider; `reference` is our id for it (idempotency)."""


class OutboxGateway:
    """The default: sends nothing, puts each message where a person relays it (the `sms_outbox` table).

    `deliver` is the existing one-time-code outbox's ``send(phone, text)`` (cloud.otp.OutboxSender), so a
    chain without a provider sees greetings in the same ``kiosk-cloud sms outbox`` list as codes.
    """

    name = "outbox"

    def __init__(self, deliver: Callable[[str, str], None]) -> None:
        self._deliver = deliver

    def send(self, phone: str, text: str, *, reference: str) -> Accepted:
        self._deliver(phone, text)
        return Accepted(provider_id=f"outbox:{reference}")


class OtpSender:
    """A gateway as the one-time-code sender (cloud.otp.SmsSender): codes go at once, never queued."""

    def __init__(self, gateway: Gateway, new_reference: Callable[[], str]) -> None:
        self._gateway = gateway
        self._new_reference = new_reference

    def send(self, phone: str, text: str) -> None:
        # GatewayError propagates: OneTimeCodes withdraws the code and tells the kiosk "sms_failed".
        self._gateway.send(phone, text, reference=self._new_reference())
