"""Error pages in the site's layout, JSON errors for the API, 503 when the database is down."""

from __future__ import annotations

from contextlib import nullcontext

from flask import render_template, request
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from learning.extensions import db
from learning.i18n import N_

# msgids, translated when a page is shown (N_ only marks them for extraction).
TITLES = {
    400: N_("Bad request"),
    401: N_("Please log in"),
    403: N_("Access denied"),
    404: N_("Page not found"),
    405: N_("Method not allowed"),
    409: N_("Conflict"),
    410: N_("No longer available"),
    413: N_("Too large"),
    422: N_("Cannot process"),
    429: N_("Too many requests"),
    500: N_("Something went wrong"),
    503: N_("Service unavailable"),
}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def _respond(status: int, message: str):
    if _wants_json():
        return {"error": {"status": status, "message": message}}, status
    try:
        title = _(TITLES.get(status, N_("Error")))  # noqa: i18n-dynamic (msgids marked above)
        return render_template("errors/error.html", status=status, title=title, message=message), status
    except Exception:  # the layout needs the database (current user); answer plainly
        return f"{status} {message}", status, {"Content-Type": "text/plain; charset=utf-8"}


def _response_language():
    """API errors are English by design (clients match on them); pages speak the interface language."""
    return force_locale("en") if _wants_json() else nullcontext()


def _message(status: int) -> str:
    with _response_language():
        return _status_message(status)


def _status_message(status: int) -> str:
    messages = {
        400: _("The request could not be understood. Please go back and try again."),
        401: _("Please log in to see this page."),
        403: _("You do not have access to this page."),
        404: _("We could not find that page."),
        405: _("This action is not allowed here."),
        409: _("This conflicts with a change made meanwhile. Please reload the page and try again."),
        410: _("This is no longer available."),
        413: _("What you sent is too large."),
        429: _("Too many attempts. Please wait a moment and try again."),
        500: _("Something went wrong on our side. It has been logged."),
        503: _("The service is temporarily unavailable. Please try again in a minute."),
    }
    return messages.get(status) or _(TITLES.get(status, N_("Error")))  # noqa: i18n-dynamic


def register_error_handlers(app) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(_error):
        with _response_language():
            message = _("Your form has expired or was not sent from this site. "
                        "Please reload the page and try again.")
        return _respond(400, message)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        if error.code and error.code < 400:
            return error
        custom = error.description if error.description != type(error).description else None
        if error.code == 429:
            custom = None  # the limiter's description names its internal limit
        if custom is not None:  # a lazy_gettext description reads in the response's language
            with _response_language():
                custom = str(custom)
        description = custom or _message(error.code or 500)
        response = _respond(error.code or 500, description)
        if error.code == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            body, status = response[0], response[1]
            return body, status, {"Allow": ", ".join(error.valid_methods)}
        return response

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _database_down(error):
        db.session.rollback()
        app.logger.warning("database unavailable: %s", error.__class__.__name__)
        return _respond(503, _message(503))

    @app.errorhandler(Exception)
    def _unexpected(error):
        db.session.rollback()
        app.logger.exception("unhandled error")
        return _respond(500, _message(500))
