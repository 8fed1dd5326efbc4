"""HR pages: the dashboard, the report and its exports, a person's page, assignments."""

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
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from learning.audit.services import record_event
from learning.content.queries import RevisionView
from learning.db import write_intent
from learning.extensions import db
from learning.hr import charts, exports, queries, services
from learning.hr.forms import (
    AssignmentForm,
    CancelAssignmentForm,
    DashboardForm,
    ReportForm,
    course_choices,
    status_labels,
    unit_choices,
)
from learning.progress.queries import records_for
from learning.progress.records import record_status
from learning.quizzes.models import QuizAttempt
from learning.security import role_required, safe_next_url, writes_on_get

bp = Blueprint("hr", __name__, url_prefix="/hr")


def _language() -> str:
    return str(get_locale() or "ru")


def _scope() -> queries.Scope:
    return queries.scope_for(current_user)


def _report_form(scope, courses) -> tuple[ReportForm, list]:
    units = queries.units_in_scope(scope)
    form = ReportForm(formdata=request.args)
    form.unit.choices = unit_choices(units, all_label=_("All my units"))
    form.course.choices = course_choices(courses, _language(), all_label=_("All courses"))
    return form, units


def _filters(form: ReportForm, units) -> queries.ReportFilters:
    unit = next((u for u in units if u.id == form.unit.data), None)
    return queries.ReportFilters(
        unit_path=unit.path if unit else None,
        course_id=form.course.data,
        status=form.status.data or None,
        due_from=form.due_from.data,
        due_to=form.due_to.data,
        name=(form.name.data or "").strip(),
        sort=form.sort.data,
        descending=form.order.data == "desc",
    )


@bp.route("")
@role_required("hr", "admin")
def dashboard():
    scope = _scope()
    courses = queries.course_options()
    units = queries.units_in_scope(scope)
    form = DashboardForm(formdata=request.args)
    form.unit.choices = unit_choices(units, all_label=_("All my units"))
    form.course.choices = course_choices(courses, _language(), all_label=_("All courses"))
    if not form.validate():
        return render_template("hr/dashboard.html", form=form, figures=None), 400
    unit = next((u for u in units if u.id == form.unit.data), None)
    if unit is None and scope.path is not None:
        unit = current_user.org_unit
    figures = queries.dashboard_figures(scope, unit, form.course.data)
    return render_template(
        "hr/dashboard.html",
        form=form,
        figures=figures,
        unit=unit,
        charts=_charts(figures),
        labels=status_labels(),
    )


def _charts(figures: queries.DashboardFigures) -> dict[str, str]:
    bars = [
        (
            unit.name,
            (counts.get("completed", 0) * 100 / total) if total else 0.0,
            f"{counts.get('completed', 0)}/{total}",
        )
        for unit, counts, total in figures.by_unit
    ]
    return {
        "units": charts.bar_chart(bars, _("Completion rate per unit")),
        "months": charts.line_chart(figures.by_month, _("Completions per month")),
        "scores": charts.histogram(figures.score_bins, _("Score distribution")),
    }


@bp.route("/report")
@role_required("hr", "admin")
def report():
    scope = _scope()
    courses = queries.course_options()
    form, units = _report_form(scope, courses)
    if not form.validate():
        return render_template("hr/report.html", form=form, rows=None, courses={}), 400
    page = form.page.data or 1
    rows, has_next = queries.report_page(
        scope, _filters(form, units), page=page, per_page=form.per_page.data
    )
    return render_template(
        "hr/report.html",
        form=form,
        rows=rows,
        has_next=has_next,
        page=page,
        courses={c.id: c for c in courses},
        labels=status_labels(),
        language=_language(),
        args=_args_without_page(),
    )


FILTER_FIELDS = (
    "unit",
    "course",
    "status",
    "due_from",
    "due_to",
    "name",
    "sort",
    "order",
    "per_page",
)


def _args_without_page() -> dict[str, str]:
    """The report's filters from the query string (known names only), to rebuild its links."""
    return {key: request.args[key] for key in FILTER_FIELDS if request.args.get(key)}


def _export_header() -> list[str]:
    return [
        _("Name"),
        _("E-mail"),
        _("Unit"),
        _("Course"),
        _("Status"),
        _("Assigned"),
        _("Due date"),
        _("Started"),
        _("Progress, %"),
        _("Completed (UTC+5)"),
        _("Score"),
        _("Quiz attempts"),
        _("Valid until"),
        _("Certificate code"),
    ]


def _export_rows(scope, filters, courses, language):
    """The report's rows as spreadsheet cells (text, numbers, dates in Kazakhstan time)."""
    labels = {key: str(value) for key, value in status_labels().items()}
    titles = {course_id: course.title(language) for course_id, course in courses.items()}
    yes, no = _("yes"), _("no")
    local_tz = queries.LOCAL_TZ

    for row in queries.iter_report(scope, filters):
        enrolled, completed, expires = row.enrolled_at, row.completed_at, row.expires_at
        yield [
            row.name,
            row.email,
            row.unit_name,
            titles.get(row.course_id, row.course_slug),
            labels.get(row.status, row.status),
            yes if row.due_on is not None else no,
            row.due_on,
            enrolled.astimezone(local_tz).date() if enrolled else None,
            row.percent_complete,
            completed.astimezone(local_tz).replace(tzinfo=None) if completed else None,
            row.score,
            row.attempts or 0,
            expires.astimezone(local_tz).date() if expires else None,
            row.certificate_code,
        ]


class _ExportRequest:
    """What an export needs once the filters are valid and the export is in the audit log."""

    def __init__(self, scope, filters, courses, language: str):
        self.scope, self.filters, self.courses, self.language = scope, filters, courses, language


def _start_export(kind: str):
    """Validate the report filters and log the export; returns an _ExportRequest, or the 400
    page to answer with."""
    scope = _scope()
    courses = queries.course_options()
    form, units = _report_form(scope, courses)
    if not form.validate():
        return render_template("hr/report.html", form=form, rows=None, courses={}), 400
    filters = _filters(form, units)
    record_event("report.export", f"hr-report.{kind}", format=kind, filters=_args_without_page())
    db.session.commit()
    return _ExportRequest(scope, filters, courses, _language())


def _download(chunks, kind: str, mimetype: str) -> Response:
    """Stream `chunks` (a generator that reads the database) as an attachment."""

    def generate():
        # The export only reads: its long transaction must not hold SQLite's write lock.
        token = write_intent.set(False)
        try:
            yield from chunks
        finally:
            db.session.rollback()
            try:
                write_intent.reset(token)
            except ValueError:  # iterated in another context; the request's teardown resets it
                pass

    stamp = queries.local_today().isoformat()
    return Response(
        stream_with_context(generate()),
        mimetype=mimetype,
        headers={
            "Content-Disposition": f'attachment; filename="kelisim-report-{stamp}.{kind}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


@bp.route("/report.csv")
@role_required("hr", "admin")
@writes_on_get
def export_csv():
    """The report as CSV, every cell made by the database (the same bytes as stream_csv over
    _export_rows): PostgreSQL writes the CSV itself (COPY), SQLite gives each cell as CSV text
    and Python only joins them (queries.export_statement). Streamed in ~64 KB chunks."""
    export = _start_export("csv")
    if not isinstance(export, _ExportRequest):
        return export
    escape = exports.escape_csv_text
    texts = queries.ExportTexts(
        labels={key: escape(str(value)) for key, value in status_labels().items()},
        titles={course.id: escape(course.title(export.language)) for course in export.courses},
        yes=escape(_("yes")),
        no=escape(_("no")),
    )
    header = _export_header()

    def chunks():
        if db.session.get_bind().dialect.name == "postgresql":
            records = queries.copy_export_csv(export.scope, export.filters, texts)
            yield from exports.stream_csv_records(header, records)
        else:
            lines = queries.iter_export_lines(export.scope, export.filters, texts)
            yield from exports.stream_csv_lines(header, lines)

    return _download(chunks(), "csv", "text/csv")  # Flask adds "; charset=utf-8"


@bp.route("/report.xlsx")
@role_required("hr", "admin")
@writes_on_get
def export_xlsx():
    export = _start_export("xlsx")
    if not isinstance(export, _ExportRequest):
        return export
    course_map = {c.id: c for c in export.courses}
    chunks = exports.stream_xlsx(
        _export_header(),
        _export_rows(export.scope, export.filters, course_map, export.language),
        sheet_title=_("Report"),
        widths=[28, 30, 40, 36, 14, 10, 12, 12, 10, 18, 8, 10, 12, 34],
    )
    return _download(chunks, "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.route("/people/<int:user_id>")
@role_required("hr", "admin")
def person(user_id: int):
    scope = _scope()
    try:
        person = queries.person_in_scope(scope, user_id)
    except queries.OutOfScope:
        abort(404)
    courses = {c.id: c for c in queries.course_options()}
    rows, _more = queries.report_page(
        scope, queries.ReportFilters(user_id=person.id, sort="course"), page=1, per_page=500
    )
    records = [
        (r, rev, c, RevisionView(revision), record_status(r, rev))
        for r, rev, c, revision in records_for(person)
    ]
    attempts = db.session.execute(
        sa.select(
            QuizAttempt.id,
            QuizAttempt.course_id,
            QuizAttempt.module_slug,
            QuizAttempt.cycle,
            QuizAttempt.number,
            QuizAttempt.started_at,
            QuizAttempt.submitted_at,
            QuizAttempt.score,
            QuizAttempt.is_passed,
            QuizAttempt.has_pending,
        )
        .where(QuizAttempt.user_id == person.id)
        .order_by(QuizAttempt.started_at.desc())
        .limit(500)
    ).all()
    return render_template(
        "hr/person.html",
        person=person,
        rows=rows,
        records=records,
        attempts=attempts,
        courses=courses,
        labels=status_labels(),
        language=_language(),
    )


@bp.route("/assignments")
@role_required("hr", "admin")
def assignments():
    scope = _scope()
    form = _assignment_form(scope)
    return _assignments_page(scope, form)


def _assignment_form(scope) -> AssignmentForm:
    form = AssignmentForm()
    form.course.choices = course_choices(
        queries.course_options(include_archived=False), _language(), all_label=_("Choose a course")
    )
    form.unit.choices = unit_choices(queries.units_in_scope(scope), all_label=_("Choose a unit"))
    return form


def _assignments_page(scope, form, status: int = 200):
    show_cancelled = request.args.get("cancelled") == "1"
    items = services.list_assignments(scope, include_cancelled=show_cancelled)
    courses = {c.id: c for c in queries.course_options()}
    return render_template(
        "hr/assignments.html",
        form=form,
        items=items,
        courses=courses,
        cancel_form=CancelAssignmentForm(),
        language=_language(),
        show_cancelled=show_cancelled,
        today=queries.local_today(),
    ), status


@bp.route("/assignments", methods=["POST"])
@role_required("hr", "admin")
def create_assignment():
    scope = _scope()
    form = _assignment_form(scope)
    if not form.validate_on_submit():
        return _assignments_page(scope, form, 400)
    try:
        if form.target.data == "unit":
            created = [
                services.assign_to_unit(
                    current_user,
                    scope,
                    course_id=form.course.data,
                    unit_id=form.unit.data,
                    due_on=form.due_on.data,
                    note=form.note.data or "",
                )
            ]
        else:
            created = services.assign_to_people(
                current_user,
                scope,
                course_id=form.course.data,
                emails=services.parse_emails(form.people.data or ""),
                due_on=form.due_on.data,
                note=form.note.data or "",
            )
    except services.AssignmentError as error:
        db.session.rollback()
        getattr(form, error.field or "course").errors.append(str(error))
        return _assignments_page(scope, form, 400)
    db.session.commit()
    flash(_("Assigned (%(n)d).", n=len(created)), "success")
    return redirect(url_for("hr.assignments"))


@bp.route("/assignments/<int:assignment_id>/cancel", methods=["POST"])
@role_required("hr", "admin")
def cancel_assignment(assignment_id: int):
    scope = _scope()
    form = CancelAssignmentForm()
    if not form.validate_on_submit():
        abort(400)
    assignment = services.assignment_in_scope(scope, assignment_id)
    if assignment is None:
        # Set by a parent unit: shown to this HR, but not theirs to cancel.
        abort(403 if services.inherited_assignment(scope, assignment_id) else 404)
    if services.cancel_assignment(current_user, assignment):
        db.session.commit()
        flash(_("The assignment was cancelled."), "success")
    else:
        flash(_("That assignment was already cancelled."), "error")
    return redirect(safe_next_url(form.next.data) or url_for("hr.assignments"))
