"""HR forms: the dashboard and report filters (GET, no CSRF: they change nothing), the
assignment form and the cancel button (POST, CSRF)."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError

from learning.hr.queries import SORTS, STATUSES, local_today

PER_PAGE_CHOICES = (25, 50, 100)
MAX_PAGE = 100_000


def optional_int(value):
    """'' or None → None; anything else must be an integer (a ValueError becomes a form error)."""
    if value in ("", None):
        return None
    return int(value)


def status_labels() -> dict[str, str]:
    return {
        "completed": _l("Completed"),
        "in_progress": _l("In progress"),
        "not_started": _l("Not started"),
        "overdue": _l("Overdue"),
        "expired": _l("Expired"),
        "revoked": _l("Revoked"),
    }


def sort_labels() -> dict[str, str]:
    return {
        "name": _l("Name"),
        "unit": _l("Unit"),
        "course": _l("Course"),
        "status": _l("Status"),
        "due": _l("Due date"),
        "started": _l("Started"),
        "completed": _l("Completed"),
        "score": _l("Score"),
        "expires": _l("Valid until"),
    }


class GetForm(FlaskForm):
    class Meta:
        csrf = False


def unit_choices(units, *, all_label=None) -> list[SelectChoice]:
    choices = [SelectChoice("", all_label)] if all_label else []
    return choices + [SelectChoice(str(unit.id), unit.full_name) for unit in units]


def course_choices(courses, language: str, *, all_label=None) -> list[SelectChoice]:
    choices = [SelectChoice("", all_label)] if all_label else []
    return choices + [SelectChoice(str(c.id), c.title(language)) for c in courses]


class DashboardForm(GetForm):
    unit = SelectField(_l("Unit (with its sub-units)"), coerce=optional_int, validate_choice=True)
    course = SelectField(_l("Course"), coerce=optional_int, validate_choice=True)
    submit = SubmitField(_l("Show"))


class ReportForm(GetForm):
    unit = SelectField(_l("Unit (with its sub-units)"), coerce=optional_int)
    course = SelectField(_l("Course"), coerce=optional_int)
    status = SelectField(_l("Status"), validators=[Optional()])
    due_from = DateField(_l("Due from"), validators=[Optional()])
    due_to = DateField(_l("Due until"), validators=[Optional()])
    name = StringField(_l("Name or e-mail contains"), validators=[Optional(), Length(max=200)])
    sort = SelectField(_l("Sort by"), default="name")
    order = SelectField(_l("Order"), default="asc")
    per_page = SelectField(
        _l("Rows per page"),
        coerce=int,
        default=50,
        choices=[SelectChoice(str(n)) for n in PER_PAGE_CHOICES],
    )
    page = IntegerField(
        _l("Page"), default=1, validators=[Optional(), NumberRange(min=1, max=MAX_PAGE)]
    )
    submit = SubmitField(_l("Show"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.status.choices = [SelectChoice("", _l("Any status"))] + [
            SelectChoice(value, label) for value, label in status_labels().items()
        ]
        self.sort.choices = [SelectChoice(value, label) for value, label in sort_labels().items()]
        self.order.choices = [
            SelectChoice("asc", _l("Ascending")),
            SelectChoice("desc", _l("Descending")),
        ]

    def validate_due_to(self, field):
        if field.data and self.due_from.data and field.data < self.due_from.data:
            raise ValidationError(_l("The end of the range is before its start."))

    def validate_status(self, field):
        if field.data and field.data not in STATUSES:
            raise ValidationError(_l("Not a valid choice."))

    def validate_sort(self, field):
        if field.data not in SORTS:
            raise ValidationError(_l("Not a valid choice."))


class AssignmentForm(FlaskForm):
    course = SelectField(_l("Course"), coerce=optional_int, validators=[InputRequired()])
    target = RadioField(
        _l("Assign to"),
        default="unit",
        choices=[
            SelectChoice("unit", _l("A unit, with its sub-units and everyone who joins later")),
            SelectChoice("people", _l("Named people")),
        ],
    )
    unit = SelectField(_l("Unit"), coerce=optional_int)
    people = TextAreaField(
        _l("People's e-mail addresses"),
        validators=[Length(max=20_000)],
        description=_l("One per line, or separated by commas."),
    )
    due_on = DateField(_l("Due date"), validators=[InputRequired(message=_l("Enter a due date."))])
    note = StringField(_l("Note (optional)"), validators=[Length(max=500)])
    submit = SubmitField(_l("Assign"))

    def validate_course(self, field):
        if field.data is None:
            raise ValidationError(_l("Choose a course."))

    def validate_due_on(self, field):
        if field.data and field.data < local_today():
            raise ValidationError(_l("The due date cannot be in the past."))
        if field.data and field.data > local_today() + timedelta(days=366 * 5):
            raise ValidationError(_l("The due date must be within 5 years."))

    def validate_unit(self, field):
        if self.target.data == "unit" and field.data is None:
            raise ValidationError(_l("Choose a unit."))

    def validate_people(self, field):
        if self.target.data == "people" and not (field.data or "").strip():
            raise ValidationError(_l("Name at least one person by e-mail."))


class CancelAssignmentForm(FlaskForm):
    next = HiddenField()
    submit = SubmitField(_l("Cancel assignment"))
