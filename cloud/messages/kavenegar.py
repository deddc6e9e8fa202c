"""Kavenegar (kavenegar.com) over its documented REST API, with `requests`.

The PyPI client `kavenegar` (1.1.2, 2018) is unmaintained and only wraps these same calls, so the adapter
speaks the API itself:

    POST {base}/v1/{API-KEY}/sms/send.json   form: receptor, message, sender, localid
    -> {"return": {"status": 200, "message": "..."}, "entries": [{"messageid": 8792343, "cost": 120, ...}]}

    POST {base}/v1/{API-KEY}/sms/sendarray.json   form: receptor, sender, message, localmessageids (JSON
         arrays of equal length, at most 200 entries) -> the same envelope, one entry per receptor in order

A drain hands the bulk call up to 200 messages at once (`send_many`): one round trip instead of 200. It
needs a sender line (the array call has no account default), so without one every message goes alone.
A repeated local id returns the first message instead of sending again, on both calls, so a chunk retried
after a lost answer texts nobody twice.

On an error the HTTP status and ``return.status`` carry Kavenegar's code. Delivery reports use the entry
status codes (10 delivered; 6, 11, 13, 14 failed), see :func:`delivery_state`.
"""

from __future__ import annotations

import json
from typing import Any

import requests

from cloud.messages.gateways import DELIVERED, UNDELIVERED, Accepted, GatewayError

DEFAULT_BASE_URL = "https://api.kavenegar.com"
BULK_LIMIT = 200  # sendarray.json's documented maximum per call

# Codes about this one message; every other error code stops the gateway (key, credit, sender, outage).
_MESSAGE_FAULTS = {
    411: "invalid receptor (not a mobile number the provider accepts)",
    413: "message empty or too long",
    422: "message contains characters the provider refuses",
}
_GATEWAY_FAULTS = {
    401: "account disabled",
    403: "invalid API key",
    412: "invalid sender line",
    418: "not enough credit",
    409: "provider unable to respond, retry later",
    429: "rate limited by the provider",
}
_FINAL_DELIVERY = {10: DELIVERED, 6: UNDELIVERED, 11: UNDELIVERED, 13: UNDELIVERED, 14: UNDELIVERED}


def delivery_state(status: int) -> str | None:
    """Our state for a Kavenegar delivery status, None while it is still on its way."""
    return _FINAL_DELIVERY.get(status)


class KavenegarGateway:
    name = "kavenegar"

    def __init__(self, api_key: str, sender: str, *, base_url: str = DEFAULT_BASE_URL,
                 session: requests.Session | None = None, timeout_s: float = 10.0) -> None:
        if not api_key:
            raise ValueError("the Kavenegar gateway needs api_key in the secret file's [gateway] section")
        self._url = f"{base_url.rstrip('/')}/v1/{api_key}/sms/send.json"
        self._bulk_url = f"{base_url.rstrip('/')}/v1/{api_key}/sms/sendarray.json"
        self._sender = sender
        self.batch_limit = BULK_LIMIT if sender else 1
        self._session = session or requests.Session()
        self._timeout_s = timeout_s

    def send(self, phone: str, text: str, *, reference: str) -> Accepted:
        form = {"receptor": phone.removeprefix("+"), "message": text, "localid": local_id(reference)}
        if self._sender:
            form["sender"] = self._sender
        entries = self._post(self._url, form)
        return _accepted(entries[0] if entries else None, reference)

    def send_many(self, messages: list[tuple[str, str, str]]) -> list[Accepted | GatewayError]:
        """Hand up to `batch_limit` (phone, text, reference) messages over in one call: an outcome for each, in
        order, until a gateway fault (key, credit, outage), which is the last outcome; the rest were not sent.

        A chunk the provider refuses for one message's sake (a bad number or text fails the whole call) is
        sent again one by one, so only that message fails.
        """
        if len(messages) == 1 or not self._sender:
            return self._one_by_one(messages)
        form = {"receptor": _array(phone.removeprefix("+") for phone, _, _ in messages),
                "message": _array(text for _, text, _ in messages),
                "sender": _array(self._sender for _ in messages),
                "localmessageids": _array(local_id(reference) for _, _, reference in messages)}
        try:
            entries = self._post(self._bulk_url, form)
        except GatewayError as exc:
            return self._one_by_one(messages) if exc.message_fault else [exc]
        if len(entries) != len(messages):
            # Entries cannot be matched to messages by position; each local id asked alone answers for itself.
            return self._one_by_one(messages)
        return [_accepted(entry, reference) for entry, (_, _, reference) in zip(entries, messages)]

    def _one_by_one(self, messages: list[tuple[str, str, str]]) -> list[Accepted | GatewayError]:
        outcomes: list[Accepted | GatewayError] = []
        for phone, text, reference in messages:
            try:
                outcomes.append(self.send(phone, text, reference=reference))
            except GatewayError as exc:
                outcomes.append(exc)
                if not exc.message_fault:
                    break
        return outcomes

    def _post(self, url: str, form: dict[str, str]) -> list:
        """The entries of a call the provider accepted; GatewayError with its meaning otherwise."""
        try:
            response = self._session.post(url, data=form, timeout=self._timeout_s)
        except requests.RequestException as exc:
            raise GatewayError(f"kavenegar unreachable: {type(exc).__name__}", message_fault=False) from exc
        body = _json(response)
        returned = body.get("return") if isinstance(body.get("return"), dict) else {}
        status = returned.get("status", response.status_code)
        if status == 200 and response.ok:
            entries = body.get("entries")
            return entries if isinstance(entries, list) else []
        said = returned.get("message") or response.text[:200]
        retry_after = _retry_after(response)
        if status in _MESSAGE_FAULTS:
            raise GatewayError(f"kavenegar {status}: {_MESSAGE_FAULTS[status]} ({said})", message_fault=True)
        meaning = _GATEWAY_FAULTS.get(status, "error")
        raise GatewayError(f"kavenegar {status}: {meaning} ({said})", message_fault=False, retry_after_s=retry_after)


def local_id(reference: str) -> str:
    """The local id Kavenegar keeps for a message: a queue reference "m<id>" as the number Kavenegar documents
    (localid and localmessageids are Long), the same on both calls so a chunk resent alone is still known."""
    number = reference.removeprefix("m")
    return number if number.isdigit() else reference


def _accepted(entry: object, reference: str) -> Accepted:
    if not isinstance(entry, dict) or "messageid" not in entry:
        return Accepted(provider_id=reference)  # taken: resending would send it twice
    return Accepted(provider_id=str(entry["messageid"]), cost=entry.get("cost"))


def _array(values: Any) -> str:
    return json.dumps(list(values), ensure_ascii=False)


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None
