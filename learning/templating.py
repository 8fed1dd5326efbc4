"""Template callables without per-call overhead: gettext, url_for and csrf_token.

A page calls ``_()`` a dozen or more times and ``url_for`` about as often. Through Jinja's
i18n extension every ``_()`` goes through two wrappers and Flask-Babel looks up the
locale and the catalogue again (tens of microseconds a call, a noticeable share of a
lesson page). These callables keep the extension's "new style" behaviour exactly (the
translation is a format string; with autoescape it is Markup, so the variables put into
it are escaped) but fetch the catalogue once per request and locale.
"""

from __future__ import annotations

from flask import Flask, g, has_request_context, request, session, url_for
from flask_babel import get_locale, get_translations
from flask_wtf.csrf import generate_csrf
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


def _formatted(eval_ctx, text: str, variables: dict):
    # As Jinja's new-style gettext: always a format string; Markup under autoescape, so the
    # variables put into it are escaped.
    if eval_ctx.autoescape:
        text = Markup(text)
    return text % variables


@pass_eval_context
def template_gettext(eval_ctx, string: str, **variables):
    text = _translations().ugettext(string)
    return _formatted(eval_ctx, text, variables)


@pass_eval_context
def template_ngettext(eval_ctx, singular: str, plural: str, num: int, **variables):
    variables.setdefault("num", num)
    text = _translations().ungettext(singular, plural, num)
    return _formatted(eval_ctx, text, variables)


@pass_eval_context
def template_pgettext(eval_ctx, context: str, string: str, **variables):
    variables.setdefault("context", context)
    text = _translations().upgettext(context, string)
    return _formatted(eval_ctx, text, variables)


@pass_eval_context
def template_npgettext(eval_ctx, context: str, singular: str, plural: str, num: int, **variables):
    variables.setdefault("context", context)
    variables.setdefault("num", num)
    text = _translations().unpgettext(context, singular, plural, num)
    return _formatted(eval_ctx, text, variables)


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

    signed_tokens: dict[str, str] = {}

    def template_csrf_token() -> str:
        # Flask-WTF signs the session's token again on every request (a serializer, a key
        # derivation and an HMAC). Tokens here never expire on their own (WTF_CSRF_TIME_LIMIT
        # is None: they live as long as the session), so a signature made earlier for the
        # same session token is just as valid: keep it.
        if app.config.get("WTF_CSRF_TIME_LIMIT") is not None:
            return generate_csrf()
        field = app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
        raw = session.get(field)
        signed = signed_tokens.get(raw) if isinstance(raw, str) else None
        if signed is None:
            signed = generate_csrf()
            raw = session.get(field)
            if isinstance(raw, str):
                if len(signed_tokens) >= 10_000:
                    signed_tokens.clear()
                signed_tokens[raw] = signed
        return signed

    app.jinja_env.globals["csrf_token"] = template_csrf_token
    # Flask-WTF also puts its own csrf_token into every template context; this one, added
    # later, takes its place.
    app.context_processor(lambda: {"csrf_token": template_csrf_token})

    fragments: dict[tuple, Markup] = {}

    def fragment(template_name: str, cache_key=None, **values) -> Markup:
        """A template part rendered once per worker for the same values, language and mount
        point (the site navigation, the language picker). The part sees only `values` and the
        template globals, so everything it depends on is in the key. When the values are
        objects, `cache_key` names what determines them instead (the text of a module: the
        immutable revision, the module and the languages)."""
        if app.debug or not has_request_context():
            return Markup(app.jinja_env.get_template(template_name).render(**values))
        key = (template_name, str(get_locale()), request.script_root,
               *((("cache_key", cache_key),) if cache_key is not None else sorted(values.items())))
        try:
            html = fragments.get(key)
        except TypeError:  # an unhashable value: render it every time
            return Markup(app.jinja_env.get_template(template_name).render(**values))
        if html is None:
            if len(fragments) >= 1_000:
                fragments.clear()
            html = fragments[key] = Markup(app.jinja_env.get_template(template_name).render(**values))
        return html

    app.jinja_env.globals["fragment"] = fragment
