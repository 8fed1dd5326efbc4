"""Taking quizzes: start an attempt, answer it, see the result."""

from __future__ import annotations

from functools import wraps

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_login import current_user, login_required
from flask_wtf.csrf import validate_csrf
from wtforms import ValidationError

from learning.accounts.services import reads_with_session_user
from learning.content import queries
from learning.db import write_intent
from learning.extensions import db
from learning.progress import services as progress
from learning.quizzes import services
from learning.quizzes.forms import StartQuizForm
from learning.quizzes.gift import question_from_dict
from learning.quizzes.models import QuizAttempt

bp = Blueprint("quizzes", __name__)


def quiz_context(course, enrollment, view, info, state, attempts=None,
                 language: str | None = None) -> dict | None:
    """What the module page shows about its quiz (never the answers). `attempts`: the
    learner's attempts at it when the page has read them already; `language`: the interface
    language when the page has it."""
    if not info.has_quiz or enrollment is None:
        return None
    settings = services.settings_for(view, info.slug, language or str(get_locale()))
    if attempts is None:
        attempts = services.attempt_summaries(current_user.id, course.id, info.slug, enrollment.cycle)
    submitted = [a for a in attempts if a.submitted_at is not None]
    return {
        "settings": settings,
        "attempts": submitted,
        "open": services.open_attempt(attempts),
        "left": services.attempts_left(settings, attempts),
        "is_passed": bool(state.progress and state.progress.is_quiz_passed),
        "best": state.progress.best_score if state.progress else None,
        "course": course,
        "info": info,
    }


def _load(course_slug: str, module_slug: str):
    course = queries.course_by_slug(course_slug)
    if course is None:
        abort(404)
    enrollment = progress.find_enrollment(current_user, course)
    if enrollment is None:
        abort(404)
    view = queries.revision_view(enrollment.revision_id)
    info = view.module(module_slug)
    if info is None or not info.has_quiz:
        abort(404)
    states = progress.module_states(view, progress.module_progress(current_user, enrollment))
    if states[module_slug].is_locked:
        abort(403)
    return course, enrollment, view, info


def _attempt(token: str, course, module_slug: str) -> QuizAttempt:
    attempt = db.session.scalar(sa.select(QuizAttempt).where(QuizAttempt.token == token[:64]))
    if attempt is None or attempt.course_id != course.id or attempt.module_slug != module_slug:
        abort(404)
    if attempt.user_id != current_user.id:
        abort(403)
    return attempt


@bp.route("/courses/<course_slug>/<module_slug>/quiz/start", methods=["POST"])
@login_required
def start(course_slug: str, module_slug: str):
    course, enrollment, view, info = _load(course_slug, module_slug)
    if not StartQuizForm().validate_on_submit():
        abort(400)
    try:
        attempt = services.start_attempt(current_user, enrollment, view, module_slug, str(get_locale()))
    except services.QuizError as error:
        db.session.rollback()
        flash(error.translated(), "error")
        return redirect(url_for("content.module", course_slug=course_slug, module_slug=module_slug))
    db.session.commit()
    return redirect(url_for("quizzes.take", course_slug=course_slug, module_slug=module_slug,
                            token=attempt.token))


@bp.route("/courses/<course_slug>/<module_slug>/quiz/<token>", methods=["GET"])
@login_required
def take(course_slug: str, module_slug: str, token: str):
    course, enrollment, view, info = _load(course_slug, module_slug)
    attempt = _attempt(token, course, module_slug)
    if attempt.submitted_at is not None:
        return redirect(url_for("quizzes.result", course_slug=course_slug, module_slug=module_slug,
                                token=token))
    questions = [(i, question_from_dict(q), q) for i, q in enumerate(attempt.questions)]
    return render_template("quizzes/take.html", course=course, view=view, info=info,
                           attempt=attempt, questions=questions, language=str(get_locale()))


def _reads_first(view):
    """The request begins with a read transaction; the view takes the write lock itself, for
    its writes only (learning.db.write_block, learning.prepared.write_transaction), and never
    while it grades."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        token = write_intent.set(False)
        try:
            return view(*args, **kwargs)
        finally:
            write_intent.reset(token)

    return wrapped


@bp.route("/courses/<course_slug>/<module_slug>/quiz/<token>", methods=["POST"])
@_reads_first
@login_required
@reads_with_session_user(services.SUBMISSION_PAGE)
def submit(course_slug: str, module_slug: str, token: str):
    if (request.content_length or 0) > current_app.config["MAX_FORM_BYTES"]:
        abort(413)
    user = current_user._get_current_object()  # the proxy costs a lookup on every use
    # The same checks, in the same order, as _load and _attempt, from one query.
    loaded = services.load_submission(user, course_slug, token)
    if loaded is None:
        abort(404)  # no such course, or not enrolled
    enrollment, attempt = loaded.enrollment, loaded.attempt
    if attempt is not None and (attempt.course_id != loaded.course_id or attempt.module_slug != module_slug):
        attempt = None
    plan = None
    if attempt is not None:
        plan = services.quiz_plan(enrollment.revision_id, module_slug, attempt.language)
    # The cached plan answers for the revision's view (which is loaded only when it is missing).
    outline = plan if plan is not None else queries.revision_view(enrollment.revision_id)
    info = outline.module(module_slug)
    if info is None or not info.has_quiz:
        abort(404)
    if outline.is_sequential:
        states = progress.module_states(outline, progress.progress_snapshot(user.id, enrollment))
        if states[module_slug].is_locked:
            abort(403)
    if attempt is None:
        abort(404)
    if attempt.user_id != user.id:
        abort(403)
    if not g.get("csrf_valid"):  # CSRFProtect has checked it already, unless turned off
        try:
            validate_csrf(request.form.get("csrf_token"))
        except ValidationError:
            abort(400)
    try:
        graded = services.grade_submission(user, plan, attempt, request.form)
    except services.QuizError as error:
        db.session.rollback()
        abort(400, description=error.translated())
    if graded is not None:  # written in a short transaction of its own
        services.store_submission(user, enrollment, plan, attempt, graded)
    return redirect(url_for("quizzes.result", course_slug=course_slug, module_slug=module_slug,
                            token=attempt.token), code=303)


@bp.route("/courses/<course_slug>/<module_slug>/quiz/<token>/result")
@login_required
def result(course_slug: str, module_slug: str, token: str):
    course, enrollment, view, info = _load(course_slug, module_slug)
    attempt = _attempt(token, course, module_slug)
    if attempt.submitted_at is None:
        return redirect(url_for("quizzes.take", course_slug=course_slug, module_slug=module_slug,
                                token=token))
    settings = services.settings_for(view, module_slug, attempt.language)
    attempts = services.attempts_for(current_user, course.id, module_slug, enrollment.cycle)
    reveal = settings.show_answers == "after_submit" or (
        settings.show_answers == "after_pass" and attempt.is_passed
    )
    questions = [(i, question_from_dict(q), q, (attempt.results or [])[i] if attempt.results else None)
                 for i, q in enumerate(attempt.questions)]
    return render_template(
        "quizzes/result.html", course=course, view=view, info=info, attempt=attempt,
        settings=settings, reveal=reveal, questions=questions,
        left=services.attempts_left(settings, attempts), start_form=StartQuizForm(),
        language=str(get_locale()), next_info=_next(view, module_slug),
    )


def _next(view, slug):
    slugs = [m.slug for m in view.modules]
    i = slugs.index(slug)
    return view.modules[i + 1] if i + 1 < len(slugs) else None
