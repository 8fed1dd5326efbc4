"""Error pages in the site's layout, JSON errors for the API, 503 when the database is down."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from learning.extensions import db

TITLES = {
    400: "Bad request",
    401: "Please log in",
    403: "Access denied",
    404: "Page not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    422: "Cannot process",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Service unavailable",
}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz"


def _respond(status: int, message: str):
    if _wants_json():
        return {"error": {"status": status, "message": message}}, status
    try:
        return render_template("errors/error.html", status=status, message=message), status
    except Exception:  # the layout needs the database (current user); answer plainly
        return f"{status} {message}", status, {"Content-Type": "text/plain; charset=utf-8"}


def _message(status: int) -> str:
    messages = {
        400: _("The request could not be understood. Please go back and try again."),
        403: _("You do not have access to this page."),
        404: _("We could not find that page."),
        405: _("This action is not allowed here."),
        413: _("What you sent is too large."),
        429: _("Too many attempts. Please wait a moment and try again."),
        500: _("Something went wrong on our side. It has been logged."),
        503: _("The service is temporarily unavailable. Please try again in a minute."),
    }
    return messages.get(status, TITLES.get(status, "Error"))


def register_error_handlers(app) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(_error):
        return _respond(400, _("Your form has expired or was not sent from this site. "
                               "Please reload the page and try again."))

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        if error.code and error.code < 400:
            return error
        custom = error.description if error.description != type(error).description else None
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
