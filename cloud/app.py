"""Flask app factory of the reference cloud endpoint (protocol: kiosk/protocol.py)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any, Callable

from flask import Flask, Response, g, jsonify, render_template, request
from flask_babel import Babel
from flask_wtf.csrf import CSRFError, CSRFProtect

from cloud import complaints
from cloud.auth import AuthFailure, authenticate
from cloud.console import localize, security, sessions
from cloud.console.engagement import blueprint as engagement_pages
from cloud.console.engagement_views import blueprint as draws_games_pages
from cloud.console.setup_views import blueprint as setup_pages
from cloud.console.report_views import blueprint as report_pages
from cloud.console.wallet_views import blueprint as wallet_pages
from cloud.console.views import blueprint as console_blueprint
from cloud.db import DatabaseUnavailable
from cloud import credit_holds, engagement, fleet, wallet
from cloud.errors import BadConfig, TokenError
from cloud.users import UserStore
from cloud.otp import OneTimeCodes, OtpRateLimited, OutboxSender, SmsFailed, SmsSender
from cloud.store import Clock, CloudStore, Device
from kiosk.clock import utcnow
from kiosk import protocol
from kiosk.rules.fleet import HeartbeatError, parse_heartbeat

DEFAULT_SILENT_AFTER = timedelta(minutes=30)
DEFAULT_BACKLOG_AFTER = timedelta(minutes=30)

def _error(status: int, code: str, message: str, **extra: Any) -> tuple[Response, int]:
    return jsonify({"error": code, "message": message, **extra}), status


def create_app(
    database: str | Path,
    *,
    clock: Clock = utcnow,
    max_body_bytes: int = protocol.MAX_BATCH_BYTES,
    sms_sender: SmsSender | None = None,
    make_code: Callable[[], str] | None = None,
    silent_after: timedelta = DEFAULT_SILENT_AFTER,
    messages_config: Path | None = None,
    backlog_after: timedelta = DEFAULT_BACKLOG_AFTER,
) -> Flask:
    """The reference cloud as a WSGI app: the device API (/v1/...) and the console (every other page).

    `database` is a SQLite file path or a postgresql:// URL. The app keeps no state between requests
    (the console's login is a signed cookie whose key lives in the database), so any number of
    processes can serve one PostgreSQL. `sms_sender` delivers one-time codes; without one they wait
    in the `sms_outbox` table (`kiosk-cloud sms outbox`), which is where a real SMS gateway plugs in.
    The console flags a device not heard from for longer than `silent_after`, one with a failing card reader,
    and one whose oldest undelivered event is older than `backlog_after`. `messages_config` is the message
    settings file the console's text campaigns use (None: the built-in settings).
    """
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = max_body_bytes
    store = CloudStore(database, clock=clock)
    app.extensions["cloud_store"] = store
    users = UserStore(store.db, clock)
    app.extensions["cloud_users"] = users
    _init_console(app, store, users, clock, silent_after, backlog_after)
    from cloud.console.message_campaigns import blueprint_for as text_campaign_pages

    app.register_blueprint(text_campaign_pages(store.db, messages_config, clock))  # text campaigns (issue 13)
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

    @app.errorhandler(DatabaseUnavailable)
    def database_down(exc: DatabaseUnavailable) -> tuple[Response, int]:
        # The transaction never committed: the kiosk keeps its outbox and sends the batch again.
        app.logger.warning("%s", exc)
        response, status = _error(503, "database_unavailable",
                                  "the cloud cannot reach its database; nothing was stored, retry later")
        response.headers["Retry-After"] = "5"
        return response, status

    @app.errorhandler(404)
    def not_found(_exc: Exception) -> Any:
        if not request.path.startswith("/v1/"):
            return render_template("console/error.html", message="not_found"), 404
        return _error(404, "not_found", "no such endpoint; see docs/cloud.md")

    @app.errorhandler(403)
    def forbidden(_exc: Exception) -> Any:
        return render_template("console/error.html", message="forbidden"), 403

    @app.errorhandler(CSRFError)
    def csrf_refused(_exc: Exception) -> Any:
        return render_template("console/error.html", message="csrf"), 400

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

    @app.post("/v1/devices/<device_id>/complaints/lookup")
    def complaint_lookup(device_id: str) -> tuple[Response, int]:
        """A case by tracking code and the phone's last four digits (docs/engagement.md); rate-limited per device."""
        device = signed_device(device_id)
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return _error(400, "bad_request", 'send JSON {"code": "K7QM2-XPA9R", "phone_last4": "4567"}')
        try:
            found = complaints.lookup(store.db, device.device_id, body.get("code"), body.get("phone_last4"), clock())
        except complaints.LookupsRateLimited as exc:
            response, status = _error(429, "rate_limited", str(exc), retry_after=exc.retry_after_s)
            response.headers["Retry-After"] = str(exc.retry_after_s)
            return response, status
        if found is None:
            return jsonify({"found": False, "server_time": server_time()}), 200
        return jsonify({"found": True, **found, "server_time": server_time()}), 200

    @app.post("/v1/devices/<device_id>/engagement")
    def engagement_exchange(device_id: str) -> tuple[Response, int]:
        """Draws, games, wins and this kiosk's budget grants: prizes and campaign points (cloud/engagement.py)."""
        device = signed_device(device_id)
        try:
            reply = engagement.exchange(store.db, device.device_id, request.get_json(silent=True), clock(),
                                        branch=device.branch)
        except BadConfig as exc:
            return _error(400, "bad_request", str(exc))
        return jsonify({**reply, "server_time": server_time()}), 200

    @app.get("/v1/devices/<device_id>/coupons/<code>")
    def coupon_find(device_id: str, code: str) -> tuple[Response, int]:
        """The chain's coupon by code: whose, which reward, issued where, used where (docs/protocol.md)."""
        signed_device(device_id)
        if not protocol.is_coupon_code(code):
            return _error(400, "bad_request", "code must be a coupon code in its canonical form (XXXX-XXXX-XXXX-X)")
        found = wallet.find(store.db, code)
        if found is None:
            return _error(404, "coupon_unknown", f"the chain has no coupon {code}", server_time=server_time())
        return jsonify({**found, "server_time": server_time()}), 200

    @app.post("/v1/devices/<device_id>/coupons/<code>/use")
    def coupon_use(device_id: str, code: str) -> tuple[Response, int]:
        """Claim a coupon for one till commit, atomically: of two tills, one gets it (cloud/wallet.py)."""
        device = signed_device(device_id)
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not protocol.is_receipt_id(body.get("use_key")) \
                or not isinstance(body.get("member_id", ""), str) or not protocol.is_coupon_code(code):
            return _error(400, "bad_request", 'send JSON {"member_id": "...", "use_key": "<the till\'s idempotency '
                                              'key>"} to /coupons/<canonical code>/use')
        try:
            claimed = wallet.claim(store.db, device, code, body.get("member_id"), body["use_key"], clock())
        except wallet.CouponRefused as exc:
            return _error(exc.status, exc.code, str(exc), server_time=server_time(), **exc.extra)
        return jsonify({**claimed, "server_time": server_time()}), 200

    @app.post("/v1/devices/<device_id>/credit/hold")
    def credit_hold(device_id: str) -> tuple[Response, int]:
        """Hold a member's chain credit for one till commit, atomically: of two tills, one gets the last of it."""
        device = signed_device(device_id)
        try:
            held = credit_holds.hold(store.db, device, request.get_json(silent=True), clock())
        except ValueError as exc:
            return _error(400, "bad_request", str(exc))
        except credit_holds.CreditRefused as exc:
            return _error(exc.status, exc.code, str(exc), server_time=server_time(), **exc.extra)
        return jsonify({**held, "server_time": server_time()}), 200

    @app.get("/v1/members/lookup")
    def lookup() -> tuple[Response, int]:
        signed_device()
        card_ref = request.args.get("card_ref")
        member_id = request.args.get("member_id")
        if card_ref is not None:
            if not protocol.is_card_ref(card_ref):
                return _error(400, "bad_card_ref", "card_ref must be 64 lowercase hex characters")
            found = store.lookup(card_ref=card_ref)
        elif member_id:
            found = store.lookup(member_id=member_id)
        elif request.args.get("phone") is not None:
            # A phone that joined by texting the keyword and is enrolling at a kiosk now (docs/messages.md).
            from cloud.messages.contacts import sms_join_for_phone

            phone = request.args["phone"]
            if not protocol.is_e164(phone):
                return _error(400, "bad_phone", "phone must be an E.164 number like +989121234567")
            found = sms_join_for_phone(store.db.engine, phone)
        else:
            return _error(400, "bad_request", "pass ?card_ref=<64 hex>, ?member_id=<id> or ?phone=<E.164>")
        if found is None:
            return _error(404, "unknown_member", "the cloud has no member for this card", server_time=server_time())
        return jsonify({**found, "server_time": server_time()}), 200

    @app.post("/v1/devices/<device_id>/heartbeat")
    def heartbeat(device_id: str) -> tuple[Response, int]:
        """The kiosk's version, outbox backlog and readers for the fleet page (kiosk/rules/fleet.py)."""
        device = signed_device(device_id)
        try:
            beat = parse_heartbeat(request.get_json(silent=True))
        except HeartbeatError as exc:
            return _error(400, "bad_heartbeat", str(exc), server_time=server_time())
        fleet.record(store.db, device.device_id, beat, clock())
        store.touch(device.device_id)
        return jsonify({"server_time": server_time()}), 200

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

    @app.get("/healthz")
    def healthz() -> tuple[Response, int]:
        """For a load balancer: this process answers and reaches the database. One `SELECT 1`, not a count of
        every table: a balancer asks every few seconds, and at a chain's size (20 million ledger rows) the counts
        kept a core busy and could not answer while a migration held a table's lock."""
        store.db.ping()
        return jsonify({"status": "ok"}), 200

    @app.get("/v1/status")
    def status() -> tuple[Response, int]:
        """For a logged-in console user (their branches) or any registered device (signed request)."""
        if g.get("user") is not None:
            devices = store.devices(g.user.branch_filter)
        else:
            signed_device()
            devices = store.devices()
        counts = store.counts()
        return jsonify({
            "status": "ok",
            "server_time": server_time(),
            "counts": counts.rows,
            "estimated_counts": sorted(counts.estimated),  # PostgreSQL's estimate, for tables of a chain's size
            "devices": [
                {"device_id": d.device_id, "name": d.name, "branch": d.branch,
                 "registered_at": d.registered_at, "last_seen_at": d.last_seen_at,
                 "events_count": d.events_count}
                for d in devices
            ],
        }), 200

    for view in (register, events, otp_send, otp_verify, complaint_lookup, engagement_exchange, coupon_use,
                 heartbeat, credit_hold):
        # Devices sign their requests; CSRF tokens are for the console's forms.
        app.extensions["csrf"].exempt(view)
    return app


def _init_console(app: Flask, store: CloudStore, users: UserStore, clock: Clock, silent_after: timedelta,
                  backlog_after: timedelta) -> None:
    """Sessions, languages, CSRF and headers for the console pages, and the pages themselves."""
    app.secret_key = sessions.shared_secret(store.db)
    app.config.update(
        SESSION_COOKIE_NAME="cloud_session", SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_HTTPONLY=True,
        PERMANENT_SESSION_LIFETIME=sessions.MAX_AGE, WTF_CSRF_TIME_LIMIT=None,
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).parent / "translations"), BABEL_DEFAULT_LOCALE="fa",
    )
    CSRFProtect(app)
    security.init_app(app)

    def select_locale() -> str:
        lang = request.args.get("lang") or request.cookies.get("lang")
        return lang if lang in localize.LANGUAGES else "fa"

    Babel(app, locale_selector=select_locale)

    @app.before_request
    def who() -> None:
        if request.path == "/v1/status" or not request.path.startswith(("/v1/", "/static/", "/healthz")):
            g.user = sessions.current_user(users, clock().timestamp())

    @app.after_request
    def remember_language(response: Response) -> Response:
        lang = request.args.get("lang")
        if lang in localize.LANGUAGES:
            response.set_cookie("lang", lang, max_age=365 * 86400, samesite="Lax", httponly=True)
        return response

    @app.context_processor
    def page_context() -> dict[str, Any]:
        lang = select_locale()
        return {
            "lang": lang, "dir": "rtl" if lang in localize.RTL else "ltr", "languages": localize.LANGUAGES,
            "user": g.get("user"),
            "num": lambda value: localize.number(value, lang),
            "when": lambda value, with_time=True: localize.moment(value, lang, with_time=with_time),
            "digits": lambda value: localize.digits(value, lang),
        }

    app.register_blueprint(console_blueprint(store, users, lambda: clock().timestamp(), silent_after,
                                             backlog_after))
    app.register_blueprint(engagement_pages(store))  # surveys and complaints
    app.register_blueprint(draws_games_pages(store))  # draws and games
    app.register_blueprint(setup_pages(store))  # tiers, earn rules, rewards, brand
    app.register_blueprint(report_pages(store))  # weekly report, campaign results
    app.register_blueprint(wallet_pages(store))  # coupons used twice


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
