"""Kavenegar (kavenegar.com) over its documented REST API, with `requests`.

The PyPI client `kavenegar` (1.1.2, 2018) is unmaintained and only wraps these same calls, so the adapter
speaks the API itself:

    POST {base}/v1/{API-KEY}/sms/send.json   form: receptor, message, sender, localid
    -> {"return": {"status": 200, "message": "..."}, "entries": [{"messageid": 8792343, "cost": 120, ...}]}

On an error the HTTP status and ``return.status`` carry Kavenegar's code. Delivery reports use the entry
status codes (10 delivered; 6, 11, 13, 14 failed), see :func:`delivery_state`.
"""

from __future__ import annotations

from typing import Any

import requests

from cloud.messages.gateways import DELIVERED, UNDELIVERED, Accepted, GatewayError

DEFAULT_BASE_URL = "https://api.kavenegar.com"

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
        self._sender = sender
        self._session = session or requests.Session()
        self._timeout_s = timeout_s

    def send(self, phone: str, text: str, *, reference: str) -> Accepted:
        form = {"receptor": phone.removeprefix("+"), "message": text, "localid": reference}
        if self._sender:
            form["sender"] = self._sender
        try:
            response = self._session.post(self._url, data=form, timeout=self._timeout_s)
        except requests.RequestException as exc:
            raise GatewayError(f"kavenegar unreachable: {type(exc).__name__}", message_fault=False) from exc
        body = _json(response)
        returned = body.get("return") if isinstance(body.get("return"), dict) else {}
        status = returned.get("status", response.status_code)
        if status == 200 and response.ok:
            entries = body.get("entries") or []
            if not entries or not isinstance(entries[0], dict) or "messageid" not in entries[0]:
                return Accepted(provider_id=reference)  # taken: resending would send it twice
            return Accepted(provider_id=str(entries[0]["messageid"]), cost=entries[0].get("cost"))
        said = returned.get("message") or response.text[:200]
        retry_after = _retry_after(response)
        if status in _MESSAGE_FAULTS:
            raise GatewayError(f"kavenegar {status}: {_MESSAGE_FAULTS[status]} ({said})", message_fault=True)
        meaning = _GATEWAY_FAULTS.get(status, "error")
        raise GatewayError(f"kavenegar {status}: {meaning} ({said})", message_fault=False, retry_after_s=retry_after)


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None
