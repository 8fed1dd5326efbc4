"""Certificates: the PDF, the verification status and the signed Open Badges credential."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from learning.accounts.models import User
from learning.content.models import Course, CourseRevision
from learning.content.queries import RevisionView
from learning.extensions import db
from learning.progress.models import CompletionRecord, RecordRevocation
from learning.progress.records import record_status

CODE_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def find_certificate(code: str):
    """(record, revocation, user, course, revision) for a code, or None. One query either way."""
    if not (20 <= len(code) <= 64) or not set(code) <= CODE_CHARS:
        code = "-" * 32  # same query, no match: unknown codes cost what known ones do
    row = db.session.execute(
        sa.select(CompletionRecord, RecordRevocation, User, Course, CourseRevision)
        .outerjoin(RecordRevocation, RecordRevocation.record_id == CompletionRecord.id)
        .join(User, User.id == CompletionRecord.user_id)
        .join(Course, Course.id == CompletionRecord.course_id)
        .join(CourseRevision, CourseRevision.id == CompletionRecord.revision_id)
        .where(CompletionRecord.certificate_code == code)
    ).first()
    return tuple(row) if row else None


def verify_url(code: str) -> str:
    return f"{current_app.config['BASE_URL'].rstrip('/')}/verify/{code}"


def certificate_pdf(record, user, revision, language: str) -> bytes:
    from learning.progress.certificate_pdf import CertificateData, render_certificate_pdf

    view = RevisionView(revision)
    return render_certificate_pdf(
        CertificateData(
            learner_name=user.name,
            course_title=view.title(language),
            language=language,
            completed_at=record.completed_at.date(),
            score=record.score,
            expires_at=record.expires_at.date() if record.expires_at else None,
            organisation=current_app.config["ISSUER_NAME"],
            code=record.certificate_code,
            verify_url=verify_url(record.certificate_code),
        )
    )


def signing_key():
    from learning.progress import badges

    return badges.load_or_create_signing_key(Path(current_app.config["SIGNING_KEY_PATH"]))


def signed_badge(record, user, revision, language: str) -> str:
    from learning.progress import badges

    view = RevisionView(revision)
    credential = badges.build_credential(
        base_url=current_app.config["BASE_URL"],
        code=record.certificate_code,
        learner_name=user.name,
        achievement_name=view.structure.get("title", {}),
        achievement_description=view.structure.get("description", {}) or view.structure.get("title", {}),
        criteria_narrative={
            "en": "Read every required module and passed every required quiz of the course.",
            "ru": "Изучены все обязательные модули и сданы все обязательные тесты курса.",
            "kk": "Курстың барлық міндетті модульдері оқылып, барлық міндетті тесттері тапсырылды.",
        },
        issuer_name=current_app.config["ISSUER_NAME"],
        issued_at=record.completed_at,
        expires_at=record.expires_at,
        language=language,
        achievement_id=f"{current_app.config['BASE_URL'].rstrip('/')}/courses/{view.structure.get('slug')}",
    )
    return badges.sign_credential(credential, signing_key())


__all__ = ["find_certificate", "certificate_pdf", "signed_badge", "record_status", "verify_url"]
