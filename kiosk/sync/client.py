"""HTTP client of the cloud protocol (kiosk side): signs requests, maps replies to errors.

Stateless apart from its connection pools; the sync worker decides what to retry and when. It speaks
urllib3 directly, not through requests: requests cost 0.2-0.4 ms of CPU a call more on this machine kind
(benchmarks/cloud_scale.py's member_lookup_client_cpu_ms, 0.95-0.99 ms through requests, 0.57-0.76 ms now),
and every card a kiosk does not know yet waits for a look-up. Every reply's server time is kept in `last_server_time` so the
worker can tell the staff how far the device clock is off.
"""

from __future__ import annotations

import email.utils
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode, urlsplit

import urllib3
from requests.certs import where as default_ca_bundle
from requests.utils import get_auth_from_url, get_environ_proxies, prepend_scheme_if_needed, select_proxy

from kiosk import protocol
from kiosk.clock import utcnow
from kiosk.sync.answers import check_status, decode_json, match_results, require_object
from kiosk.sync.deadline import DeadlinePools
from kiosk.sync.errors import (AuthRefused, ClockSkew, CloudRefused, CloudUnavailable, MalformedAnswer, NotRegistered,
                               OtpRateLimited)

Clock = Callable[[], datetime]
Reply = urllib3.BaseHTTPResponse
# The proxy is read from the environment (http_proxy, https_proxy, no_proxy) unless one is given.
FROM_ENVIRONMENT: Any = object()


@dataclass(frozen=True)
class Registration:
    device_id: str
    device_key: str
    branch: str
    server_time: str


@dataclass(frozen=True)
class BatchReply:
    results: list[dict[str, Any]]
    server_time: datetime | None
    document: dict[str, Any]

    def delivered_ids(self) -> list[str]:
        return [r["event_id"] for r in self.results if r.get("status") in protocol.DELIVERED_STATUSES]

    def rejected(self) -> list[dict[str, Any]]:
        return [r for r in self.results if r.get("status") == protocol.REJECTED]

    def by_event(self, event_ids: list[str]) -> dict[str, dict[str, Any]]:
        """Each sent event's result, found by its id (MalformedAnswer unless every one is named once)."""
        return match_results(self.document, event_ids)


@dataclass(frozen=True)
class ConfigReply:
    not_modified: bool
    etag: str | None
    document: dict[str, Any] | None


def _unreachable(exc: Exception) -> CloudUnavailable:
    if isinstance(exc, urllib3.exceptions.SSLError):
        return CloudUnavailable(f"TLS check of the cloud failed: {exc}; check the CA file")
    if isinstance(exc, urllib3.exceptions.ProxyError):
        return CloudUnavailable(f"cannot reach the cloud through the proxy: {exc.original_error}")
    if isinstance(exc, urllib3.exceptions.NewConnectionError):  # a ConnectTimeoutError to urllib3, but refused
        return CloudUnavailable(f"cannot reach the cloud: {exc.__class__.__name__}")
    if isinstance(exc, urllib3.exceptions.TimeoutError):
        return CloudUnavailable(f"the cloud did not answer in time: {exc.__class__.__name__}")
    return CloudUnavailable(f"cannot reach the cloud: {exc.__class__.__name__}")


def trusted(ca_file: str | None, verify_tls: bool) -> bool | str:
    """What the client checks the cloud's certificate against: the chain's CA file, else the environment's
    bundle (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, as requests reads them), else the certifi bundle; False only
    when `verify_tls` is off (loopback demos)."""
    if ca_file:
        return ca_file
    if not verify_tls:
        return False
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True


def proxy_settings(proxy: str | None) -> dict[str, dict[str, str]]:
    """The proxy's own login, from user:password@ in its URL, as requests sends it."""
    username, password = get_auth_from_url(proxy) if proxy else ("", "")
    if not username:
        return {}
    return {"proxy_headers": urllib3.util.make_headers(proxy_basic_auth=f"{username}:{password}")}


def tls_settings(verify: bool | str) -> dict[str, str]:
    if verify is False:
        return {"cert_reqs": "CERT_NONE"}
    where = default_ca_bundle() if verify is True else verify
    return {"cert_reqs": "CERT_REQUIRED", ("ca_cert_dir" if os.path.isdir(where) else "ca_certs"): where}


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        at = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return max(0.0, (at - now).total_seconds())


class CloudClient:
    """One device's view of the cloud at `base_url` (http or https)."""

    def __init__(
        self,
        base_url: str,
        *,
        device_id: str | None = None,
        device_key: str | None = None,
        clock: Clock = utcnow,
        connect_timeout: float = 3.05,
        read_timeout: float = 15.0,
        deadline: float | None = None,
        ca_file: str | None = None,
        verify_tls: bool = True,
        proxy: str | None = FROM_ENVIRONMENT,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise CloudRefused(
                f"cloud URL {base_url!r} is not http(s)://host[:port][/prefix]", status=0, code="bad_url"
            )
        self.base_url = base_url.rstrip("/")
        self.device_id = device_id
        self.device_key = device_key
        self.clock = clock
        self.timeout = (connect_timeout, read_timeout)
        self._timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
        # The whole request, reply included: the read timeout alone is per read, and a trickle resets it.
        self.deadline = deadline if deadline is not None else connect_timeout + read_timeout
        # A CA file pins the chain's own CA; verify_tls=False exists only for loopback demos.
        self.verify = trusted(ca_file, verify_tls)
        # The environment is read once, for the cloud's URL, not at every call.
        if proxy is FROM_ENVIRONMENT:
            proxy = select_proxy(self.base_url, get_environ_proxies(self.base_url))
        self.proxy: str | None = prepend_scheme_if_needed(proxy, "http") if proxy else None
        self._pools = DeadlinePools(self.deadline, proxy_url=self.proxy, **proxy_settings(self.proxy),
                                    **tls_settings(self.verify))
        self.last_server_time: datetime | None = None
        self.last_skew_seconds: float | None = None

    def clone(self) -> CloudClient:
        """The same device, URL, timeouts, TLS and proxy settings on pools of its own.

        The card look-up runs beside the sync worker: its own pools keep a look-up from waiting for a connection
        a slow batch holds, and its own `last_server_time`.
        """
        return CloudClient(self.base_url, device_id=self.device_id, device_key=self.device_key, clock=self.clock,
                           connect_timeout=self.timeout[0], read_timeout=self.timeout[1], deadline=self.deadline,
                           ca_file=self.verify if isinstance(self.verify, str) else None,
                           verify_tls=self.verify is not False, proxy=self.proxy)

    def close(self) -> None:
        self._pools.close()  # its connections, and its deadline watcher at once rather than after the linger

    def __enter__(self) -> CloudClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests ---------------------------------------------------------------------

    def _request(
        self, method: str, path_and_query: str, body: bytes = b"", *, signed: bool = True,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        if signed:
            if not self.device_id or not self.device_key:
                raise NotRegistered("this kiosk is not registered; run `kioskctl register --cloud URL --token T`")
            sent_at = self.clock()
            all_headers.update(protocol.signed_headers(
                self.device_id, self.device_key, sent_at, method, path_and_query, body
            ))
        with self._pools.deadline() as deadline:
            try:
                response = self._pools.manager.request(
                    method, self.base_url + path_and_query, body=body or None, headers=all_headers,
                    timeout=self._timeout, retries=False, redirect=False,
                )
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                if deadline.expired:
                    raise self._too_slow() from exc
                raise _unreachable(exc) from exc
        if deadline.expired:  # a body without a length ends "normally" when its socket is cut
            raise self._too_slow()
        self._note_server_time(response)
        check_status(response.status, response.headers.get("Location"))
        self._raise_for_status(response)
        return response

    def _too_slow(self) -> CloudUnavailable:
        return CloudUnavailable(f"the cloud did not finish answering within {self.deadline:.1f} s "
                                "(a reply trickling in, or a stalled network)")

    @staticmethod
    def _json(response: Reply, what: str) -> dict[str, Any]:
        """The reply's JSON object, or MalformedAnswer (HTML, cut short, not an object)."""
        document = decode_json(response.data, status=response.status,
                               content_type=response.headers.get("Content-Type", ""), what=what)
        return require_object(document, what, status=response.status)

    def _note_server_time(self, response: Reply) -> None:
        stamp = response.headers.get(protocol.HEADER_SERVER_TIME, "")
        if stamp.isdigit():
            server_time = datetime.fromtimestamp(int(stamp), timezone.utc)
            self.last_server_time = server_time
            self.last_skew_seconds = (self.clock() - server_time).total_seconds()

    def _raise_for_status(self, response: Reply) -> None:
        status = response.status
        if status < 400:
            return
        try:
            reply = json.loads(response.data)
        except ValueError:
            reply = {}
        if not isinstance(reply, dict):
            reply = {}
        if status == 404 and reply.get("error") in ("unknown_member", "no_config", "coupon_unknown"):
            return  # answers, not failures: the caller reads them
        message = str(reply.get("message") or response.reason or f"HTTP {status}")
        code = str(reply.get("error") or "")
        if status >= 500 or status in (408, 429):
            raise CloudUnavailable(
                f"the cloud is unavailable (HTTP {status}): {message}",
                retry_after=parse_retry_after(response.headers.get("Retry-After"), self.clock()),
                status=status,
            )
        if status == 401 and code == "clock_skew":
            server_time = None
            if isinstance(reply.get("server_time"), str):
                server_time = protocol.parse_time(reply["server_time"])
            raise ClockSkew(message, skew_seconds=float(reply.get("skew_seconds", 0.0)), server_time=server_time)
        if status == 401:
            raise AuthRefused(f"the cloud refused this device: {message}", status=status, code=code)
        raise CloudRefused(f"the cloud refused the request (HTTP {status}): {message}", status=status, code=code,
                           detail=reply)

    # -- protocol calls ---------------------------------------------------------------

    def register(self, token: str, name: str = "") -> Registration:
        body = json.dumps({"token": token, "name": name}).encode()
        reply = self._json(self._request("POST", "/v1/register", body, signed=False), "registration")
        fields = [reply.get(key) for key in ("device_id", "device_key", "branch", "server_time")]
        if not all(isinstance(value, str) and value for value in fields):
            raise MalformedAnswer("the cloud's registration lacks device_id, device_key, branch or server_time",
                                  status=200)
        registration = Registration(*fields)
        self.device_id, self.device_key = registration.device_id, registration.device_key
        return registration

    def send_batch(self, payloads: list[str]) -> BatchReply:
        """POST outbox payloads (JSON text each); the reply has one result per payload."""
        body = protocol.encode_batch(payloads)
        response = self._request("POST", f"/v1/devices/{self.device_id}/events", body)
        if response.status != 200:
            raise MalformedAnswer(f"the cloud answered a batch with HTTP {response.status}, not 200",
                                  status=response.status)
        reply = self._json(response, "batch reply")
        results = reply.get("results")
        if not isinstance(results, list) or not all(isinstance(r, dict) for r in results) \
                or len(results) != len(payloads):
            raise MalformedAnswer("the cloud's batch reply does not list a result for every event; will retry",
                                  status=200)
        try:
            server_time = protocol.parse_time(reply["server_time"]) if reply.get("server_time") else None
        except (TypeError, ValueError) as exc:
            raise MalformedAnswer(f"the cloud's batch reply has a bad server_time: {exc}", status=200) from exc
        return BatchReply(results, server_time, reply)

    def fetch_config(self, etag: str | None = None) -> ConfigReply:
        headers = {"If-None-Match": etag} if etag else {}
        response = self._request("GET", f"/v1/devices/{self.device_id}/config", headers=headers)
        if response.status == 304:
            return ConfigReply(True, response.headers.get("ETag", etag), None)
        if response.status == 404:
            message = self._json(response, "answer").get("message", "the cloud has no config for this branch yet")
            raise CloudRefused(str(message), status=404, code="no_config")
        return ConfigReply(False, response.headers.get("ETag"), self._json(response, "config"))

    def lookup(self, *, card_ref: str | None = None, member_id: str | None = None,
               phone: str | None = None) -> dict[str, Any] | None:
        """Chain-wide member and balance, or None if the cloud does not know the card/member.

        With `phone` (E.164): the chain's record of a phone that joined by texting the club's keyword and
        has not enrolled at a kiosk yet ({"member_id", "source": "sms"}), or None.
        """
        query = urlencode({"card_ref": card_ref} if card_ref is not None
                          else {"phone": phone} if phone is not None else {"member_id": member_id})
        response = self._request("GET", f"/v1/members/lookup?{query}")
        if response.status == 404:
            return None
        return self._json(response, "card look-up")

    def engagement(self, reports: list[dict[str, Any]], settled: list[str] | None = None) -> dict[str, Any]:
        """Report the use of this kiosk's budget grants and the reversals it applied; the cloud's draws, games,
        wins, grants and the reversals it asks for."""
        body = json.dumps({"grants": reports, "settled": settled or []}).encode()
        return self._json(self._request("POST", f"/v1/devices/{self.device_id}/engagement", body), "engagement")

    # -- the chain's coupons (docs/protocol.md) ---------------------------------------------

    def coupon(self, code: str) -> dict[str, Any] | None:
        """The chain's coupon by its canonical code (whose, which reward, used where), or None if unknown."""
        response = self._request("GET", f"/v1/devices/{self.device_id}/coupons/{code}")
        return None if response.status == 404 else self._json(response, "coupon look-up")

    def use_coupon(self, code: str, member_id: str, use_key: str) -> dict[str, Any] | None:
        """Claim the coupon for the till commit `use_key`; None if the chain does not know it. CloudRefused with
        code coupon_used or coupon_other_member when it cannot be had."""
        body = json.dumps({"member_id": member_id, "use_key": use_key}).encode()
        response = self._request("POST", f"/v1/devices/{self.device_id}/coupons/{code}/use", body)
        return None if response.status == 404 else self._json(response, "coupon claim")

    def heartbeat(self, report: dict[str, Any]) -> None:
        """Tell the cloud this kiosk's version, outbox backlog and readers (kiosk/rules/fleet.py)."""
        self._json(self._request("POST", f"/v1/devices/{self.device_id}/heartbeat", json.dumps(report).encode()),
                   "heartbeat")

    def hold_credit(self, member_id: str, amount_rial: int, use_key: str, unsent: list[list[Any]]) -> dict[str, Any]:
        """Hold the member's chain credit for the till commit `use_key` (`unsent`: this kiosk's credit moves the
        cloud may not have yet). CloudRefused with code credit_short when the chain does not cover it."""
        body = json.dumps({"member_id": member_id, "amount_rial": amount_rial, "use_key": use_key,
                           "unsent": unsent}).encode()
        return self._json(self._request("POST", f"/v1/devices/{self.device_id}/credit/hold", body), "credit hold")

    # -- one-time codes (the cloud's SMS hook) -------------------------------------------

    def request_otp(self, phone: str, purpose: str) -> None:
        """Ask the cloud to text a one-time code to ``phone`` (E.164) for ``purpose`` ("enroll"/"add_card").

        Raises OtpRateLimited when the phone was sent too many codes, CloudUnavailable when no code can be
        sent now (network, cloud down, SMS gateway failure) and CloudRefused for a request the cloud refuses.
        """
        body = json.dumps({"phone": phone, "purpose": purpose}).encode()
        try:
            self._request("POST", f"/v1/devices/{self.device_id}/otp", body)
        except CloudUnavailable as exc:
            if exc.status == 429:
                wait = f"in {int(exc.retry_after)} s" if exc.retry_after is not None else "later"
                raise OtpRateLimited(f"the cloud sent this phone too many codes lately; ask again {wait}",
                                     retry_after=exc.retry_after, status=429) from exc
            raise

    def verify_otp(self, phone: str, purpose: str, code: str) -> protocol.OtpVerdict:
        """The cloud's verdict on a typed code: ok, wrong (with attempts left), expired or locked."""
        body = json.dumps({"phone": phone, "purpose": purpose, "code": code}).encode()
        reply = self._json(self._request("POST", f"/v1/devices/{self.device_id}/otp/verify", body), "code check")
        result, left = reply.get("result"), reply.get("attempts_left", 0)
        if result not in protocol.OTP_RESULTS or not isinstance(left, int):
            raise CloudUnavailable(f"the cloud's code check answered {reply!r}, which is not a verdict")
        return protocol.OtpVerdict(result, left)

    # -- complaint look-ups (docs/engagement.md) ----------------------------------------------

    def lookup_complaint(self, code: str, phone_last4: str) -> dict[str, Any] | None:
        """The case behind a tracking code and the phone's last four digits, or None when they match none.

        The cloud answers a wrong code and a wrong phone alike; CloudUnavailable with status 429 when this
        device asked too often (retry_after says when to ask again).
        """
        body = json.dumps({"code": code, "phone_last4": phone_last4}).encode()
        reply = self._json(self._request("POST", f"/v1/devices/{self.device_id}/complaints/lookup", body),
                           "complaint look-up")
        if reply.get("found") is not True:
            return None
        return {k: reply.get(k) for k in ("code", "state", "subject", "answer", "updated_at")}
