"""Template callables without per-call overhead (gettext, url_for, csrf_token), parts of pages
rendered once per worker (fragment), and whole pages kept with holes (PageShells).

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
        if g.get(_SHELL_FLAG):
            return hole("csrf")
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

    def fragment(template_name: str, **values) -> Markup:
        """A template part rendered once per worker for the same values, language and mount
        point (the site navigation, the language picker). The part sees only `values` and the
        template globals, so everything it depends on is in the key."""
        if app.debug or not has_request_context():
            return Markup(app.jinja_env.get_template(template_name).render(**values))
        key = (template_name, str(get_locale()), request.script_root, *sorted(values.items()))
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
    app.jinja_env.globals["flash_messages"] = flash_messages
    app.extensions["page_shells"] = PageShells(app)


# --- Page shells -------------------------------------------------------------------------

_SHELL_FLAG = "_rendering_page_shell"
_HOLE_MARK = "\x00"  # never in a page: NUL is refused in every input and stripped from content


def hole(name: str) -> Markup:
    """Where a page shell leaves a per-request value (see PageShells)."""
    return Markup(f"{_HOLE_MARK}{name}{_HOLE_MARK}")


class _ShellUser:
    """What the layout reads of current_user while a shell is rendered: the role (the
    navigation depends on it, so it is in the shell's key) and a hole for the name."""

    is_authenticated = True

    def __init__(self, role: str) -> None:
        self.role = role
        self.name = hole("name")


class _ShellRequest:
    method = "GET"
    full_path = hole("path")


class PageShells:
    """Whole pages rendered once per worker for the same key, with holes for what belongs to
    the request: the CSRF token, the user's name, the current path, flashed messages and
    the holes the page names itself.

    The key must hold everything else the page depends on (the template, language, mount
    point and role are added; the lesson page adds the immutable revision, the module, the
    language shown and whether it is read). A request then costs a join of the shell's parts
    with its values instead of a template render, which on the lesson page was a quarter of
    the request. In debug mode (templates reload) every request renders a new shell.
    """

    def __init__(self, app: Flask, size: int = 128) -> None:
        self.app = app
        self.size = size
        self._shells: dict[tuple, list] = {}  # the page's bytes, with hole names between

    def render(self, key: tuple, template_name: str, values: dict, *,
               interface_language: str | None = None, **context) -> bytes:
        """The page for `key`, UTF-8 encoded: `values` maps the page's own holes (hole("name")
        in `context`) to their text or bytes for this request (already escaped where needed).
        `interface_language`: the request's (str(get_locale())), when the view has it already."""
        from flask_login import current_user
        from markupsafe import escape

        user = current_user._get_current_object()
        key = (template_name, interface_language or str(get_locale()), request.script_root,
               user.role, *key)
        parts = None if self.app.debug else self._shells.get(key)
        if parts is None:
            parts = self._render_shell(template_name, user.role, context)
            if len(self._shells) >= self.size:
                self._shells.pop(next(iter(self._shells)))
            self._shells[key] = parts
        fills = {
            "csrf": None, "name": escape(user.name), "path": escape(request.full_path),
            "flashes": None, **values,
        }
        out = []
        for index, part in enumerate(parts):
            if index % 2 == 0:
                out.append(part)
                continue
            value = fills[part]
            if value is None:
                value = fills[part] = self._builtin(part)
            out.append(value if type(value) is bytes else str(value).encode())
        return b"".join(out)

    def _builtin(self, name: str) -> str:
        if name == "csrf":
            return self.app.jinja_env.globals["csrf_token"]()
        if name == "flashes":
            return flash_messages()
        raise KeyError(f"page shell hole without a value: {name}")

    def _render_shell(self, template_name: str, role: str, context: dict) -> list[str]:
        from flask import render_template

        g.setdefault(_SHELL_FLAG, True)
        try:
            html = render_template(template_name, current_user=_ShellUser(role),
                                   request=_ShellRequest(), **context)
        finally:
            g.pop(_SHELL_FLAG, None)
        parts = html.split(_HOLE_MARK)
        if len(parts) % 2 == 0:
            raise ValueError(f"unbalanced hole marks in the shell of {template_name}")
        # The page's text kept encoded: a request joins bytes instead of encoding 20 KB again.
        return [part.encode() if index % 2 == 0 else part for index, part in enumerate(parts)]


def flash_messages() -> Markup:
    """The flashed messages block of the layout (a hole while a page shell is rendered)."""
    from flask import current_app, get_flashed_messages

    if g.get(_SHELL_FLAG):
        return hole("flashes")
    messages = get_flashed_messages(with_categories=True)
    if not messages:
        return Markup("")
    return Markup(current_app.jinja_env.get_template("_flashes.html").render(messages=messages))


def render_page_shell(key: tuple, template_name: str, values: dict, *,
                      interface_language: str | None = None, **context) -> bytes:
    """PageShells.render with the application's shells."""
    from flask import current_app

    return current_app.extensions["page_shells"].render(
        key, template_name, values, interface_language=interface_language, **context)
