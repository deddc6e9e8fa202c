"""The kiosk's web UI: Flask adapters over the kiosk flows the composition root built.

It never opens the database itself; everything goes through the service and
the flows (kiosk/flows/) it is handed.
"""
from __future__ import annotations

from flask import Flask, jsonify, request
from flask_socketio import SocketIO
from flask_wtf.csrf import CSRFError, CSRFProtect

from kiosk.config import Settings
from kiosk.flows import KioskFlows
from web.tokens import Tokens
from web import (brand, bridge, engagement, flows, games, i18n, json_errors, member_language, phone_codes, pos_api,
                 screen, security, shopper, staff_tasks, staff_views)


def create_app(built: KioskFlows, settings: Settings, *,
               secret_key: bytes | None = None) -> tuple[Flask, SocketIO]:
    """Build the app and its Socket.IO server over flows built on one service; the caller chooses the WSGI server."""
    service = built.service
    app = Flask(__name__)
    secret = secret_key or service.session_key()
    app.config.update(
        SECRET_KEY=secret,
        KIOSK_SETTINGS=settings,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_HTTPONLY=True,
        SEND_FILE_MAX_AGE_DEFAULT=3600,
        # The kiosk page stays open for days; the token lives as long as the browser session.
        WTF_CSRF_TIME_LIMIT=None,
        # Socket.IO transports the page asks for. waitress (production) can only do long-polling;
        # benchmarks/tap_to_paint.py switches this to websocket on a Werkzeug server to compare.
        KIOSK_SOCKET_TRANSPORTS="polling",
    )
    app.extensions["kiosk_service"] = service

    @app.before_request
    def only_the_tills_from_the_network():
        # Registered before the CSRF check. With web.host opened to the tills, the network reaches the till API
        # only; the screen, its socket (web/screen.py admits_socket), the shopper and staff APIs answer the
        # kiosk's own browser.
        if request.path.startswith(f"{pos_api.blueprint.url_prefix}/") or screen.is_loopback(request.remote_addr):
            return None
        return jsonify({"error": "local_only", "message": "only the kiosk's own screen may use this; "
                        f"tills use {pos_api.blueprint.url_prefix}/"}), 403

    kiosk_flows = flows.WebFlows(built, Tokens(secret))
    service.subscribe(kiosk_flows.observe)
    app.extensions["kiosk_flows"] = kiosk_flows
    i18n.init_app(app, settings)
    security.init_app(app)
    json_errors.init_app(app)  # body limits before the CSRF check reads the body; JSON errors on the JSON APIs
    csrf = CSRFProtect(app)
    csrf.exempt(pos_api.blueprint)  # the till authenticates with a bearer token and sends no cookies

    @app.errorhandler(CSRFError)
    def csrf_failed(exc: CSRFError):
        if request.path.startswith(("/api/", "/staff/api/")):
            return jsonify({"error": "csrf", "message": f"{exc.description}; reload the page"}), 400
        return exc

    app.register_blueprint(screen.blueprint)
    app.register_blueprint(brand.blueprint)
    app.register_blueprint(shopper.blueprint)
    app.register_blueprint(member_language.blueprint)
    app.register_blueprint(engagement.blueprint)
    app.register_blueprint(games.blueprint)
    app.register_blueprint(phone_codes.blueprint)
    app.register_blueprint(staff_views.blueprint)
    app.register_blueprint(staff_tasks.blueprint)
    app.register_blueprint(pos_api.blueprint)
    socketio = SocketIO(
        app,
        async_mode="threading",
        # None: only pages served by this very host may connect (same-origin check).
        cors_allowed_origins=None,
        logger=False,
        engineio_logger=False,
    )
    bridge.connect(service, socketio, screen.admits_socket, kiosk_flows.decorate)
    return app, socketio
