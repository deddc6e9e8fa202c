"""The till's local API (docs/pos-api.yaml): tap to earn, and spending (quotes, commits, voids, refunds,
coupons); bearer token, JSON, no cookies, no CSRF."""
from __future__ import annotations

import hmac

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from kiosk.errors import SpendRefused
from kiosk.flows.till import PurchaseRejected, check_purchase
from web.flows import flows

blueprint = Blueprint("pos", __name__, url_prefix="/pos/v1")


def problem(message: str, status: int) -> ResponseReturnValue:
    return jsonify({"error": message}), status


@blueprint.before_request
def authorise() -> ResponseReturnValue | None:
    f = flows()
    if not f.service.settings.pos.enabled:
        return problem("the POS API is switched off on this kiosk ([pos] enabled = false)", 404)
    token = f.service.secrets.pos_token
    if not token:
        return problem("this kiosk has no pos_token in its secrets file; the POS API is closed", 503)
    sent = request.headers.get("Authorization", "")
    if not sent.startswith("Bearer ") or not hmac.compare_digest(sent[7:].encode(), token.encode()):
        response = jsonify({"error": "missing or wrong bearer token; send Authorization: Bearer <pos_token>"})
        response.headers["WWW-Authenticate"] = 'Bearer realm="kiosk-pos"'
        return response, 401
    return None


@blueprint.post("/purchases")
def post_purchase() -> ResponseReturnValue:
    data = request.get_json(silent=True)
    try:
        receipt_id, amount = check_purchase(data)
        purchase, created = flows().pos.post(receipt_id, amount)
    except PurchaseRejected as exc:
        return problem(str(exc), exc.status)
    return jsonify(purchase.as_json()), 201 if created else 200


@blueprint.get("/purchases/<receipt_id>")
def get_purchase(receipt_id: str) -> ResponseReturnValue:
    purchase = flows().pos.status(receipt_id)
    if purchase is None:
        return problem(f"no purchase with receipt id {receipt_id}; POST it first", 404)
    return jsonify(purchase.as_json())


@blueprint.delete("/purchases/<receipt_id>")
def cancel_purchase(receipt_id: str) -> ResponseReturnValue:
    purchase = flows().pos.cancel(receipt_id)
    if purchase is None:
        return problem(f"no purchase with receipt id {receipt_id}", 404)
    return jsonify(purchase.as_json())


# --- spending at the till: quotes, commits, voids, refunds, coupons ---------------------------


def refused(exc: SpendRefused) -> ResponseReturnValue:
    return jsonify({"error": str(exc), "reason": exc.reason}), exc.status


@blueprint.post("/quotes")
def post_quote() -> ResponseReturnValue:
    try:
        quote = flows().till.quote(request.get_json(silent=True))
    except SpendRefused as exc:
        return refused(exc)
    if isinstance(quote, dict):  # waiting for the shopper's tap: poll GET /quotes/<id>
        return jsonify(quote), 202
    return jsonify({**quote.as_json(), "state": "ready"}), 201


@blueprint.get("/quotes/<quote_id>")
def get_quote(quote_id: str) -> ResponseReturnValue:
    try:
        quote = flows().till.quote_status(quote_id)
    except SpendRefused as exc:
        return refused(exc)
    return jsonify(quote if isinstance(quote, dict) else {**quote.as_json(), "state": "ready"})


@blueprint.post("/quotes/<quote_id>/staff-card")
def ask_staff_card(quote_id: str) -> ResponseReturnValue:
    try:
        return jsonify(flows().till.await_staff_card(quote_id)), 202
    except SpendRefused as exc:
        return refused(exc)


@blueprint.get("/quotes/<quote_id>/staff-card")
def get_staff_card(quote_id: str) -> ResponseReturnValue:
    try:
        return jsonify(flows().till.approval(quote_id))
    except SpendRefused as exc:
        return refused(exc)


@blueprint.post("/commits")
def post_commit() -> ResponseReturnValue:
    try:
        commit, created = flows().till.commit(request.get_json(silent=True))
    except SpendRefused as exc:
        return refused(exc)
    return jsonify(commit), 201 if created else 200


@blueprint.post("/commits/<key>/void")
def void_commit(key: str) -> ResponseReturnValue:
    try:
        return jsonify(flows().till.void(key))
    except SpendRefused as exc:
        return refused(exc)


@blueprint.post("/purchases/<receipt_id>/refunds")
def post_refund(receipt_id: str) -> ResponseReturnValue:
    try:
        refund, created = flows().till.refund(receipt_id, request.get_json(silent=True))
    except SpendRefused as exc:
        return refused(exc)
    return jsonify(refund), 201 if created else 200


@blueprint.get("/coupons/<code>")
def get_coupon(code: str) -> ResponseReturnValue:
    try:
        return jsonify(flows().till.coupon(code))
    except SpendRefused as exc:
        return refused(exc)
