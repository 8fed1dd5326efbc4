"""`flask demo seed --learners N`: scale data that is consistent (chain verifies, xAPI valid)."""

from __future__ import annotations

import sqlalchemy as sa

from learning.accounts.models import User
from learning.extensions import db
from learning.hr import queries
from learning.hr.models import Assignment
from learning.progress import xapi
from learning.progress.models import CompletionRecord, Enrollment, Statement
from learning.progress.records import verify_chain


def test_seed_small_scale(app, runner):
    result = runner.invoke(args=["demo", "seed", "--learners", "600"])
    assert result.exit_code == 0, result.output
    assert "Scale data: 600 learners in 500 departments" in result.output
    assert "hr-scale@demo.kelisim.kz" in result.output
    with app.app_context():
        learners = db.session.scalar(
            sa.select(sa.func.count(User.id)).where(User.email.like("%@scale.kelisim.kz"))
        )
        assert learners == 600
        assert db.session.scalar(sa.select(sa.func.count(Enrollment.id))) > 600
        assert db.session.scalar(sa.select(sa.func.count(Assignment.id))) > 5
        report = verify_chain(app.config["RECORDS_KEY"])
        assert report.records > 100 and report.problems == []
        statement = db.session.scalar(sa.select(Statement.data).limit(1))
        assert xapi.validate_statement(statement) == []
        assert db.session.scalar(sa.select(sa.func.count(Statement.seq))) == report.records
        # the figures add up: every learner has the first course (assigned to everyone)
        root = db.session.scalar(
            sa.select(queries.OrgUnit).where(queries.OrgUnit.name == "Scale Republic")
        )
        first_course = db.session.scalar(
            sa.select(CompletionRecord.course_id).order_by(CompletionRecord.course_id)
        )
        figures = queries.dashboard_figures(queries.Scope(None), root, first_course)
        assert figures.total == 601  # the learners and the HR user at the root
        assert figures.totals["overdue"] > 0 and figures.totals["completed"] > 0
        # the dashboard's counts (derived without building rows) are the report's own numbers,
        # for several courses, region assignments and courses assigned by name
        for course in (None, first_course):
            counts: dict[int, dict[str, int]] = {}
            filters = queries.ReportFilters(unit_path=root.path, course_id=course)
            for row in queries.iter_report(queries.Scope(root.path), filters):
                by_status = counts.setdefault(row.unit_id, {})
                by_status[row.status] = by_status.get(row.status, 0) + 1
            assert queries.counts_by_unit(queries.Scope(root.path), root.path, course) == counts
        # new rows keep working after the bulk insert (sequences moved on, on PostgreSQL)
        from learning.accounts.services import create_user

        user, _ = create_user("after-seed@example.kz", role="learner", org_path="Scale Republic")
        db.session.commit()
        assert user.id > 600
    again = runner.invoke(args=["demo", "seed", "--learners", "600"])
    assert "already present" in again.output
