"""The kiosk's web UI: a Flask app over :class:`kiosk.service.KioskService`.

It never opens the database itself; everything goes through the service.
"""
from __future__ import annotations

from flask import Flask
from flask_socketio import SocketIO

from kiosk.config import Settings
from kiosk.service import KioskService
from web import bridge, i18n, screen, security


def create_app(service: KioskService, settings: Settings, *, secret_key: bytes | None = None) -> tuple[Flask, SocketIO]:
    """Build the app and its Socket.IO server; the caller chooses the WSGI server."""
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secret_key or service.session_key(),
        KIOSK_SETTINGS=settings,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_HTTPONLY=True,
        SEND_FILE_MAX_AGE_DEFAULT=3600,
    )
    app.extensions["kiosk_service"] = service
    i18n.init_app(app, settings)
    security.init_app(app)
    app.register_blueprint(screen.blueprint)
    socketio = SocketIO(
        app,
        async_mode="threading",
        # None: only pages served by this very host may connect (same-origin check).
        cors_allowed_origins=None,
        logger=False,
        engineio_logger=False,
    )
    bridge.connect(service, socketio)
    return app, socketio
