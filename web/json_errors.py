"""Limits on what the JSON APIs read, and a JSON answer (never an HTML page) for every error they give.

The APIs are the page's (/api/, /staff/api/, including /api/enroll/code) and the till's (/pos/v1/).
A body is at most MAX_BODY_BYTES (Flask's MAX_CONTENT_LENGTH: 413) and nests at most MAX_JSON_DEPTH
arrays and objects (400): deep nesting would otherwise reach Python's recursion limit inside the JSON
parser and answer 500. Each 4xx and 5xx on those paths, Flask's own (404, 405, 413, 500) included,
is JSON: ``{"error": code, "message": sentence}``, or ``{"error": sentence}`` for the till, whose API
(docs/pos-api.yaml) says so.
"""
from __future__ import annotations

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import BadRequest, HTTPException

from kiosk.errors import StoreError

MAX_BODY_BYTES = 64 * 1024  # the largest real body (an enrolment) is under 1 KiB
MAX_JSON_DEPTH = 16  # the deepest real body nests 2
POS_PREFIX = "/pos/v1/"
JSON_PREFIXES = ("/api/", "/staff/api/", POS_PREFIX)

_MESSAGES = {
    400: ("bad_request", "the request could not be read; send a JSON object"),
    404: ("not_found", "no such API endpoint; check the path"),
    405: ("method_not_allowed", "this endpoint does not take that method"),
    413: ("too_large", f"the request body is larger than {MAX_BODY_BYTES} bytes"),
    500: ("internal_error", "the kiosk hit an unexpected error; nothing was changed by this request, try again"),
}


class TooDeep(BadRequest):
    description = f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels"


def json_depth(body: bytes) -> int:
    """How deeply arrays and objects nest in ``body`` (brackets inside strings do not count); pure, no parsing."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # closing quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in b"[{":
            depth += 1
            deepest = max(deepest, depth)
        elif byte in b"]}":
            depth -= 1
    return deepest


def is_json_api(path: str) -> bool:
    return path.startswith(JSON_PREFIXES)


def error_body(status: int, sentence: str | None, path: str) -> tuple[Response, int]:
    code, default = _MESSAGES.get(status, ("error", "the request failed"))
    message = sentence or default
    if path.startswith(POS_PREFIX):
        return jsonify({"error": message}), status
    return jsonify({"error": code, "message": message}), status


def init_app(app: Flask) -> None:
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES

    @app.before_request
    def body_within_limits() -> None:
        if is_json_api(request.path) and request.method in ("POST", "PUT", "PATCH", "DELETE"):
            # get_data() reads at most MAX_CONTENT_LENGTH (413 beyond it) and caches the body for get_json.
            if json_depth(request.get_data(cache=True)) > MAX_JSON_DEPTH:
                raise TooDeep()

    @app.errorhandler(StoreError)
    def store_error(exc: StoreError) -> tuple[Response, int]:
        """A full disk (or a database that cannot be written) is the kiosk's trouble, not the caller's: 503 with
        the reason, nothing was written (the store's transaction), and the same request works once space is back."""
        if not is_json_api(request.path):
            raise exc
        if request.path.startswith(POS_PREFIX):
            return jsonify({"error": str(exc), "reason": exc.reason}), 503
        return jsonify({"error": exc.reason, "message": str(exc)}), 503

    @app.errorhandler(HTTPException)
    def json_for_json_apis(exc: HTTPException) -> HTTPException | tuple[Response, int]:
        if not is_json_api(request.path) or exc.code is None or exc.code < 400:
            return exc
        # Werkzeug's own descriptions are HTML-flavoured paragraphs; ours say what to do.
        sentence = exc.description if isinstance(exc, TooDeep) else None
        response, status = error_body(exc.code, sentence, request.path)
        allow = dict(exc.get_headers()).get("Allow")
        if allow:
            response.headers["Allow"] = allow
        return response, status
