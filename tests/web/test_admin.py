"""Administration: revoking records, changing roles, the audit log."""

from __future__ import annotations

import sqlalchemy as sa

from learning.audit.models import AuditEvent
from learning.extensions import db
from learning.progress import xapi
from learning.progress.models import RecordRevocation, Statement
from tests.conftest import csrf_from
from tests.web.test_records import complete_sample


def test_admin_revokes_a_record_with_a_reason(app, client, login_as, sample_course):
    login_as("learner", language="en")
    record = complete_sample(app, client)
    login_as("admin", language="en")
    page = client.get(f"/admin/records/{record.id}/revoke").get_data(as_text=True)
    empty = client.post(f"/admin/records/{record.id}/revoke", data={"csrf_token": csrf_from(page), "reason": ""})
    assert empty.status_code == 200 and "This field is required" in empty.get_data(as_text=True)
    done = client.post(f"/admin/records/{record.id}/revoke",
                       data={"csrf_token": csrf_from(page), "reason": "Exam taken by someone else"})
    assert done.status_code == 302
    again = client.post(f"/admin/records/{record.id}/revoke",
                        data={"csrf_token": csrf_from(page), "reason": "twice"})
    assert again.status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(RecordRevocation.id))) == 1
        voided = db.session.scalar(sa.select(Statement).where(Statement.verb == "voided"))
        assert voided is not None and xapi.validate_statement(voided.data) == []
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "record.revoked"))
        assert event.details["reason"] == "Exam taken by someone else"
    html = app.test_client().get(f"/verify/{record.certificate_code}", headers={"Accept-Language": "en"})
    assert "Revoked" in html.get_data(as_text=True)


def test_role_change_is_audited(app, client, login_as, make_user):
    target_id, target_email = make_user("learner")
    login_as("admin", language="en")
    token = csrf_from(client.get("/admin/users").get_data(as_text=True))
    assert client.post(f"/admin/users/{target_id}/role", data={"csrf_token": token, "role": "trainer"}).status_code == 302
    assert client.post(f"/admin/users/{target_id}/role", data={"csrf_token": token, "role": "king"}).status_code == 400
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.role_changed"))
        assert event.target == target_email and event.details == {"previous": "learner", "new": "trainer"}


def test_logins_are_audited_and_exportable(app, client, login_as, make_user):
    _, email = make_user("learner")
    token = csrf_from(client.get("/login").get_data(as_text=True))
    client.post("/login", data={"email": email, "password": "wrong password!!", "csrf_token": token})
    login_as("admin", language="en")
    html = client.get("/admin/audit?action=login.failure").get_data(as_text=True)
    assert email in html
    csv = client.get("/admin/audit.csv")
    body = csv.get_data()
    assert csv.status_code == 200 and body.startswith("\ufeff".encode())
    assert b"login.failure" in body and b"login.success" in body
    with app.app_context():
        assert db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "audit.exported"))


def test_admin_cannot_demote_themselves(app, client, login_as):
    admin_id, _ = login_as("admin", language="en")
    token = csrf_from(client.get("/admin/users").get_data(as_text=True))
    client.post(f"/admin/users/{admin_id}/role", data={"csrf_token": token, "role": "learner"})
    assert client.get("/admin/users").status_code == 200
