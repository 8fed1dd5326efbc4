"""Quiz attempts: drawing questions, enforcing the rules, grading on the server, recording."""

from __future__ import annotations

import random
import secrets
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer

from learning.content.parser import QuizSettings
from learning.content.queries import RevisionView
from learning.db import utcnow
from learning.extensions import db
from learning.i18n import N_, UserError
from learning.progress import services as progress
from learning.progress.models import ModuleProgress
from learning.quizzes import grading
from learning.quizzes.gift import question_from_dict
from learning.quizzes.models import QuizAttempt

LATE_GRACE = timedelta(seconds=30)  # network and clock slack after the deadline
MAX_TEXT_ANSWER = 10_000


class QuizError(UserError):
    """A quiz action the rules refuse, with a message for the learner (a msgid: see UserError)."""




def settings_for(view: RevisionView, module_slug: str, language: str) -> QuizSettings:
    """The module's effective quiz settings (course settings overridden by its front matter)."""
    module = next(m for m in view.structure["modules"] if m["slug"] == module_slug)
    merged = dict(view.structure.get("quiz") or {})
    merged.update(module.get("quiz") or {})
    known = QuizSettings.__dataclass_fields__
    values = {k: v for k, v in merged.items() if k in known}
    return QuizSettings(**values)


def attempts_for(user, course_id: int, module_slug: str, cycle: int) -> list[QuizAttempt]:
    """The learner's attempts at a quiz, without their (large) questions and answers."""
    return list(db.session.scalars(
        sa.select(QuizAttempt)
        .options(defer(QuizAttempt.questions), defer(QuizAttempt.responses), defer(QuizAttempt.results))
        .where(QuizAttempt.user_id == user.id, QuizAttempt.course_id == course_id,
               QuizAttempt.module_slug == module_slug, QuizAttempt.cycle == cycle)
        .order_by(QuizAttempt.number)
    ))


def open_attempt(attempts: list[QuizAttempt]) -> QuizAttempt | None:
    return next((a for a in attempts if a.submitted_at is None), None)


def attempts_left(settings: QuizSettings, attempts: list[QuizAttempt]) -> int | None:
    if settings.max_attempts is None:
        return None
    return max(0, settings.max_attempts - len(attempts))


def draw_questions(pool: list[dict], settings: QuizSettings, rng: random.Random) -> list[dict]:
    """The questions of one attempt, in display order, each with its answer display order."""
    candidates = [dict(q, source_index=i) for i, q in enumerate(pool) if q["type"] != "description"
                  or not settings.draw]
    if settings.categories:
        candidates = [q for q in candidates if q.get("category") in settings.categories]
    if settings.draw and settings.draw < len(candidates):
        candidates = rng.sample(candidates, settings.draw)
    elif settings.shuffle:
        rng.shuffle(candidates)
    drawn = []
    for question in candidates:
        order = list(range(len(question["answers"])))
        if settings.shuffle and question["type"] in {"multiple_choice", "multiple_response", "missing_word"}:
            rng.shuffle(order)
        matches = sorted({a.get("match") or "" for a in question["answers"]} - {""})
        if question["type"] == "matching":
            rng.shuffle(matches)
        drawn.append({**question, "answer_order": order, "match_options": matches})
    return drawn


def start_attempt(user, enrollment, view: RevisionView, module_slug: str, language: str) -> QuizAttempt:
    """Open a new attempt (or return the open one). Raises QuizError when none is allowed."""
    text, shown_language = view.text(module_slug, language)
    pool = text.get("questions") or []
    if not pool:
        raise QuizError(N_("This module has no quiz."))
    settings = settings_for(view, module_slug, language)
    attempts = attempts_for(user, enrollment.course_id, module_slug, enrollment.cycle)
    current = open_attempt(attempts)
    if current is not None:
        return current
    if attempts_left(settings, attempts) == 0:
        raise QuizError(N_("You have used all your attempts for this quiz."))
    now = utcnow()
    attempt = QuizAttempt(
        user_id=user.id,
        course_id=enrollment.course_id,
        revision_id=enrollment.revision_id,
        module_slug=module_slug,
        cycle=enrollment.cycle,
        number=len(attempts) + 1,
        language=shown_language,
        token=secrets.token_urlsafe(32),
        questions=draw_questions(pool, settings, random.Random(secrets.randbits(64))),
        started_at=now,
        deadline_at=now + timedelta(minutes=settings.time_limit_minutes)
        if settings.time_limit_minutes else None,
    )
    try:
        with db.session.begin_nested():
            db.session.add(attempt)
    except IntegrityError:
        # Two tabs started at once: the other one won; use its attempt.
        existing = open_attempt(attempts_for(user, enrollment.course_id, module_slug, enrollment.cycle))
        if existing is None:
            raise QuizError(N_("Your attempt could not be started. Please try again.")) from None
        return existing
    from learning.progress.statements import record_statement

    slug = view.structure.get("slug", "")
    record_statement(user, "attempted", f"/courses/{slug}/{module_slug}/quiz",
                     {shown_language: text.get("title", module_slug)},
                     parent_path=f"/courses/{slug}/{module_slug}")
    return attempt


def parse_responses(attempt: QuizAttempt, form) -> dict[int, object]:
    """Read the submitted form against the attempt's questions; QuizError on anything foreign."""
    questions = attempt.questions
    allowed = {"csrf_token", "attempt", "submit"}
    for i, question in enumerate(questions):
        allowed.add(f"q{i}")
        if question["type"] == "matching":
            allowed.update(f"q{i}_{k}" for k in range(len(question["answers"])))
    unknown = [key for key in form.keys() if key not in allowed]
    if unknown:
        raise QuizError(N_("The form contains answers to questions that are not in this attempt."))
    responses: dict[int, object] = {}
    for i, question_data in enumerate(questions):
        question = question_from_dict(question_data)
        if question.type == "description":
            continue
        if question.type == "matching":
            fields = [form.getlist(f"q{i}_{k}") for k in range(len(question.answers))]
            if any(len(values) > 1 for values in fields):
                raise QuizError(N_("A question was answered twice."))
            chosen = [values[0] if values else "" for values in fields]
            if any(value and value not in question_data["match_options"] for value in chosen):
                raise QuizError(N_("An answer is not one of the choices offered."))
            if not any(chosen):
                continue
            try:
                responses[i] = grading.normalise_response(question, chosen)
            except grading.ResponseError as error:
                raise _unreadable(i, question) from error
            continue
        values = form.getlist(f"q{i}")
        if any(len(v) > MAX_TEXT_ANSWER for v in values):
            raise QuizError(N_("An answer is too long."))
        if not values or all(v == "" for v in values):
            continue
        try:
            responses[i] = grading.normalise_response(question, values)
        except grading.ResponseError as error:
            raise _unreadable(i, question) from error
    return responses


def _unreadable(index: int, question) -> QuizError:
    """The learner's version of a ResponseError (whose English detail stays in the cause)."""
    if question.type == "numerical":
        return QuizError(N_("The answer to question %(number)d must be a number, such as 12 or 3.5."),
                         number=index + 1)
    return QuizError(N_("The answer to question %(number)d could not be read. Please check it."),
                     number=index + 1)


def submit_attempt(user, enrollment, view: RevisionView, attempt: QuizAttempt, form) -> tuple[QuizAttempt, bool]:
    """Grade and store one submission. Returns (attempt, graded_now); a replay grades nothing."""
    if attempt.user_id != user.id:
        raise PermissionError("not your attempt")
    if attempt.submitted_at is not None:
        return attempt, False
    if form.get("attempt") != attempt.token:
        raise QuizError(N_("This form does not belong to this attempt."))
    responses = parse_responses(attempt, form)
    now = utcnow()
    submitted_at = now
    if attempt.deadline_at is not None and now > attempt.deadline_at:
        submitted_at = attempt.deadline_at
        if now > attempt.deadline_at + LATE_GRACE:
            responses = {}  # answers sent after the deadline do not count
    questions = [question_from_dict(q) for q in attempt.questions]
    try:
        result = grading.grade(questions, responses)
    except grading.ResponseError as error:
        raise QuizError(N_("Your answers could not be graded. Please try again.")) from error
    # Claim the attempt: only one request can turn submitted_at from NULL.
    claimed = db.session.execute(
        sa.update(QuizAttempt)
        .where(QuizAttempt.id == attempt.id, QuizAttempt.submitted_at.is_(None))
        .values(submitted_at=submitted_at)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        db.session.refresh(attempt)
        return attempt, False
    settings = settings_for(view, attempt.module_slug, attempt.language)
    attempt.submitted_at = submitted_at
    attempt.responses = {str(k): _jsonable(v) for k, v in responses.items()}
    attempt.results = [
        {"score": r.score, "is_correct": r.is_correct, "is_pending": r.is_pending, "feedback": r.feedback}
        for r in result.results
    ]
    attempt.score = round(result.score_percent, 2)
    attempt.has_pending = result.has_pending
    attempt.is_passed = (not result.has_pending) and attempt.score >= settings.passing_score
    _record_outcome(user, enrollment, view, attempt)
    return attempt, True


def _jsonable(value):
    if isinstance(value, set):
        return sorted(value)
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items()}
    return value


def _record_outcome(user, enrollment, view: RevisionView, attempt: QuizAttempt) -> None:
    """Update the module's progress, write the statement, and complete the course if due."""
    from learning.progress.statements import record_statement

    progress.record_visit(user, enrollment, attempt.module_slug)
    row = db.session.scalar(
        sa.select(ModuleProgress).where(
            ModuleProgress.user_id == user.id, ModuleProgress.revision_id == enrollment.revision_id,
            ModuleProgress.module_slug == attempt.module_slug, ModuleProgress.cycle == enrollment.cycle,
        )
    )
    row.attempts += 1
    if attempt.score is not None and (row.best_score is None or attempt.score > row.best_score):
        row.best_score = attempt.score
    if attempt.is_passed:
        row.is_quiz_passed = True
    module = view.module(attempt.module_slug)
    progress._refresh_module_status(row, module)
    slug = view.structure.get("slug", "")
    duration = (attempt.submitted_at - attempt.started_at).total_seconds()
    from learning.progress.xapi import iso_duration

    if not attempt.has_pending:
        record_statement(
            user, "passed" if attempt.is_passed else "failed",
            f"/courses/{slug}/{attempt.module_slug}/quiz", module.titles,
            result={"score": {"scaled": round(attempt.score / 100, 4), "raw": attempt.score,
                              "min": 0, "max": 100},
                    "success": bool(attempt.is_passed), "completion": True,
                    "duration": iso_duration(max(0.0, duration))},
            parent_path=f"/courses/{slug}/{attempt.module_slug}",
        )
    progress.refresh_course(user, enrollment, view)


# --------------------------------------------------------------------------- hand grades
# (added for the studio's essay grading; learning.authoring.services.grade_essay calls it)


def stored_responses(attempt: QuizAttempt) -> dict[int, object]:
    """The attempt's stored responses in the shape grading.grade() takes (int keys)."""
    out: dict[int, object] = {}
    for key, value in (attempt.responses or {}).items():
        index = int(key)
        if isinstance(value, dict):  # matching: JSON turned the item indices into strings
            value = {int(k): v for k, v in value.items()}
        out[index] = value
    return out


def regrade_attempt(attempt: QuizAttempt, manual_scores: dict[int, float]) -> None:
    """Grade a submitted attempt again with hand scores (0..1 by question index) for its essays.

    Updates results, score, has_pending and is_passed. When the attempt stops waiting for
    grades its passed/failed statement is written; the module progress (best score, quiz
    passed, status) and the course completion are updated as a graded submission does. A pass
    once recorded is not withdrawn by a lower regrade.
    """
    from learning.accounts.models import User
    from learning.content.models import CourseRevision
    from learning.progress.models import Enrollment
    from learning.progress.statements import record_statement
    from learning.progress.xapi import iso_duration

    questions = [question_from_dict(q) for q in attempt.questions]
    result = grading.grade(questions, stored_responses(attempt), manual_scores)
    view = RevisionView(db.session.get(CourseRevision, attempt.revision_id))
    settings = settings_for(view, attempt.module_slug, attempt.language)
    was_pending = attempt.has_pending
    attempt.results = [
        {"score": r.score, "is_correct": r.is_correct, "is_pending": r.is_pending, "feedback": r.feedback}
        for r in result.results
    ]
    attempt.score = round(result.score_percent, 2)
    attempt.has_pending = result.has_pending
    attempt.is_passed = (not result.has_pending) and attempt.score >= settings.passing_score
    db.session.flush()

    user = db.session.get(User, attempt.user_id)
    row = db.session.scalar(
        sa.select(ModuleProgress).where(
            ModuleProgress.user_id == attempt.user_id, ModuleProgress.revision_id == attempt.revision_id,
            ModuleProgress.module_slug == attempt.module_slug, ModuleProgress.cycle == attempt.cycle,
        )
    )
    if row is not None:
        row.best_score = db.session.scalar(
            sa.select(sa.func.max(QuizAttempt.score)).where(
                QuizAttempt.user_id == attempt.user_id, QuizAttempt.course_id == attempt.course_id,
                QuizAttempt.revision_id == attempt.revision_id, QuizAttempt.cycle == attempt.cycle,
                QuizAttempt.module_slug == attempt.module_slug, QuizAttempt.submitted_at.is_not(None),
            )
        )
        if attempt.is_passed:
            row.is_quiz_passed = True
        module = view.module(attempt.module_slug)
        if module is not None:
            progress._refresh_module_status(row, module)
    slug = view.structure.get("slug", "")
    if was_pending and not attempt.has_pending:
        module = view.module(attempt.module_slug)
        duration = (attempt.submitted_at - attempt.started_at).total_seconds()
        record_statement(
            user, "passed" if attempt.is_passed else "failed",
            f"/courses/{slug}/{attempt.module_slug}/quiz", module.titles if module else {},
            result={"score": {"scaled": round(attempt.score / 100, 4), "raw": attempt.score,
                              "min": 0, "max": 100},
                    "success": bool(attempt.is_passed), "completion": True,
                    "duration": iso_duration(max(0.0, duration))},
            parent_path=f"/courses/{slug}/{attempt.module_slug}",
        )
    enrollment = db.session.scalar(
        sa.select(Enrollment).where(Enrollment.user_id == attempt.user_id,
                                    Enrollment.course_id == attempt.course_id)
    )
    if (enrollment is not None and enrollment.revision_id == attempt.revision_id
            and enrollment.cycle == attempt.cycle):
        progress.refresh_course(user, enrollment, view)
