"""Completion records: the HMAC chain, concurrency, certificates, verification, transcript."""

from __future__ import annotations

import io
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from learning.accounts.models import User
from learning.content.models import Course
from learning.content.queries import RevisionView
from learning.db import utcnow
from learning.extensions import db
from learning.progress import badges
from learning.progress.models import CompletionRecord, Enrollment, RecordRevocation
from learning.progress.records import complete_course
from tests.conftest import csrf_from
from tests.web.test_quizzes import answers_for, start_quiz


def complete_sample(app, client):
    for module, position in (("01-welcome", "2"), ("02-check", "1")):
        page = client.get(f"/courses/sample/{module}").get_data(as_text=True)
        client.post(f"/courses/sample/{module}/read", data={"csrf_token": csrf_from(page), "position": position})
    url, html = start_quiz(client)
    client.post(url, data=answers_for(app, url) | {"csrf_token": csrf_from(html)})
    with app.app_context():
        return db.session.scalar(sa.select(CompletionRecord).order_by(CompletionRecord.id.desc()))


def test_completion_writes_one_pinned_record(app, client, login_as, sample_course):
    user_id, _ = login_as("learner", language="en", name="Әлия Құрманғазықызы")
    record = complete_sample(app, client)
    with app.app_context():
        course = db.session.scalar(sa.select(Course))
        assert record.user_id == user_id
        assert record.revision_id == course.current_revision_id
        assert record.content_hash == course.current_revision.content_hash
        assert record.score == 100
        assert record.expires_at - record.completed_at > timedelta(days=360)
        assert len(record.certificate_code) >= 22  # ≥ 128 bits
        assert set(record.certificate_code) <= set(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")


def test_records_verify_passes_then_reports_tampering(app, client, runner, login_as, sample_course):
    login_as("learner", language="en")
    complete_sample(app, client)
    login_as("learner", language="en")
    complete_sample(app, client)
    ok = runner.invoke(args=["records", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "2 record(s) checked" in ok.output and "chain head: sequence 2" in ok.output
    with app.app_context():
        db.session.execute(sa.update(CompletionRecord).where(CompletionRecord.sequence == 1).values(score=55))
        db.session.commit()
    altered = runner.invoke(args=["records", "verify"])
    assert altered.exit_code == 1
    assert "sequence 1): altered" in altered.output


def test_records_verify_reports_a_deleted_record(app, client, runner, login_as, sample_course):
    for _ in range(3):
        login_as("learner", language="en")
        complete_sample(app, client)
    with app.app_context():
        db.session.execute(sa.delete(CompletionRecord).where(CompletionRecord.sequence == 2))
        db.session.commit()
    result = runner.invoke(args=["records", "verify"])
    assert result.exit_code == 1
    assert "a record was deleted or inserted" in result.output


def test_records_verify_reports_a_deleted_last_record(app, client, runner, login_as, sample_course):
    for _ in range(2):
        login_as("learner", language="en")
        complete_sample(app, client)
    with app.app_context():
        db.session.execute(sa.delete(CompletionRecord).where(CompletionRecord.sequence == 2))
        db.session.commit()
    result = runner.invoke(args=["records", "verify"])
    assert result.exit_code == 1 and "chain head says sequence 2" in result.output


def test_concurrent_completions_write_one_record_and_keep_the_chain(app, client, login_as, sample_course):
    """Two requests completing the same enrolment at once produce one record."""
    user_id, _ = login_as("learner", language="en")
    client.get("/courses/sample/01-welcome")
    errors: list[Exception] = []
    barrier = threading.Barrier(4)

    def complete():
        with app.test_request_context():
            try:
                barrier.wait(timeout=30)
                user = db.session.get(User, user_id)
                enrollment = db.session.scalar(sa.select(Enrollment).where(Enrollment.user_id == user_id))
                complete_course(user, enrollment, RevisionView(enrollment.revision), score=90.0)
                db.session.commit()
            except Exception as error:  # noqa: BLE001
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=complete) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(CompletionRecord.id))) == 1
        from learning.progress.records import verify_chain

        assert verify_chain(app.config["RECORDS_KEY"]).problems == []


def test_failure_mid_completion_leaves_no_partial_record(app, client, login_as, sample_course, monkeypatch):
    login_as("learner", language="en")
    page = client.get("/courses/sample/01-welcome").get_data(as_text=True)
    client.post("/courses/sample/01-welcome/read", data={"csrf_token": csrf_from(page), "position": "2"})
    page = client.get("/courses/sample/02-check").get_data(as_text=True)
    client.post("/courses/sample/02-check/read", data={"csrf_token": csrf_from(page), "position": "1"})
    url, html = start_quiz(client)
    import learning.progress.records as records

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(records, "record_statement", broken, raising=False)
    monkeypatch.setattr("learning.progress.statements.record_statement", broken)
    response = client.post(url, data=answers_for(app, url) | {"csrf_token": csrf_from(html)})
    assert response.status_code == 500
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(CompletionRecord.id))) == 0
        from learning.quizzes.models import QuizAttempt

        assert db.session.scalar(sa.select(QuizAttempt)).submitted_at is None


def test_certificate_pdf_has_name_and_course(app, client, login_as, sample_course):
    login_as("learner", language="ru", name="Әлия Құрманғазықызы")
    record = complete_sample(app, client)
    response = client.get(f"/certificates/{record.certificate_code}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert "Әлия Құрманғазықызы" in text
    assert "Пробный курс" in text
    assert record.certificate_code in text


def test_certificate_is_private_to_its_owner(app, client, login_as, sample_course):
    login_as("learner", language="en")
    record = complete_sample(app, client)
    login_as("learner", language="en")  # the same client, now another learner
    assert client.get(f"/certificates/{record.certificate_code}.pdf").status_code == 404
    assert client.get(f"/certificates/{record.certificate_code}.jwt").status_code == 404


def test_verify_page_is_public_and_minimal(app, client, login_as, sample_course):
    _, email = login_as("learner", language="en", name="Daniyar Test")
    record = complete_sample(app, client)
    anonymous = app.test_client()
    page = anonymous.get(f"/verify/{record.certificate_code}", headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Valid" in html and "Daniyar Test" in html and "Sample course" in html
    assert email not in html
    assert anonymous.get("/verify/" + "A" * 32).status_code == 404
    assert anonymous.get("/verify/<script>").status_code == 404


def test_revoked_and_expired_records_show_as_such(app, client, login_as, sample_course):
    user_id, _ = login_as("learner", language="en")
    record = complete_sample(app, client)
    anonymous = app.test_client()
    with app.app_context():
        db.session.add(RecordRevocation(record_id=record.id, revoked_by_id=user_id, reason="test"))
        db.session.commit()
    assert "Revoked" in anonymous.get(f"/verify/{record.certificate_code}",
                                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert client.get(f"/certificates/{record.certificate_code}.pdf").status_code == 410


def test_expired_record_means_recertification(app, client, login_as, sample_course, monkeypatch):
    login_as("learner", language="en")
    record = complete_sample(app, client)
    later = utcnow() + timedelta(days=800)
    monkeypatch.setattr("learning.progress.records.utcnow", lambda: later)
    course_page = client.get("/courses/sample").get_data(as_text=True)
    assert "Recertification due" in course_page
    verify = app.test_client().get(f"/verify/{record.certificate_code}", headers={"Accept-Language": "en"})
    assert "Expired" in verify.get_data(as_text=True)
    response = client.post("/courses/sample/recertify", data={"csrf_token": csrf_from(course_page)})
    assert response.status_code == 302
    second = complete_sample(app, client)
    assert second.id != record.id and second.cycle == 2
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(CompletionRecord.id))) == 2


def test_open_badge_verifies_with_the_published_key(app, client, login_as, sample_course):
    login_as("learner", language="en", name="Aruzhan Test")
    record = complete_sample(app, client)
    token = client.get(f"/certificates/{record.certificate_code}.jwt").get_data(as_text=True)
    jwk = app.test_client().get("/.well-known/jwks.json").get_json()["keys"][0]
    credential = badges.verify_credential(token, jwk)
    assert "OpenBadgeCredential" in credential["type"]
    assert record.certificate_code in credential["id"]
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(badges.CredentialError):
        badges.verify_credential(forged, jwk)


def test_transcript_lists_completed_courses(app, client, login_as, sample_course):
    login_as("learner", language="en")
    record = complete_sample(app, client)
    html = client.get("/me/transcript").get_data(as_text=True)
    assert "Sample course" in html and record.certificate_code in html and "Valid" in html
