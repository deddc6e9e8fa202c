"""The chain's brand on every screen: its colours as a style sheet and its logo, served by the kiosk itself
from the config it pulled (kiosk/rules/branding.py), so the page loads nothing remote."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, current_app

blueprint = Blueprint("brand", __name__)

# The brand's colour keys onto the page's custom properties (web/static/kiosk.css :root).
CSS_VARIABLES = {"accent": "--accent", "background": "--bg", "panel": "--panel", "text": "--fg"}


def brand_for(settings: Any, branding: Any, lang: str) -> dict[str, Any]:
    """What the page shows: the chain's name and welcome line in this language (None: the screen's own
    translated words), and whether there is a logo. The cloud's brand wins over the kiosk's [branding]."""
    local_name = settings.branding.name if settings.branding.name != "Loyalty club" else None
    if branding is None:
        return {"name": local_name, "welcome": None, "tagline": settings.branding.tagline, "logo": False}
    return {"name": branding.name_in(lang) or (None if branding.names else local_name),
            "welcome": branding.welcome_in(lang), "tagline": "", "logo": branding.logo is not None}


def _branding() -> Any:
    return current_app.extensions["kiosk_service"].branding


@blueprint.get("/brand.css")
def style() -> Response:
    branding = _branding()
    colors = branding.colors if branding is not None else {}
    body = ":root {" + " ".join(f"{CSS_VARIABLES[k]}: {v};" for k, v in sorted(colors.items())) + " }\n"
    return Response(body, mimetype="text/css", headers={"Cache-Control": "no-store"})


@blueprint.get("/brand/logo")
def logo() -> Response:
    branding = _branding()
    if branding is None or branding.logo is None:
        abort(404)
    return Response(branding.logo, mimetype=branding.logo_type, headers={"Cache-Control": "no-store",
                                                                        "X-Content-Type-Options": "nosniff"})
