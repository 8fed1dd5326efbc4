"""Prepared statements (learning/prepared.py): the same values as SQLAlchemy gives, writes that
commit or leave nothing, and the request's driver connection always given back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from learning.db import utcnow
from learning.extensions import db
from learning.prepared import Prepared, write_transaction
from learning.progress.models import ModuleProgress
from learning.progress.services import progress_snapshot

PROGRESS = ModuleProgress.__table__


def _insert_progress(app, user_id: int, revision_id: int, **values) -> None:
    with app.app_context():
        row = {"user_id": user_id, "revision_id": revision_id, "cycle": 1, "status": "in_progress",
               "first_seen_at": utcnow(), "last_seen_at": utcnow(), "seconds_spent": 0, "position": 0,
               "attempts": 0, "is_quiz_passed": False}
        db.session.execute(sa.insert(PROGRESS).values({**row, **values}))
        db.session.commit()


def _fixture(app, make_user, sample_course):
    user_id, _email = make_user("learner")
    with app.app_context():
        revision_id = db.session.scalar(sa.text("SELECT current_revision_id FROM courses"))
    return user_id, revision_id


def test_rows_carry_the_same_values_as_the_orm(app, make_user, sample_course):
    user_id, revision_id = _fixture(app, make_user, sample_course)
    read_at = datetime(2026, 7, 1, 9, 30, 15, 123456, tzinfo=UTC)
    _insert_progress(app, user_id, revision_id, module_slug="01-welcome", read_at=read_at,
                     best_score=87.5, is_quiz_passed=True)
    _insert_progress(app, user_id, revision_id, module_slug="02-check", read_at=None)
    with app.test_request_context():
        enrollment = type("E", (), {"revision_id": revision_id, "cycle": 1})()
        rows = progress_snapshot(user_id, enrollment)
        orm = {p.module_slug: p for p in db.session.scalars(sa.select(ModuleProgress))}
        assert set(rows) == set(orm) == {"01-welcome", "02-check"}
        for slug, row in rows.items():
            for column in PROGRESS.columns:
                assert getattr(row, column.key) == getattr(orm[slug], column.key), column.key
        assert rows["01-welcome"].read_at == read_at and rows["01-welcome"].read_at.tzinfo is not None
        assert rows["01-welcome"].is_quiz_passed is True and rows["02-check"].read_at is None


def test_parameters_are_converted_and_constants_kept(app, make_user, sample_course):
    user_id, revision_id = _fixture(app, make_user, sample_course)
    _insert_progress(app, user_id, revision_id, module_slug="01-welcome")
    seen = Prepared(
        sa.select(PROGRESS.c.module_slug)
        .where(PROGRESS.c.last_seen_at > sa.bindparam("since", type_=PROGRESS.c.last_seen_at.type),
               PROGRESS.c.is_quiz_passed.is_(False), PROGRESS.c.status == "in_progress")
    )
    with app.test_request_context():
        assert [r.module_slug for r in seen.all(since=utcnow() - timedelta(hours=1))] == ["01-welcome"]
        assert seen.all(since=utcnow() + timedelta(hours=1)) == []
        with pytest.raises(KeyError):
            seen.all()  # a parameter the statement needs


def test_write_transaction_commits_or_leaves_nothing(app, make_user, sample_course):
    user_id, revision_id = _fixture(app, make_user, sample_course)
    _insert_progress(app, user_id, revision_id, module_slug="01-welcome")
    # A statement made per database kind, as an upsert is.
    bump = Prepared(lambda dialect: sa.update(PROGRESS).values(position=PROGRESS.c.position + 1))
    with app.test_request_context():
        with write_transaction():
            bump.run()
        with pytest.raises(RuntimeError), write_transaction():
            bump.run()
            raise RuntimeError("the request failed after its first write")
    with app.app_context():
        assert db.session.scalar(sa.select(PROGRESS.c.position)) == 1


def test_the_connection_goes_back_to_the_pool_after_each_request(app, client, login_as, sample_course):
    login_as("learner", language="en")
    with app.app_context():
        pool, dialect = db.engine.pool, db.engine.dialect.name
        before = pool.checkedout()
    for _ in range(3):
        assert client.get("/courses/sample/01-welcome").status_code == 200
        assert pool.checkedout() == before
    if dialect == "postgresql":
        with app.app_context():
            idle = db.session.scalar(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state = 'idle in transaction' AND pid <> pg_backend_pid()"))
        assert idle == 0


def test_a_connection_the_server_closed_is_replaced(app, client, login_as, sample_course):
    # No liveness ping per checkout on PostgreSQL: the first statement notices a connection
    # the server has closed (a restart, an idle timeout) and runs again on a new one.
    login_as("learner", language="en")
    assert client.get("/courses/sample/01-welcome").status_code == 200
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite connections are files: nothing can close them")
        killed = db.session.scalar(sa.text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'idle'"))
        db.session.commit()
    assert killed >= 1
    assert client.get("/courses/sample/01-welcome").status_code == 200
    assert client.get("/courses/sample/01-welcome").status_code == 200


def test_only_the_prepared_connections_commit_without_waiting_for_the_disk(app):
    """Lesson visits and graded attempts that complete nothing are committed asynchronously on
    PostgreSQL; everything through the Session (completion records above all) waits for the
    disk. SQLite has no such setting (its WAL with synchronous=NORMAL is the same trade-off)."""
    with app.test_request_context("/"):
        if db.engine.dialect.name != "postgresql":
            pytest.skip("synchronous_commit is PostgreSQL's")
        prepared_setting = Prepared(sa.text("SHOW synchronous_commit").columns(
            sa.column("synchronous_commit", sa.String))).first()
        assert prepared_setting.synchronous_commit == "off"
        assert db.session.scalar(sa.text("SHOW synchronous_commit")) == "on"
