from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])
    next = HiddenField()
    submit = SubmitField(_l("Log in"))


class LogoutForm(FlaskForm):
    submit = SubmitField(_l("Log out"))


class LogoutEverywhereForm(FlaskForm):
    submit = SubmitField(_l("Log out on all other devices"))


class PasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(), Length(max=256)]
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(max=256)],
        description=_l("At least 12 characters. A phrase of several words is easy to remember."),
    )
    confirm_password = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords differ."))],
    )
    submit = SubmitField(_l("Change password"))


class LanguageForm(FlaskForm):
    language = SelectField(
        _l("Language"), choices=[SelectChoice("kk", "Қазақша"), SelectChoice("ru", "Русский"), SelectChoice("en", "English")],
    )
    next = HiddenField()
    submit = SubmitField(_l("Change language"))
