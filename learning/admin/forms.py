from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SearchField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional


class RevokeForm(FlaskForm):
    reason = TextAreaField(_l("Reason for revocation"), validators=[DataRequired(), Length(min=5, max=500)])
    submit = SubmitField(_l("Revoke this record"))


class RecordSearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    q = SearchField(_l("Certificate code or e-mail"), validators=[Optional(), Length(max=254)])


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    action = StringField(_l("Action"), validators=[Optional(), Length(max=60)])
    actor = StringField(_l("Who (e-mail)"), validators=[Optional(), Length(max=254)])


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=[
        SelectChoice("learner", _l("Learner")), SelectChoice("trainer", _l("Trainer")),
        SelectChoice("hr", _l("HR")), SelectChoice("admin", _l("Administrator")),
    ])
    submit = SubmitField(_l("Change role"))
