"""Language selection through flask-babel: fa by default, ar and en on request."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, request
from flask_babel import Babel

from kiosk.config import LANGUAGES, Settings

RTL = frozenset({"fa", "ar"})


def init_app(app: Flask, settings: Settings) -> Babel:
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(Path(__file__).parent / "translations")
    app.config["BABEL_DEFAULT_LOCALE"] = settings.web.language

    def select_locale() -> str:
        lang = request.args.get("lang") or request.cookies.get("lang")
        return lang if lang in LANGUAGES else settings.web.language

    babel = Babel(app, locale_selector=select_locale)

    @app.context_processor
    def language_context() -> dict:
        lang = select_locale()
        return {"lang": lang, "dir": "rtl" if lang in RTL else "ltr", "languages": LANGUAGES}

    return babel
