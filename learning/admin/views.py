"""Administration: completion records and their revocation, users' roles, the audit log."""

from __future__ import annotations

import sqlalchemy as sa
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from learning.accounts.models import User
from learning.admin.forms import AuditFilterForm, RecordSearchForm, RevokeForm, RoleForm
from learning.audit.models import AuditEvent
from learning.audit.services import record_event
from learning.content.models import Course
from learning.extensions import db
from learning.progress.models import CompletionRecord, RecordRevocation
from learning.security import role_required
from learning.validation import is_digits

bp = Blueprint("admin", __name__, url_prefix="/admin")
PAGE_SIZE = 50


def _page() -> int:
    value = request.args.get("page", "1")
    return int(value) if is_digits(value) and 0 < int(value) < 100_000 else 1


@bp.route("/records")
@role_required("admin")
def records():
    form = RecordSearchForm(request.args)
    query = (
        sa.select(CompletionRecord, RecordRevocation, User, Course)
        .outerjoin(RecordRevocation, RecordRevocation.record_id == CompletionRecord.id)
        .join(User, User.id == CompletionRecord.user_id)
        .join(Course, Course.id == CompletionRecord.course_id)
        .order_by(CompletionRecord.sequence.desc())
    )
    if form.validate() and form.q.data:
        term = form.q.data.strip()
        query = query.where(sa.or_(CompletionRecord.certificate_code == term, User.email == term.lower()))
    page = _page()
    rows = db.session.execute(query.limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).all()
    return render_template("admin/records.html", rows=rows[:PAGE_SIZE], form=form, page=page,
                           has_next=len(rows) > PAGE_SIZE)


@bp.route("/records/<int:record_id>/revoke", methods=["GET", "POST"])
@role_required("admin")
def revoke(record_id: int):
    record = db.session.get(CompletionRecord, record_id)
    if record is None:
        abort(404)
    existing = db.session.scalar(sa.select(RecordRevocation).where(RecordRevocation.record_id == record.id))
    form = RevokeForm()
    if existing is None and form.validate_on_submit():
        db.session.add(RecordRevocation(record_id=record.id, revoked_by_id=current_user.id,
                                        reason=form.reason.data.strip()))
        record_event("record.revoked", record.certificate_code, record_id=record.id,
                     reason=form.reason.data.strip())
        from learning.progress.statements import void_completion

        void_completion(record.user, record.course.slug, record.completed_at)
        db.session.commit()
        flash(_("The record has been revoked."), "success")
        return redirect(url_for("admin.records"))
    return render_template("admin/revoke.html", record=record, existing=existing, form=form)


@bp.route("/users")
@role_required("admin")
def users():
    page = _page()
    rows = db.session.scalars(sa.select(User).order_by(User.email).limit(PAGE_SIZE + 1)
                              .offset((page - 1) * PAGE_SIZE)).all()
    return render_template("admin/users.html", users=rows[:PAGE_SIZE], page=page,
                           has_next=len(rows) > PAGE_SIZE, form=RoleForm())


@bp.route("/users/<int:user_id>/role", methods=["POST"])
@role_required("admin")
def change_role(user_id: int):
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    form = RoleForm()
    if not form.validate_on_submit():
        abort(400)
    if user.id == current_user.id and form.role.data != "admin":
        flash(_("You cannot remove your own administrator role."), "error")
        return redirect(url_for("admin.users"))
    previous = user.role
    user.role = form.role.data
    record_event("user.role_changed", user.email, previous=previous, new=user.role)
    db.session.commit()
    flash(_("Role changed."), "success")
    return redirect(url_for("admin.users"))


def _audit_query(form: AuditFilterForm):
    query = sa.select(AuditEvent).order_by(AuditEvent.id.desc())
    if form.validate():
        if form.action.data:
            query = query.where(AuditEvent.action == form.action.data.strip())
        if form.actor.data:
            query = query.where(AuditEvent.actor_email == form.actor.data.strip().lower())
    return query


@bp.route("/audit")
@role_required("admin")
def audit():
    form = AuditFilterForm(request.args)
    page = _page()
    rows = db.session.scalars(_audit_query(form).limit(PAGE_SIZE + 1).offset((page - 1) * PAGE_SIZE)).all()
    return render_template("admin/audit.html", events=rows[:PAGE_SIZE], form=form, page=page,
                           has_next=len(rows) > PAGE_SIZE)


@bp.route("/audit.csv")
@role_required("admin")
def audit_csv():
    from learning.hr.exports import stream_csv

    form = AuditFilterForm(request.args)
    record_event("audit.exported", "audit.csv")
    db.session.commit()
    query = _audit_query(form).execution_options(yield_per=1000)

    def rows():
        for event in db.session.scalars(query):
            yield [event.occurred_at.isoformat(), event.actor_email, event.action, event.target,
                   event.ip_address, str(event.details)]

    header = [_("When (UTC)"), _("Who"), _("Action"), _("Target"), _("IP address"), _("Details")]
    return Response(stream_with_context(stream_csv(header, rows())), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="kelisim-audit.csv"'})
