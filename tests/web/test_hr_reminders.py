"""`flask reminders send`: SMTP (a local sink) or the log; once per assignment, person and day."""

from __future__ import annotations

import logging
from datetime import timedelta
from email import message_from_bytes

import pytest
import sqlalchemy as sa

from learning.extensions import db
from learning.hr.models import ReminderLog
from learning.hr.queries import local_today
from learning.hr.services import smtp_settings
from tests.hr_helpers import assign_unit, assign_user, complete, smtp_sink

DEPT = "Region A/Akimat A/Dept A"


@pytest.fixture
def due_people(app, make_user, sample_course):
    """Late (overdue), Soon (due in 3 days), Later (elsewhere, due in 30 days), Done (completed),
    Away (disabled)."""
    ids = {
        name: make_user(
            "learner",
            org=DEPT if name != "Later" else "Region A/Elsewhere",
            name=name,
            email=f"{name.lower()}@example.kz",
            language="en",
        )[0]
        for name in ("Late", "Soon", "Later", "Done", "Away")
    }
    with app.app_context():
        assign_unit(DEPT, due=local_today() + timedelta(days=3))
        assign_user(ids["Late"], due=local_today() - timedelta(days=2))
        assign_user(ids["Later"], due=local_today() + timedelta(days=30))
        complete(ids["Done"])
        from learning.accounts.models import User

        db.session.execute(
            sa.update(User).where(User.id == ids["Away"]).values(is_active_account=False)
        )
        db.session.commit()
    return ids


def test_reminders_by_smtp_once_a_day(app, runner, due_people):
    with smtp_sink() as (url, messages):
        app.config["SMTP_URL"] = url
        result = runner.invoke(args=["reminders", "send", "--days", "7"])
        assert result.exit_code == 0, result.output
        assert "2 e-mailed" in result.output
        recipients = sorted(r for _sender, rcpts, _data in messages for r in rcpts)
        assert recipients == ["late@example.kz", "soon@example.kz"]
        late = next(
            message_from_bytes(data) for _s, rcpts, data in messages if rcpts == ["late@example.kz"]
        )
        body = late.get_payload(decode=True).decode()
        assert late["Subject"] == "Reminder: training due"
        assert "overdue since" in body and "Sample course" in body and "/courses/sample" in body
        # Late is covered twice (unit and by name): one e-mail, both assignments logged
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count(ReminderLog.id))) == 3
        again = runner.invoke(args=["reminders", "send", "--days", "7"])
        assert "0 e-mailed" in again.output and len(messages) == 2
        wider = runner.invoke(args=["reminders", "send", "--days", "60"])
        assert "1 e-mailed" in wider.output
        assert [r for _s, rcpts, _d in messages for r in rcpts][-1] == "later@example.kz"


def test_reminders_without_smtp_go_to_the_log(app, runner, due_people, caplog):
    app.config["SMTP_URL"] = ""
    with caplog.at_level(logging.INFO, logger="kelisim.reminders"):
        result = runner.invoke(args=["reminders", "send"])
    assert result.exit_code == 0, result.output
    assert "2 written to the log" in result.output
    assert (
        "reminder to late@example.kz" in caplog.text
        and "Subject: Reminder: training due" in caplog.text
    )
    with app.app_context():
        channels = set(db.session.scalars(sa.select(ReminderLog.channel)))
    assert channels == {"log"}


def test_dry_run_records_nothing(app, runner, due_people):
    app.config["SMTP_URL"] = ""
    result = runner.invoke(args=["reminders", "send", "--dry-run"])
    assert result.exit_code == 0 and "2 skipped" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ReminderLog.id))) == 0


def test_unreachable_smtp_fails_and_records_nothing(app, runner, due_people):
    with smtp_sink() as (url, _messages):
        pass  # the port is closed again
    app.config["SMTP_URL"] = url
    result = runner.invoke(args=["reminders", "send"])
    assert result.exit_code == 1 and "2 failed" in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ReminderLog.id))) == 0


@pytest.mark.parametrize("url", ["http://mail.example.kz", "smtp://", "mail.example.kz:25"])
def test_malformed_smtp_url_is_a_clear_error(app, runner, due_people, url):
    app.config["SMTP_URL"] = url
    result = runner.invoke(args=["reminders", "send"])
    assert result.exit_code != 0 and "SMTP_URL" in result.output


def test_smtp_url_parsing():
    settings = smtp_settings("smtps://user%40x:p%3Ass@mail.example.kz")
    assert (
        settings.host,
        settings.port,
        settings.username,
        settings.password,
        settings.use_ssl,
    ) == ("mail.example.kz", 465, "user@x", "p:ss", True)
    assert smtp_settings("smtp://mail.example.kz?starttls=1").port == 587
    assert smtp_settings("smtp://mail.example.kz:2525").use_starttls is False


def test_unique_key_refuses_a_second_reminder_the_same_day(app, due_people):
    from sqlalchemy.exc import IntegrityError

    with app.app_context():
        from learning.hr.models import Assignment

        assignment = db.session.scalar(sa.select(Assignment.id))
        for _ in range(2):
            db.session.add(
                ReminderLog(
                    assignment_id=assignment,
                    user_id=due_people["Soon"],
                    sent_on=local_today(),
                    channel="log",
                )
            )
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
