from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SubmitField
from wtforms.validators import InputRequired, NumberRange


class ReadForm(FlaskForm):
    """"I have read this module": a plain POST that works without JavaScript."""

    position = IntegerField(validators=[InputRequired(), NumberRange(min=0, max=10_000)])
    submit = SubmitField(_l("I have read this module"))


class ActivityForm(FlaskForm):
    """Reading-activity ping sent by the page script (also CSRF-protected)."""

    seconds = IntegerField(validators=[InputRequired(), NumberRange(min=0, max=3600)])
    position = IntegerField(validators=[InputRequired(), NumberRange(min=0, max=10_000)])


class StartForm(FlaskForm):
    submit = SubmitField(_l("Start the course"))


class SwitchRevisionForm(FlaskForm):
    submit = SubmitField(_l("Switch to the new version"))


class RecertifyForm(FlaskForm):
    submit = SubmitField(_l("Start recertification"))
