"""The dashboard and the health check."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template
from flask_babel import get_locale
from flask_login import current_user, login_required

from learning.content.queries import RevisionView
from learning.extensions import db
from learning.hr.queries import assigned_courses
from learning.progress.queries import dashboard_rows

bp = Blueprint("main", __name__)


@bp.route("/")
@login_required
def dashboard():
    assigned = [(item, RevisionView(item.revision)) for item in assigned_courses(current_user)]
    assigned_ids = {item.course.id for item, _view in assigned}
    rows = [(course, enrollment, RevisionView(revision))
            for course, enrollment, revision in dashboard_rows(current_user)
            if course.id not in assigned_ids]
    return render_template("main/dashboard.html", rows=rows, assigned=assigned,
                           language=str(get_locale()))


@bp.route("/healthz")
def healthz():
    try:
        db.session.execute(sa.text("SELECT 1"))
        db.session.rollback()
    except Exception:
        db.session.rollback()
        return {"status": "unavailable", "db": "unreachable"}, 503
    return {"status": "ok", "db": "ok"}
