"""Template callables without per-call overhead: gettext and url_for.

A page calls ``_()`` a dozen or more times and ``url_for`` about as often. Through Jinja's
i18n extension every ``_()`` goes through two wrappers and Flask-Babel looks up the
locale and the catalogue again (tens of microseconds a call, a noticeable share of a
lesson page). These callables keep the extension's "new style" behaviour exactly (the
translation is a format string; with autoescape it is Markup, so the variables put into
it are escaped) but fetch the catalogue once per request and locale.
"""

from __future__ import annotations

from flask import Flask, g, has_request_context, request, url_for
from flask_babel import get_translations
from jinja2 import pass_eval_context
from markupsafe import Markup


def _translations():
    """This request's catalogue, looked up once per locale (force_locale sets another
    locale object, so a forced e-mail or PDF in another language gets its own)."""
    namespace = g.get("_flask_babel")
    if namespace is not None:
        cached = getattr(namespace, "kelisim_translations", None)
        if cached is not None and cached[0] is getattr(namespace, "babel_locale", None):
            return cached[1]
    translations = get_translations()
    namespace = g.get("_flask_babel")
    if namespace is not None:
        namespace.kelisim_translations = (getattr(namespace, "babel_locale", None), translations)
    return translations


@pass_eval_context
def template_gettext(eval_ctx, string: str, **variables):
    text = _translations().ugettext(string)
    if eval_ctx.autoescape:
        text = Markup(text)
    return text % variables


@pass_eval_context
def template_ngettext(eval_ctx, singular: str, plural: str, num: int, **variables):
    variables.setdefault("num", num)
    text = _translations().ungettext(singular, plural, num)
    if eval_ctx.autoescape:
        text = Markup(text)
    return text % variables


@pass_eval_context
def template_pgettext(eval_ctx, context: str, string: str, **variables):
    variables.setdefault("context", context)
    text = _translations().upgettext(context, string)
    if eval_ctx.autoescape:
        text = Markup(text)
    return text % variables


@pass_eval_context
def template_npgettext(eval_ctx, context: str, singular: str, plural: str, num: int, **variables):
    variables.setdefault("context", context)
    variables.setdefault("num", num)
    text = _translations().unpgettext(context, singular, plural, num)
    if eval_ctx.autoescape:
        text = Markup(text)
    return text % variables


def install(app: Flask) -> None:
    """Replace the i18n extension's template callables (after Flask-Babel's init_app) and
    remember the URLs templates build."""
    app.jinja_env.globals.update(
        _=template_gettext,
        gettext=template_gettext,
        ngettext=template_ngettext,
        pgettext=template_pgettext,
        npgettext=template_npgettext,
    )
    known_urls: dict[tuple, str] = {}

    def template_url_for(endpoint: str, **values) -> str:
        # A relative URL depends only on the endpoint, its arguments and the mount point; the
        # arguments on pages are slugs of stored courses and modules, so the set stays small
        # (and is bounded anyway). Options such as _external or _anchor are not remembered.
        if app.debug or not has_request_context() or any(name.startswith("_") for name in values):
            return url_for(endpoint, **values)
        try:
            key = (endpoint, request.script_root, *sorted(values.items()))
            url = known_urls.get(key)
        except TypeError:  # an unhashable argument
            return url_for(endpoint, **values)
        if url is None:
            if len(known_urls) >= 10_000:
                known_urls.clear()
            url = known_urls[key] = url_for(endpoint, **values)
        return url

    app.jinja_env.globals["url_for"] = template_url_for
