"""Choosing the interface language: the user's choice, else Accept-Language, else the default."""

from __future__ import annotations

from flask import current_app, request, session
from flask_login import current_user

LANGUAGE_NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.language in languages:
        return current_user.language
    chosen = session.get("language")
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config["DEFAULT_LANGUAGE"]
