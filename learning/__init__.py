"""Kelisim: an e-learning platform for intercultural-communication courses for civil servants."""

from __future__ import annotations

import hashlib
from pathlib import Path

import click
from flask import Flask, g, request, url_for
from flask.globals import request_ctx

from learning.db import attach_waiting_objects, configure_sqlite, write_intent
from learning.extensions import babel, csrf, db, limiter, login_manager

PACKAGE_DIR = Path(__file__).resolve().parent
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def create_app(config=None) -> Flask:
    """Build the application. `config` is a Config instance, a class, or a mapping of overrides.

    Creating the app never touches data: migrations and course syncs are CLI commands.
    """
    from config import Config, config_for_environment

    app = Flask(__name__, instance_relative_config=False)
    if config is None:
        config = config_for_environment()
    elif isinstance(config, type):
        config = config()
    if isinstance(config, Config):
        app.config.from_object(config)
    else:
        app.config.from_object(config_for_environment())
        app.config.update(config)

    from learning.sessions import CookieSessionInterface

    app.session_interface = CookieSessionInterface()
    _init_extensions(app)
    _register_blueprints(app)
    _register_cli(app)
    _register_request_hooks(app)

    from learning import template_cache
    from learning.errors import register_error_handlers
    from learning.security import register_input_guards, register_security_headers

    register_error_handlers(app)
    register_security_headers(app)
    register_input_guards(app)
    _register_template_helpers(app)
    template_cache.install(app)
    _limit_only_decorated_views(app)
    _check_coroutines_once(app)
    return app


def _check_coroutines_once(app: Flask) -> None:
    """Remember, per function, Flask's answer to "is this an async view or hook?".

    Flask asks it of every hook, view and error handler on every request (a dozen times:
    inspect.iscoroutinefunction, unwrapping partials and methods), and the answer never
    changes for a given function.
    """
    checked: dict = {}
    ensure_sync = app.ensure_sync

    def ensure_sync_once(func):
        try:
            return checked[func]
        except KeyError:
            if len(checked) > 10_000:  # functions made on the fly: do not keep them all
                checked.clear()
            runnable = checked[func] = ensure_sync(func)
            return runnable
        except TypeError:  # an unhashable callable object
            return ensure_sync(func)

    app.ensure_sync = ensure_sync_once


def _init_extensions(app: Flask) -> None:
    import learning.models  # noqa: F401  (every table on the metadata)
    from learning import prepared
    from learning.i18n import select_locale
    from learning.security import session_identifier

    # The most recently used connection first: its caches are warm (SQLite's page cache, which
    # another connection's write empties; PostgreSQL's prepared statements). First-in-first-out
    # made every request start on the coldest idle connection.
    options = {"pool_use_lifo": True, **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {})}
    if str(app.config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite"):
        # A local file has no connection to lose: a liveness ping (SELECT 1) at every
        # checkout would only cost time on every request.
        options["pool_pre_ping"] = False
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    attach_waiting_objects(db.session)
    prepared.init_app(app)
    csrf.init_app(app)
    app.config.setdefault("BABEL_DEFAULT_LOCALE", app.config["DEFAULT_LANGUAGE"])
    # Relative to the package (app.root_path): learning/translations.
    babel.init_app(app, locale_selector=select_locale, default_translation_directories="translations")
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager._session_identifier_generator = session_identifier  # the same, remembered
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)


def _limit_only_decorated_views(app: Flask) -> None:
    """Drop Flask-Limiter's check before every request when it has nothing to check there.

    Every rate limit here is a decorator on its view (login, certificate verification), and
    the decorator's wrapper checks it; the before-request hook only serves default,
    application-wide and blueprint limits, which Kelisim does not set. Without them the
    hook resolves "no limits" on every request at a cost close to a whole "hello" response.
    """
    manager = limiter.limit_manager
    # (After the blueprints are registered: a blueprint-wide limit is set when its views load.)
    if manager.default_limits or manager.application_limits or manager._blueprint_limits or limiter._meta_limits:
        return
    hooks = app.before_request_funcs.get(None, [])
    hooks[:] = [hook for hook in hooks if getattr(hook, "__func__", None) is not type(limiter)._check_request_limit]
    # Its after-request hook (rate-limit headers, conditional deductions) and teardown act on
    # the state a checked limit leaves in the request context; on the other requests they
    # would create that state only to find it empty.
    def only_after_a_check(hook, nothing_checked):
        def run(value):
            if hasattr(request_ctx._get_current_object(), "_limiter_request_context"):
                return hook(value)
            return nothing_checked(value)
        return run

    limiter_type = type(limiter)
    after = app.after_request_funcs.get(None, [])
    after[:] = [only_after_a_check(hook, lambda response: response)
                if getattr(hook, "func", None) is limiter_type._Limiter__inject_headers else hook
                for hook in after]
    teardown = app.teardown_request_funcs.get(None, [])
    teardown[:] = [only_after_a_check(hook, lambda _error: None)
                   if getattr(hook, "__func__", None) is limiter_type._Limiter__release_context else hook
                   for hook in teardown]


def _register_blueprints(app: Flask) -> None:
    from learning.accounts.views import bp as accounts_bp
    from learning.admin.views import bp as admin_bp
    from learning.api.views import bp as api_bp  # bearer tokens only: exempt from CSRF there
    from learning.authoring.views import bp as authoring_bp
    from learning.content.views import bp as content_bp
    from learning.hr.views import bp as hr_bp
    from learning.main import bp as main_bp
    from learning.progress.views import bp as progress_bp
    from learning.quizzes.views import bp as quizzes_bp

    for blueprint in (main_bp, accounts_bp, content_bp, quizzes_bp, progress_bp, admin_bp, hr_bp,
                      api_bp, authoring_bp):
        app.register_blueprint(blueprint)


def _register_cli(app: Flask) -> None:
    from learning.accounts.cli import orgs_cli, users_cli
    from learning.api.cli import api_tokens_cli
    from learning.authoring.cli import quizzes_cli
    from learning.backup import backup_cli
    from learning.content.cli import courses_cli
    from learning.demo import demo_cli
    from learning.hr.cli import reminders_cli
    from learning.progress.cli import records_cli

    for group in (users_cli, orgs_cli, courses_cli, quizzes_cli, demo_cli, records_cli, backup_cli,
                  reminders_cli, api_tokens_cli):
        app.cli.add_command(group)
    app.cli.add_command(_MigrationsGroup(app), "db")


def enable_migrations(app: Flask) -> None:
    """Set up Flask-Migrate on `app` (done on demand: see _MigrationsGroup)."""
    from flask_migrate import Migrate

    Migrate(app, db, directory=str(PACKAGE_DIR.parent / "migrations"))


class _MigrationsGroup(click.Group):
    """`flask db ...` (Flask-Migrate), loaded only when a db command runs.

    Flask-Migrate imports Alembic, Mako and configparser: about a tenth of a second that
    every other command (`courses validate`, `users create`, ...) and every web worker
    would otherwise pay at start-up.
    """

    def __init__(self, app: Flask) -> None:
        super().__init__("db", help="Database migrations (Flask-Migrate / Alembic).")
        self._app = app
        self._loaded = False

    def _load(self) -> None:
        if self._loaded:
            return
        from flask_migrate.cli import db as migrate_group

        enable_migrations(self._app)
        # Become Flask-Migrate's group: its options, its callback (which sets g.directory
        # and friends) and its sub-commands.
        self.params, self.callback, self.commands = (
            migrate_group.params, migrate_group.callback, migrate_group.commands
        )
        self._loaded = True

    def make_context(self, info_name, args, parent=None, **extra):
        self._load()
        return super().make_context(info_name, args, parent=parent, **extra)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        self._load()
        return super().get_command(ctx, name)


def _register_request_hooks(app: Flask) -> None:
    @app.before_request
    def _declare_write_intent():
        # Requests that may write begin their SQLite transaction with BEGIN IMMEDIATE;
        # reads stay concurrent. A GET view that writes declares it with @writes_on_get.
        current = request._get_current_object()
        view = app.view_functions.get(current.endpoint or "")
        writes = current.method not in SAFE_METHODS or getattr(view, "writes_on_get", False)
        g._write_intent_token = write_intent.set(writes)

    @app.teardown_request
    def _reset_write_intent(_exc):
        token = g.pop("_write_intent_token", None)
        if token is not None:
            write_intent.reset(token)


def _register_template_helpers(app: Flask) -> None:
    from decimal import Decimal

    from babel.numbers import format_percent
    from flask_babel import format_date, format_datetime, format_time, get_locale
    from markupsafe import Markup

    from learning import templating
    from learning.content.render import render_inline
    from learning.i18n import LANGUAGE_NAMES

    static_dir = Path(app.static_folder)

    static_urls: dict[tuple[str, str], str] = {}

    def static_url(filename: str) -> str:
        """URL of a static file with a content fingerprint, so it can be cached for a year."""
        key = (filename, request.script_root)
        url = static_urls.get(key)
        if url is None or app.debug:
            digest = hashlib.sha256((static_dir / filename).read_bytes()).hexdigest()[:12]
            url = static_urls[key] = url_for("static", filename=filename, v=digest)
        return url

    app.jinja_env.globals["static_url"] = static_url
    templating.install(app)
    app.jinja_env.globals["has_endpoint"] = lambda name: name in app.view_functions
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["language_name"] = lambda code: LANGUAGE_NAMES.get(code, code)

    @app.template_filter("quiz_text")
    def _quiz_text(question):
        return Markup(render_inline(question.text, question.text_format))

    @app.template_filter("answer_text")
    def _answer_text(answer, question):
        return Markup(render_inline(answer.text, question.text_format))

    @app.template_filter("feedback_text")
    def _feedback_text(text, question):
        return Markup(render_inline(text, question.text_format))

    # Dates, times and percentages in the interface language's conventions (Babel, CLDR).
    @app.template_filter("format_date_local")
    def _format_date(value):
        return format_date(value, format="medium") if value else ""

    @app.template_filter("format_datetime_local")
    def _format_datetime(value):
        return format_datetime(value, format="medium") if value else ""

    @app.template_filter("format_time_local")
    def _format_time(value):
        return format_time(value, format="short") if value else ""

    @app.template_filter("format_percent_local")
    def _format_percent(value):
        """A 0-100 score as the locale writes it, with at most one decimal: 85.5%, 85,5 %, 85,5%."""
        if value is None:
            return "—"
        fraction = (Decimal(str(round(float(value), 1))) / 100).normalize()
        return format_percent(fraction, locale=get_locale(), decimal_quantization=False)
