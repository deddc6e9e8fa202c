"""Flask app factory of the reference cloud endpoint (protocol: kiosk/protocol.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

from flask import Flask, Response, jsonify, render_template_string, request

from cloud.auth import AuthFailure, authenticate
from cloud.errors import TokenError
from cloud.otp import OneTimeCodes, OtpRateLimited, OutboxSender, SmsFailed, SmsSender
from cloud.store import Clock, CloudStore, Device
from kiosk.clock import utcnow
from kiosk import protocol

_CARD_REF = re.compile(r"^[0-9a-f]{64}$")

_INDEX = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Loyalty cloud</title>
<style>
body { font: 15px system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; } th, td { padding: .3rem .8rem; border-bottom: 1px solid #ddd; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
</style></head><body>
<h1>Loyalty cloud</h1>
<p>Server time {{ server_time }} &middot; {{ counts.devices }} devices &middot; {{ counts.events }} events
&middot; {{ counts.members }} members</p>
{% if devices %}
<table><thead><tr><th>Device</th><th>Name</th><th>Branch</th><th>Registered</th><th>Last seen</th><th>Events</th></tr></thead>
<tbody>
{% for d in devices %}<tr><td><code>{{ d.device_id }}</code></td><td>{{ d.name }}</td><td>{{ d.branch }}</td>
<td>{{ d.registered_at }}</td><td>{{ d.last_seen_at or "never" }}</td><td class="n">{{ d.events_count }}</td></tr>
{% endfor %}</tbody></table>
{% else %}<p>No devices yet. Create a token with <code>kiosk-cloud token create --branch NAME</code> and run
<code>kioskctl register</code> on the kiosk.</p>{% endif %}
</body></html>
"""


def _error(status: int, code: str, message: str, **extra: Any) -> tuple[Response, int]:
    return jsonify({"error": code, "message": message, **extra}), status


def create_app(
    db_path: Path,
    *,
    clock: Clock = utcnow,
    max_body_bytes: int = protocol.MAX_BATCH_BYTES,
    sms_sender: SmsSender | None = None,
    make_code: Callable[[], str] | None = None,
) -> Flask:
    """The reference cloud as a WSGI app over the SQLite file at `db_path`.

    `sms_sender` delivers one-time codes; without one they wait in the `sms_outbox` table
    (`kiosk-cloud sms outbox`), which is where a real SMS gateway plugs in.
    """
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = max_body_bytes
    store = CloudStore(Path(db_path), clock=clock)
    app.extensions["cloud_store"] = store
    if sms_sender is None:
        sms_sender = OutboxSender(store)
        app.extensions["cloud_sms_outbox"] = sms_sender
    codes = OneTimeCodes(store, sms_sender, **({"make_code": make_code} if make_code else {}))

    def server_time() -> str:
        return protocol.format_time(clock())

    @app.after_request
    def stamp_server_time(response: Response) -> Response:
        response.headers[protocol.HEADER_SERVER_TIME] = str(int(clock().timestamp()))
        return response

    @app.errorhandler(AuthFailure)
    def auth_failed(exc: AuthFailure) -> tuple[Response, int]:
        return _error(401, exc.code, exc.message, server_time=server_time(), **exc.extra)

    @app.errorhandler(413)
    def too_large(_exc: Exception) -> tuple[Response, int]:
        return _error(413, "too_large", f"request body over {max_body_bytes} bytes; send smaller batches")

    @app.errorhandler(500)
    def internal(_exc: Exception) -> tuple[Response, int]:
        # Nothing of the request was committed (each write is one transaction): safe to resend.
        return _error(500, "internal", "the cloud failed to process this request; nothing was stored, retry later")

    @app.errorhandler(404)
    def not_found(_exc: Exception) -> tuple[Response, int]:
        return _error(404, "not_found", "no such endpoint; see docs/cloud.md")

    @app.errorhandler(405)
    def wrong_method(_exc: Exception) -> tuple[Response, int]:
        return _error(405, "method_not_allowed", "wrong HTTP method for this endpoint; see docs/cloud.md")

    def signed_device(device_id: str | None = None) -> Device:
        query = request.query_string.decode("latin-1")
        path_and_query = request.path + (f"?{query}" if query else "")
        device = authenticate(
            store, request.headers, request.method, path_and_query, request.get_data(cache=True), clock()
        )
        if device_id is not None and device.device_id != device_id:
            raise AuthFailure("wrong_device", "the signed device id does not match the URL")
        return device

    @app.post("/v1/register")
    def register() -> tuple[Response, int]:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("token"), str):
            return _error(400, "bad_request", 'send JSON {"token": "...", "name": "optional label"}')
        name = body.get("name") if isinstance(body.get("name"), str) else ""
        try:
            registration = store.register(body["token"].strip(), name)
        except TokenError as exc:
            return _error(403, "token_refused", str(exc))
        return jsonify({
            "device_id": registration.device_id,
            "device_key": registration.device_key,
            "branch": registration.branch,
            "server_time": server_time(),
        }), 201

    @app.post("/v1/devices/<device_id>/events")
    def events(device_id: str) -> tuple[Response, int]:
        device = signed_device(device_id)
        try:
            raw_events = protocol.decode_batch(request.get_data(cache=True))
        except protocol.ProtocolError as exc:
            return _error(400, "bad_batch", str(exc), server_time=server_time())
        results = store.ingest(device, raw_events)
        summary = {status: sum(r["status"] == status for r in results)
                   for status in (protocol.ACCEPTED, protocol.DUPLICATE, protocol.REJECTED)}
        return jsonify({"server_time": server_time(), "results": results, **summary}), 200

    @app.post("/v1/devices/<device_id>/otp")
    def otp_send(device_id: str) -> tuple[Response, int]:
        device = signed_device(device_id)
        try:
            phone, purpose, _ = protocol.parse_otp_request(request.get_data(cache=True), with_code=False)
        except protocol.ProtocolError as exc:
            return _error(400, "bad_request", str(exc))
        try:
            codes.issue(device, phone, purpose)
        except OtpRateLimited as exc:
            response, status = _error(429, "rate_limited", str(exc), retry_after=exc.retry_after_s)
            response.headers["Retry-After"] = str(exc.retry_after_s)
            return response, status
        except SmsFailed as exc:
            return _error(502, "sms_failed", f"{exc}; nothing was sent, ask for a new code later")
        return jsonify({"status": "sent", "expires_in": int(protocol.OTP_TTL.total_seconds()),
                        "server_time": server_time()}), 202

    @app.post("/v1/devices/<device_id>/otp/verify")
    def otp_verify(device_id: str) -> tuple[Response, int]:
        device = signed_device(device_id)
        try:
            phone, purpose, code = protocol.parse_otp_request(request.get_data(cache=True), with_code=True)
        except protocol.ProtocolError as exc:
            return _error(400, "bad_request", str(exc))
        assert code is not None
        verdict = codes.verify(device, phone, purpose, code)
        return jsonify({"result": verdict.result, "attempts_left": verdict.attempts_left,
                        "server_time": server_time()}), 200

    @app.get("/v1/members/lookup")
    def lookup() -> tuple[Response, int]:
        signed_device()
        card_ref = request.args.get("card_ref")
        member_id = request.args.get("member_id")
        if card_ref is not None:
            if not _CARD_REF.match(card_ref):
                return _error(400, "bad_card_ref", "card_ref must be 64 lowercase hex characters")
            found = store.lookup(card_ref=card_ref)
        elif member_id:
            found = store.lookup(member_id=member_id)
        else:
            return _error(400, "bad_request", "pass ?card_ref=<64 hex> or ?member_id=<id>")
        if found is None:
            return _error(404, "unknown_member", "the cloud has no member for this card", server_time=server_time())
        return jsonify({**found, "server_time": server_time()}), 200

    @app.get("/v1/devices/<device_id>/config")
    def config(device_id: str) -> Response | tuple[Response, int]:
        device = signed_device(device_id)
        store.touch(device.device_id)
        branch_config = store.config(device.branch)
        if branch_config is None:
            return _error(
                404, "no_config",
                f"branch {device.branch!r} has no config yet; run `kiosk-cloud config set --branch {device.branch}`",
            )
        wanted = _etags(request.headers.get("If-None-Match", ""))
        if branch_config.etag in wanted or "*" in wanted:
            response = Response(status=304)
        else:
            response = Response(branch_config.body, status=200, mimetype="application/json")
        response.headers["ETag"] = branch_config.etag
        response.headers["Cache-Control"] = "no-cache"
        return response

    @app.get("/v1/status")
    def status() -> tuple[Response, int]:
        devices = store.devices()
        return jsonify({
            "status": "ok",
            "server_time": server_time(),
            "counts": store.counts(),
            "devices": [
                {"device_id": d.device_id, "name": d.name, "branch": d.branch,
                 "registered_at": d.registered_at, "last_seen_at": d.last_seen_at,
                 "events_count": d.events_count}
                for d in devices
            ],
        }), 200

    @app.get("/")
    def index() -> str:
        return render_template_string(
            _INDEX, devices=store.devices(), counts=store.counts(), server_time=server_time()
        )

    return app


def _etags(header: str) -> set[str]:
    """The entity tags listed in an If-None-Match header (weak prefixes ignored)."""
    tags = set()
    for part in header.split(","):
        part = part.strip()
        if part.startswith("W/"):
            part = part[2:]
        if part:
            tags.add(part)
    return tags
