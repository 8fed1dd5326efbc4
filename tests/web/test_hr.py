"""HR: unit scope, assignments, the learner's assigned courses, dashboard, report, exports,
the person page."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from learning.audit.models import AuditEvent
from learning.extensions import db
from learning.hr.models import Assignment
from learning.hr.queries import local_today
from tests.conftest import csrf_from
from tests.hr_helpers import (
    assign_unit,
    assign_user,
    complete,
    count_queries,
    course_id,
    enroll,
    unit_id,
)

DEPT_A = "Region A/Akimat A/Dept A"
DEPT_B = "Region A/Akimat A/Dept B"  # sibling of Dept A
AKIMAT_A = "Region A/Akimat A"  # parent of both
REGION_B = "Region B/Akimat C/Dept C"


@pytest.fixture
def people(app, make_user, sample_course):
    """One learner in each of four units, each with a started course."""
    ids = {
        "dept_a": make_user("learner", org=DEPT_A, name="Айгерим Dept-A", email="a@example.kz"),
        "dept_b": make_user("learner", org=DEPT_B, name="Bolat Dept-B", email="b@example.kz"),
        "akimat": make_user("learner", org=AKIMAT_A, name="Chingiz Akimat", email="c@example.kz"),
        "region_b": make_user("learner", org=REGION_B, name="Dana Region-B", email="d@example.kz"),
    }
    with app.app_context():
        for user_id, _email in ids.values():
            enroll(user_id)
    return {key: value[0] for key, value in ids.items()}


def report_names(client, query: str = "") -> set[str]:
    response = client.get("/hr/report" + query)
    assert response.status_code == 200, response.get_data(as_text=True)[:1000]
    return set(re.findall(r'href="/hr/people/\d+">([^<]+)</a>', response.get_data(as_text=True)))


# --------------------------------------------------------------------------- the scope matrix

SEES = {
    # viewer: (org of the viewer, people seen)
    "hr_dept_a": ("hr", DEPT_A, {"dept_a"}),
    "hr_akimat": ("hr", AKIMAT_A, {"dept_a", "dept_b", "akimat"}),
    "hr_region_b": ("hr", REGION_B, {"region_b"}),
    "admin": ("admin", "Admin Unit", {"dept_a", "dept_b", "akimat", "region_b"}),
}
NAMES = {
    "dept_a": "Айгерим Dept-A",
    "dept_b": "Bolat Dept-B",
    "akimat": "Chingiz Akimat",
    "region_b": "Dana Region-B",
}


@pytest.mark.parametrize("viewer", list(SEES))
def test_scope_matrix(app, client, login_as, people, viewer):
    """HR see their unit and below, never a sibling's or a parent's people; admins see all."""
    role, org, seen = SEES[viewer]
    login_as(role, org=org, language="en")
    assert report_names(client) == {NAMES[key] for key in seen}
    for key, user_id in people.items():
        expected = 200 if key in seen else 404
        assert client.get(f"/hr/people/{user_id}").status_code == expected, (viewer, key)
    body = client.get("/hr/report.csv").get_data().decode("utf-8-sig")
    assert {row[0] for row in list(csv.reader(io.StringIO(body)))[1:]} == {NAMES[k] for k in seen}
    units = {"dept_a": DEPT_A, "dept_b": DEPT_B, "akimat": AKIMAT_A, "region_b": REGION_B}
    for key, path in units.items():  # each person is alone in their unit
        with app.app_context():
            unit = unit_id(path)
        expected = 200 if key in seen else 400
        assert client.get(f"/hr?unit={unit}").status_code == expected, (viewer, key)
        assert client.get(f"/hr/report?unit={unit}").status_code == expected, (viewer, key)
        assert client.get("/hr?unit=999999").status_code == 400


@pytest.mark.parametrize("role", ["learner", "trainer"])
def test_non_hr_roles_are_refused(client, login_as, people, role):
    login_as(role, language="en")
    for path in (
        "/hr",
        "/hr/report",
        "/hr/report.csv",
        "/hr/report.xlsx",
        "/hr/assignments",
        f"/hr/people/{people['dept_a']}",
    ):
        assert client.get(path).status_code == 403, path


def test_unknown_or_huge_person_id_is_404(client, login_as, people):
    login_as("admin", org="Admin Unit", language="en")
    assert client.get("/hr/people/999999").status_code == 404
    assert client.get("/hr/people/99999999999999999999").status_code == 404


# --------------------------------------------------------------------------- assignments


def post_assignment(client, **data):
    token = csrf_from(client.get("/hr/assignments").get_data(as_text=True))
    return client.post("/hr/assignments", data={"csrf_token": token, **data})


def test_assign_to_unit_covers_sub_units_and_later_joiners(
    app, client, login_as, make_user, people
):
    login_as("hr", org=AKIMAT_A, language="en")
    with app.app_context():
        course, akimat = course_id(), unit_id(AKIMAT_A)
    due = (local_today() + timedelta(days=10)).isoformat()
    response = post_assignment(
        client, course=course, target="unit", unit=akimat, due_on=due, note="Law"
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    joiner, _ = make_user("learner", org="Region A/Akimat A/Dept New", name="Later Joiner")
    with app.app_context():
        assignment = db.session.scalar(sa.select(Assignment))
        assert assignment.org_unit_id == akimat and assignment.due_on.isoformat() == due
        events = db.session.scalars(sa.select(AuditEvent.action)).all()
        assert "assignment.create" in events
    page = client.get("/hr/report?status=not_started").get_data(as_text=True)
    assert "Later Joiner" in page
    assert "Dana Region-B" not in client.get("/hr/report").get_data(as_text=True)
    listing = client.get("/hr/assignments").get_data(as_text=True)
    assert "Akimat A" in listing and "Law" in listing


def test_assign_to_named_people(app, client, login_as, people):
    login_as("hr", org=AKIMAT_A, language="en")
    with app.app_context():
        course = course_id()
    due = (local_today() + timedelta(days=3)).isoformat()
    response = post_assignment(
        client,
        course=course,
        target="people",
        people="A@example.kz\nb@example.kz, a@example.kz",
        due_on=due,
    )
    assert response.status_code == 302
    with app.app_context():
        rows = db.session.scalars(sa.select(Assignment).order_by(Assignment.user_id)).all()
        assert [r.user_id for r in rows] == [people["dept_a"], people["dept_b"]]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"target": "unit", "due_on": "2000-01-01"}, "cannot be in the past"),
        ({"target": "unit", "due_on": "not-a-date"}, "Not a valid date"),
        ({"target": "unit", "due_on": ""}, "Enter a due date"),
        ({"target": "unit", "due_on": "+", "unit": "abc"}, "Not a valid"),
        ({"target": "unit", "unit": "OUTSIDE"}, "Not a valid choice"),
        ({"target": "unit", "course": "999999"}, "Not a valid choice"),
        ({"target": "nobody"}, "Not a valid choice"),
        ({"target": "people", "people": ""}, "Name at least one person"),
        ({"target": "people", "people": "a@example.kz d@example.kz"}, "d@example.kz"),
        ({"target": "people", "people": "ghost@example.kz"}, "ghost@example.kz"),
        ({"target": "people", "people": "x" * 20001}, "Field cannot be longer"),
        (
            {"target": "unit", "due_on": (date.today() + timedelta(days=3000)).isoformat()},
            "within 5 years",
        ),
    ],
)
def test_bad_assignments_are_form_errors_and_write_nothing(
    app, client, login_as, people, data, message
):
    login_as("hr", org=AKIMAT_A, language="en")
    with app.app_context():
        defaults = {
            "course": course_id(),
            "unit": unit_id(DEPT_A),
            "due_on": (local_today() + timedelta(days=5)).isoformat(),
        }
        if data.get("unit") == "OUTSIDE":
            data = {**data, "unit": unit_id(REGION_B)}
    response = post_assignment(client, **{**defaults, **data})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Assignment.id))) == 0
        assert (
            db.session.scalar(
                sa.select(sa.func.count(AuditEvent.id)).where(
                    AuditEvent.action.like("assignment.%")
                )
            )
            == 0
        )


def test_duplicate_assignment_is_refused(app, client, login_as, people):
    login_as("hr", org=AKIMAT_A, language="en")
    with app.app_context():
        data = {
            "course": course_id(),
            "unit": unit_id(DEPT_A),
            "target": "unit",
            "due_on": (local_today() + timedelta(days=5)).isoformat(),
        }
    assert post_assignment(client, **data).status_code == 302
    response = post_assignment(client, **data)
    assert response.status_code == 400 and "already assigned" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Assignment.id))) == 1


def test_the_database_refuses_a_second_active_assignment(app, people):
    from learning.hr import services

    with app.app_context():
        assign_unit(DEPT_A)
        # Skip the service's friendly pre-check to reach the unique index, as a race would.
        db.session.add(
            Assignment(
                course_id=course_id(),
                org_unit_id=unit_id(DEPT_A),
                due_on=local_today() + timedelta(days=2),
            )
        )
        with pytest.raises(services.AssignmentError):
            services._flush_assignments()
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(Assignment.id))) == 1


def test_cancel_assignment(app, client, login_as, people):
    with app.app_context():
        own = assign_unit(DEPT_A)
        other = assign_unit(REGION_B)
    login_as("hr", org=AKIMAT_A, language="en")
    token = csrf_from(client.get("/hr/assignments").get_data(as_text=True))
    assert (
        client.post(f"/hr/assignments/{other}/cancel", data={"csrf_token": token}).status_code
        == 404
    )
    assert client.post(f"/hr/assignments/{own}/cancel", data={}).status_code == 400  # no CSRF token
    response = client.post(f"/hr/assignments/{own}/cancel", data={"csrf_token": token})
    assert response.status_code == 302
    response = client.post(
        f"/hr/assignments/{own}/cancel", data={"csrf_token": token}, follow_redirects=True
    )
    assert "already cancelled" in response.get_data(as_text=True)
    with app.app_context():
        cancelled = db.session.get(Assignment, own)
        assert cancelled.cancelled_at is not None and cancelled.cancelled_by_id is not None
        assert db.session.get(Assignment, other).cancelled_at is None
        actions = db.session.scalars(sa.select(AuditEvent.action)).all()
        assert actions.count("assignment.cancel") == 1
    assert (
        client.post("/hr/assignments/99999999999999/cancel", data={"csrf_token": token}).status_code
        == 404
    )


# --------------------------------------------------------------------------- statuses


def test_statuses_in_the_report(app, client, login_as, make_user, sample_course):
    names = ["Done", "Late", "Old", "Pulled", "Busy", "Fresh"]
    ids = {name: make_user("learner", org=DEPT_A, name=name)[0] for name in names}
    admin_id, _ = make_user("admin", org="Admin Unit")
    with app.app_context():
        assign_unit(DEPT_A, due=local_today() + timedelta(days=5))
        assign_user(ids["Late"], due=local_today() - timedelta(days=1))
        complete(ids["Done"], score=88)
        enroll(ids["Late"])
        complete(ids["Old"], expired=True)
        complete(ids["Pulled"], revoked_by=admin_id)
        enroll(ids["Busy"])
    login_as("hr", org=AKIMAT_A, language="en")
    expected = {
        "Done": "completed",
        "Late": "overdue",
        "Old": "expired",
        "Pulled": "revoked",
        "Busy": "in_progress",
        "Fresh": "not_started",
    }
    for name, status in expected.items():
        assert report_names(client, f"?status={status}") == {name}, status
    dashboard = client.get("/hr").get_data(as_text=True)
    assert "<svg" in dashboard and "Completion rate per unit" in dashboard
    assert "Score distribution" in dashboard and "Completions per month" in dashboard
    # due-date range and name filters; the earliest due date wins when two assignments overlap
    late_due = (local_today() - timedelta(days=1)).isoformat()
    assert report_names(client, f"?due_from={late_due}&due_to={late_due}") == {"Late"}
    assert report_names(client, "?name=ONE") == {"Done"}
    # sorting
    page = client.get("/hr/report?sort=score&order=desc").get_data(as_text=True)
    assert page.index(">Done<") < page.index(">Fresh<")


def test_name_filter_ignores_case_in_cyrillic(client, login_as, people):
    login_as("hr", org=AKIMAT_A, language="en")
    assert report_names(client, "?name=айгерим") == {"Айгерим Dept-A"}
    assert report_names(client, "?name=%25") == set()  # LIKE wildcards are literal
    assert report_names(client, "?name=_") == set()


@pytest.mark.parametrize(
    "query",
    [
        "?status=bogus",
        "?sort=password",
        "?order=sideways",
        "?page=0",
        "?page=abc",
        "?page=99999999999",
        "?per_page=7",
        "?unit=abc",
        "?unit=999999",
        "?course=-1",
        "?due_from=2026-13-01",
        "?due_from=2026-05-02&due_to=2026-05-01",
        "?name=" + "x" * 201,
    ],
)
def test_bad_report_filters_are_form_errors(client, login_as, people, query):
    login_as("hr", org=AKIMAT_A, language="en")
    for path in ("/hr/report", "/hr/report.csv", "/hr/report.xlsx"):
        response = client.get(path + query)
        assert response.status_code == 400, (path, query)
        assert 'class="error"' in response.get_data(as_text=True)


def test_report_filters_survive_paging_links(client, login_as, make_user, sample_course, app):
    for i in range(7):
        make_user("learner", org=DEPT_A, name=f"Person {i}")
    with app.app_context():
        assign_unit(DEPT_A)
    login_as("hr", org=DEPT_A, language="en")
    page = client.get("/hr/report?per_page=25&name=Person&_external=1&_scheme=javascript").get_data(
        as_text=True
    )
    links = re.findall(r'href="([^"]*(?:report|page)[^"]*)"', page)
    assert links and not [link for link in links if "javascript" in link or "_external" in link]
    assert "/hr/report.csv?name=Person&amp;per_page=25" in page


# --------------------------------------------------------------------------- one query per page


def test_report_page_is_one_select_whatever_its_size(
    app, client, login_as, make_user, sample_course
):
    login_as("hr", org=AKIMAT_A, language="en")
    with app.app_context():
        assign_unit(AKIMAT_A)
        engine = db.engine

    def report_queries() -> list[str]:
        with count_queries(engine) as statements:
            response = client.get("/hr/report?per_page=100")
            assert response.status_code == 200
        return [s for s in statements if "enrollments" in s]

    make_user("learner", org=DEPT_A, name="First")
    small = report_queries()
    for i in range(30):
        user_id, _ = make_user("learner", org=DEPT_A if i % 2 else DEPT_B, name=f"More {i}")
        with app.app_context():
            if i % 3 == 0:
                complete(user_id)
    with count_queries(engine) as everything:
        client.get("/hr/report?per_page=100")
    large = report_queries()
    assert len(small) == 1 and len(large) == 1, large
    assert large[0].lstrip().upper().startswith("SELECT")
    assert len(everything) <= 6, everything  # login, scope units, courses, the page


# --------------------------------------------------------------------------- exports


def test_csv_export_has_bom_and_neutralises_formulas(
    app, client, login_as, make_user, sample_course
):
    evil, _ = make_user("learner", org=DEPT_A, name='=HYPERLINK("http://evil")')
    plus, _ = make_user("learner", org=DEPT_A, name="+7 701 000")
    with app.app_context():
        complete(evil, score=75)
        enroll(plus)
    login_as("hr", org=DEPT_A, language="en")
    response = client.get("/hr/report.csv?sort=name")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    names = [row[0] for row in rows[1:]]
    assert names == ["'+7 701 000", '\'=HYPERLINK("http://evil")']
    assert rows[2][10] == "75.0"  # numbers stay numbers
    with app.app_context():
        assert db.session.scalar(
            sa.select(AuditEvent.action).where(AuditEvent.action == "report.export")
        )


def test_xlsx_export(app, client, login_as, make_user, sample_course):
    from openpyxl import load_workbook

    evil, _ = make_user("learner", org=DEPT_A, name="=1+1\x07")
    other, _ = make_user("learner", org=DEPT_A, name="Әсем Қасымова")
    with app.app_context():
        complete(evil)
        assign_user(other)
    login_as("hr", org=DEPT_A, language="en")
    response = client.get("/hr/report.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.get_data()), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Name"
    assert {row[0] for row in rows[1:]} == {"'=1+1", "Әсем Қасымова"}
    assert {row[4] for row in rows[1:]} == {"Completed", "Not started"}


def test_person_page(app, client, login_as, make_user, sample_course):
    person, _ = make_user("learner", org=DEPT_A, name="Transcript Person")
    with app.app_context():
        record = complete(person, score=91)
        code = record.certificate_code
    login_as("hr", org=AKIMAT_A, language="en")
    page = client.get(f"/hr/people/{person}").get_data(as_text=True)
    assert "Transcript Person" in page
    assert f"/certificates/{code}.pdf" in page and f"/verify/{code}" in page
    assert client.get(f"/certificates/{code}.pdf").status_code == 200


# --------------------------------------------------------------------------- the learner's dashboard


def test_learner_sees_assigned_courses_first_with_due_date(app, client, login_as, sample_course):
    user_id, _ = login_as("learner", org=DEPT_A, language="en")
    assert "Assigned to you" not in client.get("/").get_data(as_text=True)
    with app.app_context():
        assign_unit(AKIMAT_A, due=local_today() - timedelta(days=2))
    page = client.get("/").get_data(as_text=True)
    assert "Assigned to you" in page and "Overdue" in page and "Sample course" in page
    with app.app_context():
        complete(user_id)
    page = client.get("/").get_data(as_text=True)
    assert "Overdue" not in page and "Completed" in page


def test_admin_dashboard_covers_all_units_and_matches_the_report(app, client, login_as, people):
    login_as("admin", org="Admin Unit", language="en")
    page = client.get("/hr").get_data(as_text=True)
    assert "All units" in page
    assert "Region A" in page and "Region B" in page  # the top-level units are the bars
    with app.app_context():
        from learning.hr import queries

        figures = queries.dashboard_figures(queries.Scope(None), None, None)
        rows, _more = queries.report_page(
            queries.Scope(None), queries.ReportFilters(), page=1, per_page=100
        )
    assert figures.total == len(rows) == 4
    assert figures.totals["in_progress"] == sum(r.status == "in_progress" for r in rows)
    units = {unit.name: total for unit, _counts, total in figures.by_unit if total}
    assert units == {"Region A": 3, "Region B": 1}


# --------------------------------------------------------------------------- counts = report


def report_counts(scope, unit_path=None, course=None):
    """Status counts per unit from the report's own rows: what counts_by_unit must give."""
    from learning.hr import queries

    counts: dict[int, dict[str, int]] = {}
    filters = queries.ReportFilters(unit_path=unit_path, course_id=course)
    for row in queries.iter_report(scope, filters):
        by_status = counts.setdefault(row.unit_id, {})
        by_status[row.status] = by_status.get(row.status, 0) + 1
    return counts


def test_dashboard_counts_equal_the_report_rows(app, make_user, sample_course):
    """counts_by_unit counts without building the rows: every case of the row set and its
    statuses (unit and parent-unit due dates, overdue or not, courses assigned by name earlier
    or later than the unit's, with or without an enrolment, records valid / expired / revoked,
    a recertification in progress, an inactive person) gives the report's own numbers."""
    from learning.accounts.models import User
    from learning.hr import queries
    from learning.progress.models import Enrollment

    region_c = "Region B/Akimat C"
    people = {}
    for org, names in {
        DEPT_A: ["a_done", "a_late", "a_busy", "a_fresh", "a_own_early", "a_own_enrolled"],
        DEPT_B: ["b_done", "b_old", "b_pulled", "b_fresh", "b_recert", "b_gone"],
        AKIMAT_A: ["k_busy", "k_fresh"],
        REGION_B: ["c_own", "c_busy", "c_done", "c_own_done"],
        region_c: ["r_fresh"],
    }.items():
        for name in names:
            people[name] = make_user("learner", org=org, name=name)[0]
    admin_id, _ = make_user("admin", org="Admin Unit")
    today = local_today()
    with app.app_context():
        assign_unit(AKIMAT_A, due=today + timedelta(days=20))  # pending, for A, B and the akimat
        assign_unit(DEPT_A, due=today - timedelta(days=2))  # overdue, earlier: wins in Dept A
        assign_unit(region_c, due=today - timedelta(days=1))  # overdue, Dept C is not below it
        assign_user(people["a_own_early"], due=today - timedelta(days=9))
        assign_user(people["a_own_enrolled"], due=today + timedelta(days=90))
        assign_user(people["b_fresh"], due=today - timedelta(days=3))  # earlier than the unit's
        assign_user(people["c_own"], due=today + timedelta(days=3))  # no unit assignment
        assign_user(people["c_own_done"], due=today - timedelta(days=3))
        complete(people["a_done"])
        enroll(people["a_late"])
        enroll(people["a_own_enrolled"])
        complete(people["b_done"])
        complete(people["b_old"], expired=True)
        complete(people["b_pulled"], revoked_by=admin_id)
        complete(people["b_recert"])
        enrollment = db.session.scalar(
            sa.select(Enrollment).where(Enrollment.user_id == people["b_recert"])
        )
        enrollment.cycle, enrollment.completed_at = 2, None  # recertifying: cycle 1 is latest
        complete(people["b_gone"])
        db.session.get(User, people["b_gone"]).is_active_account = False
        enroll(people["k_busy"])
        enroll(people["c_busy"])
        complete(people["c_done"])
        complete(people["c_own_done"], expired=True)
        db.session.commit()

        course = course_id()
        akimat_path = db.session.get(queries.OrgUnit, unit_id(AKIMAT_A)).path
        dept_path = db.session.get(queries.OrgUnit, unit_id(DEPT_A)).path
        cases = [
            (queries.Scope(None), None, None),
            (queries.Scope(None), "/", course),
            (queries.Scope(akimat_path), akimat_path, None),
            (queries.Scope(akimat_path), dept_path, course),
            (queries.Scope(dept_path), dept_path, None),
        ]
        for scope, path, course_filter in cases:
            expected = report_counts(scope, path, course_filter)
            assert queries.counts_by_unit(scope, path, course_filter) == expected, scope
            # A page (people in order, each with their own courses) and the whole report (the
            # grouped person x course pairs) come from two row sets: the same rows.
            filters = queries.ReportFilters(unit_path=path, course_id=course_filter)
            paged, _more = queries.report_page(scope, filters, page=1, per_page=500)
            whole = [queries._to_row(row) for row in queries.iter_report(scope, filters)]
            assert paged == whole, scope
        everything = report_counts(queries.Scope(None))
        statuses = {s for by_status in everything.values() for s in by_status}
        assert statuses == set(queries.STATUSES)  # every status is exercised
        assert sum(sum(v.values()) for v in everything.values()) == 18  # all but b_gone


# --------------------------------------------------------------------------- inherited


def test_assignments_from_a_parent_unit_are_shown_read_only(app, client, login_as, people):
    """An HR of a sub-unit sees the assignments made above it that apply to their people,
    marked as such and without a cancel button; cancelling one anyway is refused (403) and
    changes nothing. Siblings' and other branches' assignments stay hidden (404)."""
    with app.app_context():
        parent = assign_unit(AKIMAT_A, due=local_today() + timedelta(days=7))
        own = assign_unit(DEPT_A, due=local_today() + timedelta(days=8))
        sibling = assign_unit(DEPT_B, due=local_today() + timedelta(days=9))
        other = assign_unit(REGION_B, due=local_today() + timedelta(days=10))
    login_as("hr", org=DEPT_A, language="en")
    page = client.get("/hr/assignments").get_data(as_text=True)
    assert "Region A / Akimat A" in page and "Set by a parent unit" in page
    assert "Region A / Akimat A / Dept A" in page
    assert "Dept B" not in page and "Region B" not in page
    assert f"/hr/assignments/{own}/cancel" in page
    assert f"/hr/assignments/{parent}/cancel" not in page
    token = csrf_from(page)
    response = client.post(f"/hr/assignments/{parent}/cancel", data={"csrf_token": token})
    assert response.status_code == 403
    for hidden in (sibling, other):
        response = client.post(f"/hr/assignments/{hidden}/cancel", data={"csrf_token": token})
        assert response.status_code == 404
    with app.app_context():
        for assignment_id in (parent, sibling, other):
            assert db.session.get(Assignment, assignment_id).cancelled_at is None
        actions = db.session.scalars(sa.select(AuditEvent.action)).all()
        assert actions.count("assignment.cancel") == 0
    # the HR of the akimat owns it: no mark, and may cancel it
    login_as("hr", org=AKIMAT_A, language="en")
    page = client.get("/hr/assignments").get_data(as_text=True)
    assert "Set by a parent unit" not in page and f"/hr/assignments/{parent}/cancel" in page
    token = csrf_from(page)
    response = client.post(f"/hr/assignments/{parent}/cancel", data={"csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Assignment, parent).cancelled_at is not None
