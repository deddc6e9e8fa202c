"""The provider's callbacks: inbound texts and delivery reports, behind a secret path segment.

    POST /v1/messages/hooks/<secret>/inbound    messageid, from, message   (Kavenegar's receive callback)
    POST /v1/messages/hooks/<secret>/delivery   messageid, status          (Kavenegar status code, or
                                                                            "delivered" / "failed")

Form fields or query parameters, as providers differ. A wrong secret (a forged callback) gets 404 and
changes nothing; without a webhook secret in the secret file the endpoints do not exist.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import datetime

from flask import Blueprint, Response, abort, jsonify, request
from sqlalchemy.engine import Engine

from cloud.messages import tables as t
from cloud.messages.inbound import BadInbound, handle_inbound
from cloud.messages.kavenegar import delivery_state
from cloud.messages.queue import MessageQueue
from cloud.messages.settings import MessageSettings


def hooks_blueprint(engine: Engine, settings: MessageSettings, webhook_secret: str,
                    clock: Callable[[], datetime]) -> Blueprint:
    hooks = Blueprint("message_hooks", __name__, url_prefix="/v1/messages/hooks/<secret>")
    queue = MessageQueue(engine, settings, clock=clock)

    @hooks.record_once
    def exempt_from_csrf(state) -> None:
        # The provider's server calls these, proving itself by the secret in the URL; the console's CSRF
        # tokens are for its own forms in a browser, which a provider never has.
        csrf = state.app.extensions.get("csrf")
        if csrf is not None:
            csrf.exempt(hooks)

    @hooks.url_value_preprocessor
    def check_secret(_endpoint: str | None, values: dict | None) -> None:
        given = (values or {}).pop("secret", "")
        if not webhook_secret or not hmac.compare_digest(given.encode(), webhook_secret.encode()):
            abort(404)

    def field(name: str) -> str:
        return (request.form.get(name) or request.args.get(name) or "").strip()

    @hooks.post("/inbound")
    def inbound() -> tuple[Response, int]:
        sender, text, provider_id = field("from"), field("message"), field("messageid")
        if not sender or not provider_id:
            return jsonify({"error": "bad_request", "message": "send messageid, from and message"}), 400
        try:
            outcome = handle_inbound(engine, queue, settings, sender=sender, text=text, provider_id=provider_id,
                                     now=clock())
        except BadInbound as exc:
            return jsonify({"error": "bad_sender", "message": str(exc)}), 400
        return jsonify({"outcome": outcome}), 200

    @hooks.post("/delivery")
    def delivery() -> tuple[Response, int]:
        provider_id, status = field("messageid"), field("status")
        if not provider_id or not status:
            return jsonify({"error": "bad_request", "message": "send messageid and status"}), 400
        state = status if status in (t.DELIVERED, t.FAILED) else (
            delivery_state(int(status)) if status.isdigit() else None)
        if state is None:
            return jsonify({"outcome": "pending"}), 200
        found = queue.record_delivery(provider_id, state, "" if state == t.DELIVERED else f"provider status {status}")
        return jsonify({"outcome": state if found else "unknown_message"}), 200

    return hooks
