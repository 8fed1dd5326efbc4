"""Transcript, certificates and public verification."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template
from flask_babel import get_locale
from flask_login import current_user, login_required

from learning.content.queries import RevisionView
from learning.extensions import limiter
from learning.progress import badges
from learning.progress.certificates import (
    certificate_pdf,
    find_certificate,
    record_status,
    signed_badge,
    signing_key,
)
from learning.progress.queries import dashboard_rows, records_for

bp = Blueprint("progress", __name__)


def _language() -> str:
    return str(get_locale() or "ru")


@bp.route("/me/transcript")
@login_required
def transcript():
    records = [(r, rev, c, RevisionView(revision), record_status(r, rev))
               for r, rev, c, revision in records_for(current_user)]
    enrollments = [(c, e, RevisionView(r)) for c, e, r in dashboard_rows(current_user)]
    return render_template("progress/transcript.html", records=records, enrollments=enrollments,
                           language=_language(), person=current_user)


def _own_certificate(code: str):
    found = find_certificate(code)
    if found is None:
        abort(404)
    record, revocation, user, course, revision = found
    if user.id != current_user.id and current_user.role not in ("hr", "admin"):
        abort(404)
    if current_user.role == "hr" and user.id != current_user.id:
        from learning.security import unit_in_scope

        if not unit_in_scope(current_user, user.org_unit):
            abort(404)
    return record, revocation, user, course, revision


@bp.route("/certificates/<code>.pdf")
@login_required
def certificate(code: str):
    record, revocation, user, course, revision = _own_certificate(code)
    if revocation is not None:
        abort(410, description="This certificate has been revoked.")
    pdf = certificate_pdf(record, user, revision, _language())
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="kelisim-certificate-{course.slug}.pdf"'})


@bp.route("/certificates/<code>.jwt")
@login_required
def badge(code: str):
    record, revocation, user, course, revision = _own_certificate(code)
    if revocation is not None:
        abort(410, description="This certificate has been revoked.")
    token = signed_badge(record, user, revision, _language())
    return Response(token, mimetype="application/vc+jwt", headers={
        "Content-Disposition": f'attachment; filename="kelisim-badge-{course.slug}.jwt"'})


@bp.route("/verify/<code>")
@limiter.limit("30 per minute")
def verify(code: str):
    found = find_certificate(code)
    if found is None:
        abort(404)
    record, revocation, user, course, revision = found
    return render_template("progress/verify.html", record=record, revocation=revocation,
                           name=user.name, title=RevisionView(revision).title(_language()),
                           status=record_status(record, revocation))


@bp.route("/.well-known/jwks.json")
def jwks():
    return {"keys": [badges.public_jwk(signing_key())]}
