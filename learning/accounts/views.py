"""Login, logout, password change and language choice."""

from __future__ import annotations

import time

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from learning.accounts import services
from learning.accounts.forms import (
    LanguageForm,
    LoginForm,
    LogoutEverywhereForm,
    LogoutForm,
    PasswordForm,
)
from learning.audit.services import record_event
from learning.extensions import db, limiter, login_manager
from learning.security import safe_next_url

bp = Blueprint("accounts", __name__)

SESSION_TOKEN_KEY = "auth_token"


@login_manager.user_loader
def _load_user(user_id: str):
    # Idle and absolute timeouts, kept in the signed cookie (no write per request).
    now = int(time.time())
    idle = current_app.config["SESSION_IDLE_MINUTES"] * 60
    absolute = current_app.config["SESSION_ABSOLUTE_HOURS"] * 3600
    if now - session.get("seen_at", 0) > idle or now - session.get("auth_at", 0) > absolute:
        return None
    if now - session["seen_at"] > 60:
        session["seen_at"] = now
    return services.load_session_user(user_id, session.get(SESSION_TOKEN_KEY))


def _login_account_key() -> str:
    return "login-account:" + services.normalise_email(request.form.get("email", ""))[:254]


def _login_account_address_key() -> str:
    return f"login-pair:{request.remote_addr}:" + services.normalise_email(request.form.get("email", ""))[:254]


# Tiered limits slow guessing progressively: a few tries per account and address each
# minute, more per address (offices share one), and a per-account ceiling that an
# attacker spread over many addresses cannot exceed. Windows are short, so nobody can
# lock a real user out for more than minutes.
@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20 per minute; 200 per hour", methods=["POST"])
@limiter.limit("5 per minute; 20 per 15 minutes", methods=["POST"], key_func=_login_account_address_key)
@limiter.limit("30 per 15 minutes", methods=["POST"], key_func=_login_account_key)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = services.find_user_by_email(form.email.data)
        if services.verify_password(user, form.password.data) and user.is_active:
            chosen_language = session.get("language")
            session.clear()  # a fresh session (and CSRF token) at every login
            if chosen_language in current_app.config["LANGUAGES"]:
                session["language"] = chosen_language
                if user.language is None:  # a choice made on the login page becomes the profile's
                    user.language = chosen_language
            session[SESSION_TOKEN_KEY] = services.start_session(
                user,
                ip_address=request.remote_addr or "",
                user_agent=request.user_agent.string or "",
            )
            session["auth_at"] = session["seen_at"] = int(time.time())
            login_user(user)
            record_event("login.success", user.email, actor=user)
            db.session.commit()
            return redirect(safe_next_url(form.next.data) or url_for("main.dashboard"))
        record_event("login.failure", services.normalise_email(form.email.data), actor=user)
        db.session.commit()
        form.password.errors.append(_("Wrong e-mail or password."))
    return render_template("accounts/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    form = LogoutForm()
    if not form.validate_on_submit():
        abort(400)
    if current_user.is_authenticated:
        services.end_session(session.get(SESSION_TOKEN_KEY))
        db.session.commit()
        logout_user()
    session.clear()
    return redirect(url_for("accounts.login"))


@bp.route("/me/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordForm()
    everywhere = LogoutEverywhereForm(prefix="everywhere")
    if form.validate_on_submit():
        try:
            services.change_password(
                current_user,
                form.current_password.data,
                form.new_password.data,
                keep_token=session.get(SESSION_TOKEN_KEY),
            )
        except services.AccountError as error:
            db.session.rollback()
            form.new_password.errors.append(error.translated())
        else:
            record_event("password.changed", current_user.email)
            db.session.commit()
            flash(_("Your password has been changed. Other sessions have been logged out."), "success")
            return redirect(url_for("main.dashboard"))
    return render_template("accounts/password.html", form=form, everywhere=everywhere)


@bp.route("/me/logout-everywhere", methods=["POST"])
@login_required
def logout_everywhere():
    form = LogoutEverywhereForm(prefix="everywhere")
    if not form.validate_on_submit():
        abort(400)
    count = services.end_other_sessions(current_user, session.get(SESSION_TOKEN_KEY))
    record_event("sessions.revoked", current_user.email, count=count)
    db.session.commit()
    flash(_("You have been logged out on all other devices."), "success")
    return redirect(url_for("accounts.change_password"))


@bp.route("/language", methods=["POST"])
def set_language():
    form = LanguageForm()
    if not form.validate_on_submit():
        abort(400)
    session["language"] = form.language.data
    if current_user.is_authenticated:
        current_user.language = form.language.data
        db.session.commit()
    return redirect(safe_next_url(form.next.data) or url_for("main.dashboard"))
