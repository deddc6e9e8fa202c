"""A generic SMS panel: one HTTP POST built from a template, which covers most local Iranian panels.

The chain's settings name the URL, the encoding (``json`` or ``form``) and the fields, each a template over
``{phone}`` (E.164 without +), ``{phone_local}`` (09...), ``{text}``, ``{sender}``, ``{reference}`` and
``{api_key}`` (from the secret file). The answer is read by HTTP status: 2xx accepted (the provider's id taken
from ``id_field`` of a JSON answer, if set); 400/422 and ``message_fault_statuses`` fail the message; 429 and
5xx are temporary; any other status (401, 402, 403...) stops the gateway until an operator fixes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import requests

from cloud.messages.gateways import Accepted, GatewayError
from cloud.messages.rules import check_template

FIELD_VARIABLES = frozenset({"phone", "phone_local", "text", "sender", "reference", "api_key"})


@dataclass(frozen=True)
class HttpPostSpec:
    url: str
    fields: Mapping[str, str]
    encoding: str = "json"
    headers: Mapping[str, str] = field(default_factory=dict)
    id_field: str = ""
    sender: str = ""
    message_fault_statuses: frozenset[int] = frozenset({400, 422})

    def __post_init__(self) -> None:
        if self.encoding not in ("json", "form"):
            raise ValueError(f"http_post encoding {self.encoding!r}: use 'json' or 'form'")
        if not self.url.startswith(("http://", "https://")):
            raise ValueError(f"http_post url {self.url!r} must start with http:// or https://")
        for name, template in {**self.fields, **self.headers}.items():
            check_template(template, FIELD_VARIABLES)


class HttpPostGateway:
    name = "http_post"

    def __init__(self, spec: HttpPostSpec, api_key: str = "", *, session: requests.Session | None = None,
                 timeout_s: float = 10.0) -> None:
        self._spec = spec
        self._api_key = api_key
        self._session = session or requests.Session()
        self._timeout_s = timeout_s

    def send(self, phone: str, text: str, *, reference: str) -> Accepted:
        digits = phone.removeprefix("+")
        values = {"phone": digits, "phone_local": "0" + digits[2:] if digits.startswith("98") else digits,
                  "text": text, "sender": self._spec.sender, "reference": reference, "api_key": self._api_key}
        payload = {name: template.format(**values) for name, template in self._spec.fields.items()}
        headers = {name: template.format(**values) for name, template in self._spec.headers.items()}
        body = {"json": payload} if self._spec.encoding == "json" else {"data": payload}
        try:
            response = self._session.post(self._spec.url, headers=headers, timeout=self._timeout_s, **body)
        except requests.RequestException as exc:
            raise GatewayError(f"SMS panel unreachable: {type(exc).__name__}", message_fault=False) from exc
        said = response.text[:200]
        if response.ok:
            return Accepted(provider_id=self._provider_id(response, reference))
        if response.status_code in self._spec.message_fault_statuses:
            raise GatewayError(f"SMS panel refused the message ({response.status_code}): {said}", message_fault=True)
        retry_after = response.headers.get("Retry-After", "")
        raise GatewayError(f"SMS panel answered {response.status_code}: {said}", message_fault=False,
                           retry_after_s=float(retry_after) if retry_after.isdigit() else None)

    def _provider_id(self, response: requests.Response, reference: str) -> str:
        if not self._spec.id_field:
            return reference
        try:
            return str(response.json()[self._spec.id_field])
        except (ValueError, KeyError, TypeError):
            # The panel took the message (2xx): sending it again would send it twice; reports cannot match it.
            return reference
