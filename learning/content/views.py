"""The learner's side of courses: catalogue, course page, module page, progress."""

from __future__ import annotations

import mimetypes

from flask import Blueprint, abort, flash, redirect, render_template, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from learning.accounts.services import reads_with_session_user
from learning.content import queries
from learning.content.forms import (
    ActivityForm,
    ReadForm,
    RecertifyForm,
    StartForm,
    SwitchRevisionForm,
)
from learning.content.services import media_path
from learning.db import write_block
from learning.extensions import db
from learning.progress import services as progress
from learning.progress.queries import LESSON_PAGE, course_and_enrollment, lesson_context
from learning.progress.records import record_status
from learning.templating import hole, render_page_shell

bp = Blueprint("content", __name__)

MEDIA_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


def _language() -> str:
    return str(get_locale() or "ru")


def _load_course(slug: str):
    course = queries.course_by_slug(slug)
    if course is None:
        abort(404)
    return course


@bp.route("/courses")
@login_required
def catalogue():
    language = _language()
    courses = [(course, queries.RevisionView(rev)) for course, rev in queries.published_courses()]
    return render_template("content/catalogue.html", courses=courses, language=language)


@bp.route("/courses/<course_slug>")
@login_required
def course(course_slug: str):
    course, enrollment = course_and_enrollment(course_slug, current_user.id)
    if course is None:
        abort(404)
    view = queries.revision_view(enrollment.revision_id if enrollment else course.current_revision_id)
    states = progress.module_states(
        view, progress.progress_snapshot(current_user.id, enrollment) if enrollment else {}
    )
    latest = None
    if enrollment and course.current_revision_id != enrollment.revision_id and not enrollment.completed_at:
        latest = course.current_revision
    record = None
    if enrollment and enrollment.completed_at:
        from learning.progress.queries import latest_record
        record = latest_record(current_user, course)
    status = record_status(*record) if record else None
    next_slug = progress.next_module(view, states)
    anchor = None
    if next_slug and states[next_slug].progress and states[next_slug].progress.position:
        rendered = queries.rendered_html(view.revision.id, next_slug, view.text(next_slug, _language())[1])
        position = states[next_slug].progress.position
        if rendered and 0 < position <= len(rendered.anchors or []):
            anchor = rendered.anchors[position - 1]
    return render_template(
        "content/course.html", course=course, view=view, enrollment=enrollment, states=states,
        language=_language(), next_slug=next_slug, resume_anchor=anchor, latest=latest,
        record=record[0] if record else None, record_state=status,
        start_form=StartForm(), switch_form=SwitchRevisionForm(), recertify_form=RecertifyForm(),
    )


@bp.route("/courses/<course_slug>/start", methods=["POST"])
@login_required
def start(course_slug: str):
    course = _load_course(course_slug)
    if not StartForm().validate_on_submit():
        abort(400)
    enrollment, _created = progress.enroll(current_user, course)
    view = queries.revision_view(enrollment.revision_id)
    states = progress.module_states(view, progress.module_progress(current_user, enrollment))
    db.session.commit()
    target = progress.next_module(view, states) or view.modules[0].slug
    return redirect(url_for("content.module", course_slug=course.slug, module_slug=target))


@bp.route("/courses/<course_slug>/switch", methods=["POST"])
@login_required
def switch_revision(course_slug: str):
    course = _load_course(course_slug)
    enrollment = progress.find_enrollment(current_user, course)
    if not SwitchRevisionForm().validate_on_submit() or enrollment is None:
        abort(400)
    progress.switch_to_revision(current_user, enrollment, course.current_revision)
    progress.refresh_course(current_user, enrollment, queries.RevisionView(course.current_revision))
    db.session.commit()
    flash(_("You are now on the newest version of this course."), "success")
    return redirect(url_for("content.course", course_slug=course.slug))


@bp.route("/courses/<course_slug>/recertify", methods=["POST"])
@login_required
def recertify(course_slug: str):
    course = _load_course(course_slug)
    enrollment = progress.find_enrollment(current_user, course)
    if not RecertifyForm().validate_on_submit() or enrollment is None or not enrollment.completed_at:
        abort(400)
    progress.start_recertification(current_user, enrollment, course)
    db.session.commit()
    return redirect(url_for("content.course", course_slug=course.slug))


@bp.route("/courses/<course_slug>/<module_slug>")
@login_required
@reads_with_session_user(LESSON_PAGE)
def module(course_slug: str, module_slug: str):
    # The lesson page is the hottest page: one prepared statement (learning.prepared) for
    # course, enrolment and progress rows, the page from the worker's shells, and the visit
    # written in a short write transaction of its own after the reads.
    user_id = current_user.id
    course, enrollment, rows, attempts = lesson_context(course_slug, user_id, module_slug)
    if course is None:
        abort(404)
    if enrollment is None:
        with write_block(db.session):
            enrollment, _created = progress.enroll(current_user, _load_course(course_slug))
        rows, attempts = progress.progress_snapshot(user_id, enrollment), None
    view = queries.revision_view(enrollment.revision_id)
    info = view.module(module_slug)
    if info is None:
        abort(404)
    states = progress.module_states(view, rows)
    state = states[module_slug]
    language = _language()
    if state.is_locked:
        return render_template("content/locked.html", course=course, view=view, info=info,
                               state=state, language=language), 403
    text, shown_language = view.text(module_slug, language)
    rendered = queries.rendered_html(view.revision.id, module_slug, shown_language)
    if rendered is None:
        abort(404)
    progress.record_lesson_visit(user_id, enrollment, module_slug)
    from learning.quizzes.views import quiz_context

    # The page is kept per revision, module, languages, role and read state, with holes for
    # the reading position and the quiz box (and the layout's per-request parts).
    is_read = bool(state.progress and state.progress.read_at)
    quiz = quiz_context(course, enrollment, view, info, state, attempts, language)
    values = {"position": str(state.progress.position if state.progress else 0), "quiz": ""}
    if quiz:
        # The box is kept too, for the learner's quiz state (attempts, outcome, what is open).
        quiz_key = (view.revision.id, module_slug, quiz["left"], quiz["is_passed"], quiz["best"],
                    tuple(quiz["attempts"]), quiz["open"])
        values["quiz"] = render_page_shell(quiz_key, "quizzes/_quiz.html", {},
                                           interface_language=language, quiz=quiz)
    return render_page_shell(
        (view.revision.id, module_slug, shown_language, is_read), "content/module.html", values,
        interface_language=language,
        course=course, view=view, info=info, text=text, rendered=rendered,
        is_fallback=shown_language != language, shown_language=shown_language, language=language,
        is_read=is_read, position=hole("position"), quiz_box=hole("quiz"),
        next_info=_next_after(view, module_slug),
    )


def _next_after(view, slug):
    slugs = [m.slug for m in view.modules]
    index = slugs.index(slug)
    return view.modules[index + 1] if index + 1 < len(slugs) else None


@bp.route("/courses/<course_slug>/<module_slug>/read", methods=["POST"])
@login_required
def mark_read(course_slug: str, module_slug: str):
    course = _load_course(course_slug)
    enrollment = progress.find_enrollment(current_user, course)
    form = ReadForm()
    if enrollment is None or not form.validate_on_submit():
        abort(400)
    view = queries.revision_view(enrollment.revision_id)
    if view.module(module_slug) is None:
        abort(404)
    rendered = queries.rendered_html(view.revision.id, module_slug, view.text(module_slug, _language())[1])
    try:
        progress.mark_read(current_user, enrollment, view, module_slug,
                           position=form.position.data, sections=rendered.sections)
    except progress.ProgressError as error:
        db.session.rollback()
        abort(400, description=error.translated())
    db.session.commit()
    info = view.module(module_slug)
    if info.has_quiz:
        return redirect(url_for("content.module", course_slug=course.slug, module_slug=module_slug,
                                _anchor="quiz"))
    following = _next_after(view, module_slug)
    if following:
        return redirect(url_for("content.module", course_slug=course.slug, module_slug=following.slug))
    return redirect(url_for("content.course", course_slug=course.slug))


@bp.route("/courses/<course_slug>/<module_slug>/activity", methods=["POST"])
@login_required
def activity(course_slug: str, module_slug: str):
    course = _load_course(course_slug)
    enrollment = progress.find_enrollment(current_user, course)
    form = ActivityForm()
    # Answers to the page script, never shown to anyone: machine-readable English.
    if enrollment is None:
        return {"error": "not enrolled"}, 400
    if not form.validate_on_submit():
        return {"error": "invalid progress report", "fields": form.errors}, 400
    view = queries.revision_view(enrollment.revision_id)
    try:
        row = progress.record_activity(current_user, enrollment, view, module_slug,
                                       seconds=form.seconds.data, position=form.position.data)
    except progress.ProgressError as error:
        db.session.rollback()
        return {"error": str(error)}, 400
    db.session.commit()
    return {"seconds_spent": row.seconds_spent, "position": row.position}


@bp.route("/courses/<course_slug>/media/<path:name>")
@login_required
def media(course_slug: str, name: str):
    course = _load_course(course_slug)
    enrollment = progress.find_enrollment(current_user, course)
    view = queries.revision_view(enrollment.revision_id if enrollment else course.current_revision_id)
    digest = view.structure.get("media_blobs", {}).get(f"media/{name}")
    if digest is None:
        abort(404)
    mimetype = mimetypes.guess_type(name)[0]
    if mimetype not in MEDIA_TYPES:
        abort(404)
    response = send_file(media_path(digest), mimetype=mimetype, max_age=86400, conditional=True)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
