"""Headers on every cloud response: nothing remote, nothing inline, nothing cached (as the kiosk's pages)."""

from __future__ import annotations

from flask import Flask, Response

CSP = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "font-src 'self'",
    "connect-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'",
])


def init_app(app: Flask) -> None:
    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if response.mimetype in ("text/html", "text/csv") or response.mimetype == "application/json" \
                and "ETag" not in response.headers:
            # Member data must not survive in a browser's cache or history.
            response.headers["Cache-Control"] = "no-store"
        return response
