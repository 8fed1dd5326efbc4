"""Studio forms (CSRF on every one of them)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DecimalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp, StopValidation

from learning.content.parser import SUPPORTED_LANGUAGES

MAX_FILE_CHARS = 400_000
COURSE_SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,99}$"
MODULE_NAME_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
LANGUAGE_NAMES = {"ru": "Русский", "kk": "Қазақша", "en": "English"}
assert set(LANGUAGE_NAMES) == set(SUPPORTED_LANGUAGES)


def _language_choices() -> list[SelectChoice]:
    return [SelectChoice(code, name, render_kw={"lang": code}) for code, name in LANGUAGE_NAMES.items()]


def no_nul(_form, field) -> None:
    """The database cannot store NUL characters in text (and no real text has them)."""
    if isinstance(field.data, str) and "\x00" in field.data:
        raise StopValidation(_l("The text contains a NUL character; remove it (it is often pasted binary data)."))


class CreateCourseForm(FlaskForm):
    slug = StringField(
        _l("Short name (used in the address)"),
        validators=[InputRequired(), Length(max=100), Regexp(
            COURSE_SLUG_PATTERN,
            message=_l("Use lowercase Latin letters, digits, '-' and '_' (e.g. intercultural-basics)."),
        )],
        description=_l("Lowercase Latin letters, digits and '-', e.g. intercultural-basics. It cannot be changed later."),
    )
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=200), no_nul])
    language = SelectField(_l("Main language"), choices=_language_choices(), default="ru",
                           description=_l("Learners whose language a module lacks see this one."))
    submit = SubmitField(_l("Create the course"))


class NewDraftForm(FlaskForm):
    submit = SubmitField(_l("New draft from the current revision"))


class EditFileForm(FlaskForm):
    """One file of a draft. `version` and `base_hash` say what the editor was opened on."""

    text = TextAreaField(_l("Text"), validators=[Length(max=MAX_FILE_CHARS), no_nul])
    version = HiddenField(validators=[InputRequired(), Regexp(r"^\d{1,9}$")])
    base_hash = HiddenField(validators=[Optional(), Regexp(r"^[0-9a-f]{64}$")])
    preview = SubmitField(_l("Preview"))
    save = SubmitField(_l("Save draft"))


class AddModuleForm(FlaskForm):
    number = IntegerField(_l("Number"), validators=[InputRequired(), NumberRange(min=1, max=9999)],
                          description=_l("Its place in the course: 1, 2, 3…"))
    name = StringField(
        _l("Short name"),
        validators=[InputRequired(), Length(max=80), Regexp(
            MODULE_NAME_PATTERN, message=_l("Use lowercase Latin letters, digits and '-' (e.g. greetings)."),
        )],
        description=_l("Lowercase Latin letters, digits and '-', e.g. greetings. A translation of an "
                       "existing module uses the same number and name."),
    )
    language = SelectField(_l("Language"), choices=_language_choices())
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=200), no_nul])
    submit = SubmitField(_l("Add the module"))


class DeleteFileForm(FlaskForm):
    path = HiddenField(validators=[InputRequired(), Length(max=300)])
    submit = SubmitField(_l("Delete"))


class UploadMediaForm(FlaskForm):
    image = FileField(_l("Image (PNG, JPEG, GIF or WebP)"), validators=[FileRequired(_l("Choose an image file."))])
    media_name = StringField(_l("File name (optional)"), validators=[Optional(), Length(max=80), no_nul],
                       description=_l("Defaults to the uploaded file's name."))
    replace = BooleanField(_l("Replace a file with the same name"))
    submit = SubmitField(_l("Upload"))


class PublishForm(FlaskForm):
    version = HiddenField(validators=[InputRequired(), Regexp(r"^\d{1,9}$")])
    note = StringField(_l("What changed (optional)"), validators=[Optional(), Length(max=500), no_nul])
    replace_newer = BooleanField(_l("Publish even though a newer revision exists"))
    submit = SubmitField(_l("Publish as a new revision"))


class DiscardDraftForm(FlaskForm):
    submit = SubmitField(_l("Discard this draft"))


class ImportForm(FlaskForm):
    archive = FileField(_l("Course zip"), validators=[FileRequired(_l("Choose a zip file."))])
    slug = StringField(
        _l("Course short name (optional)"),
        validators=[Optional(), Length(max=100), Regexp(
            COURSE_SLUG_PATTERN,
            message=_l("Use lowercase Latin letters, digits, '-' and '_' (e.g. intercultural-basics)."),
        )],
        description=_l("Defaults to the folder name inside the zip."),
    )
    mode = RadioField(_l("After the import"), choices=[
        SelectChoice("draft", _l("Create a draft to review")),
        SelectChoice("publish", _l("Publish a new revision now")),
    ], default="draft", validators=[InputRequired()])
    note = StringField(_l("What changed (optional)"), validators=[Optional(), Length(max=500), no_nul])
    submit = SubmitField(_l("Import"))


def _finite(_form, field) -> None:
    if field.data is not None and not field.data.is_finite():
        raise StopValidation(_l("Enter a number from 0 to 100."))


class EssayGradeForm(FlaskForm):
    score = DecimalField(
        _l("Score (0–100%)"), places=None,
        validators=[InputRequired(_l("Enter a number from 0 to 100.")), _finite,
                    NumberRange(min=0, max=100, message=_l("Enter a number from 0 to 100."))],
    )
    comment = TextAreaField(_l("Comment for the learner"), validators=[Optional(), Length(max=5000), no_nul])
    submit = SubmitField(_l("Save the grade"))
