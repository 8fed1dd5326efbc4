"""Transcript, certificates and public verification."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from learning.content.queries import RevisionView
from learning.extensions import limiter
from learning.progress.certificates import find_certificate, record_status
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


@bp.route("/me/transcript.pdf")
@login_required
def transcript_pdf():
    from datetime import date

    from learning.progress.transcript_pdf import TranscriptRow, render_transcript_pdf

    language = _language()
    statuses = {"valid": _("Valid"), "expired": _("Expired"), "revoked": _("Revoked")}
    rows = [
        TranscriptRow(
            course_title=RevisionView(revision).title(language),
            status=statuses[record_status(record, revocation)],
            completed_at=record.completed_at.date(), score=record.score,
            version=str(revision.number),
            expires_at=record.expires_at.date() if record.expires_at else None,
            code=record.certificate_code,
        )
        for record, revocation, course, revision in records_for(current_user)
    ]
    pdf = render_transcript_pdf(learner_name=current_user.name, unit=current_user.org_unit.full_name,
                                language=language, rows=rows, generated_on=date.today())
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": 'attachment; filename="kelisim-transcript.pdf"'})


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
        abort(410, description=_("This certificate has been revoked."))
    from learning.progress.certificates import certificate_pdf  # fpdf loads only when needed

    pdf = certificate_pdf(record, user, revision, _language())
    return Response(pdf, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="kelisim-certificate-{course.slug}.pdf"'})


@bp.route("/certificates/<code>.jwt")
@login_required
def badge(code: str):
    record, revocation, user, course, revision = _own_certificate(code)
    if revocation is not None:
        abort(410, description=_("This certificate has been revoked."))
    from learning.progress.certificates import signed_badge

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
    from learning.progress import badges
    from learning.progress.certificates import signing_key

    return {"keys": [badges.public_jwk(signing_key())]}
