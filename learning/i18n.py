"""Choosing the interface language, and messages that are translated where they are shown.

The language: the user's choice (kept in their profile), else the one chosen in this session
(the switcher, before logging in), else Accept-Language, else DEFAULT_LANGUAGE (ru).

Catalogues live in learning/translations (``make update`` extracts and merges, ``make
translations`` compiles). Strings are marked with ``_``/``gettext`` where they are shown,
``_l``/``lazy_gettext`` where they are defined at import time (forms), and ``N_`` where a
service only names a message that a view translates later (``UserError``).
"""

from __future__ import annotations

import functools

from babel import Locale
from flask import current_app, request, session
from flask_babel import gettext
from flask_login import current_user

LANGUAGE_NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}


def select_locale() -> Locale:
    languages = current_app.config["LANGUAGES"]
    user = current_user._get_current_object()  # one lookup through the proxy, not one per use
    if user is not None and user.is_authenticated and user.language in languages:
        return _locale(user.language)
    chosen = session.get("language")
    if chosen in languages:
        return _locale(chosen)
    return _locale(request.accept_languages.best_match(languages) or current_app.config["DEFAULT_LANGUAGE"])


@functools.cache
def _locale(code: str) -> Locale:
    # Parsed once per language (Flask-Babel would parse the code on every request).
    return Locale.parse(code)


def N_(message: str) -> str:  # noqa: N802 (the gettext convention; pybabel extracts N_ by default)
    """Mark `message` for extraction without translating it now."""
    return message


class UserError(ValueError):
    """A domain error whose message the learner or staff member sees.

    The message is a gettext msgid (mark it with ``N_`` where it is raised) with named
    parameters. ``str(error)`` is English (logs, CLI); ``error.translated()`` is in the
    interface language, for views to flash or show.
    """

    def __init__(self, message: str, **params) -> None:
        self.msgid = message
        self.params = params
        super().__init__(message % params if params else message)

    def translated(self) -> str:
        return gettext(self.msgid, **self.params)  # noqa: i18n-dynamic (marked with N_ where raised)
