"""Quiz attempts: drawing questions, enforcing the rules, grading on the server, recording."""

from __future__ import annotations

import json
import random
import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer

from learning.accounts.services import PageQuery
from learning.content.models import SLUG_LENGTH, Course
from learning.content.parser import QuizSettings
from learning.content.queries import ModuleInfo, RevisionView, revision_view
from learning.db import utcnow, write_block
from learning.extensions import db
from learning.i18n import N_, UserError
from learning.prepared import Prepared, write_transaction
from learning.progress import services as progress
from learning.progress.models import Enrollment, ModuleProgress
from learning.progress.queries import AttemptSummary
from learning.progress.services import EnrollmentState
from learning.quizzes import grading
from learning.quizzes.gift import Question, question_from_dict
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


_ATTEMPT_SUMMARIES = Prepared(
    sa.select(*[QuizAttempt.__table__.c[field] for field in AttemptSummary._fields])
    .where(QuizAttempt.user_id == sa.bindparam("user_id"),
           QuizAttempt.course_id == sa.bindparam("course_id"),
           QuizAttempt.module_slug == sa.bindparam("module_slug"),
           QuizAttempt.cycle == sa.bindparam("cycle"))
    .order_by(QuizAttempt.number)
)


def attempt_summaries(user_id: int, course_id: int, module_slug: str,
                      cycle: int) -> list[AttemptSummary]:
    """The learner's attempts at a quiz as read-only rows (number, token, times, score and
    outcome), for the module page that lists them: a prepared query, no ORM objects."""
    rows = _ATTEMPT_SUMMARIES.all(user_id=user_id, course_id=course_id, module_slug=module_slug,
                                  cycle=cycle)
    return [AttemptSummary._make(row) for row in rows]


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


# --------------------------------------------------------------------------- submission
#
# A submission reads (the enrolment and the attempt in one query), grades in memory, then
# writes in a short block: the claim (one conditional UPDATE carrying the whole grade), the
# module progress (one upsert), the statement and the enrolment. The grading side of a
# revision (settings, questions read into Question objects) is built once per worker.

QUIZ_PLAN_CACHE_SIZE = 128
_DRAWN_KEYS = frozenset({"source_index", "answer_order", "match_options"})  # see draw_questions


@dataclass(frozen=True)
class QuizPlan:
    """What grading one module's quiz (in one revision and language) needs of the revision,
    built once per worker: revisions never change. It keeps only this quiz's share of the
    structure, not the view (a course's structure can be hundreds of KB); for the submit view
    it answers what a RevisionView would (module, modules, is_sequential, required_*)."""

    revision_id: int
    course_slug: str
    info: ModuleInfo
    modules: list[ModuleInfo]
    is_sequential: bool
    required_modules: list[str]
    required_quizzes: list[str]
    settings: QuizSettings
    pool: list[dict]  # the module's questions as stored in the revision
    questions: list[Question | None]  # the pool read once (None: left to the attempt's copy)
    # Each pool question's JSON as the attempts column stores it, without its closing brace:
    # how drawn_questions recognises a drawn copy in the column's text without reading it.
    prefixes: list[str | None]

    def module(self, slug: str) -> ModuleInfo | None:
        return next((m for m in self.modules if m.slug == slug), None)


def quiz_plan(revision_id: int, module_slug: str, language: str) -> QuizPlan | None:
    """The cached plan of the module's quiz, or None when the revision has no such quiz."""
    cache = current_app.extensions.get("kelisim_quiz_plans")
    if cache is None:
        cache = current_app.extensions.setdefault("kelisim_quiz_plans", _PlanCache(QUIZ_PLAN_CACHE_SIZE))
    key = (revision_id, module_slug, language)
    plan = cache.get(key)
    if plan is None:
        view = revision_view(revision_id)
        info = view.module(module_slug)
        if info is None or not info.has_quiz:
            return None
        text, _shown = view.text(module_slug, language)
        pool = text.get("questions") or []
        plan = QuizPlan(
            revision_id=revision_id, course_slug=view.structure.get("slug", ""), info=info,
            modules=list(view.modules), is_sequential=view.is_sequential,
            required_modules=list(view.required_modules), required_quizzes=list(view.required_quizzes),
            settings=settings_for(view, module_slug, language), pool=pool,
            questions=(questions := [_read_question(q) for q in pool]),
            prefixes=_prefixes(pool, questions),
        )
        cache.put(key, plan)
    return plan


class _PlanCache:
    """A small LRU, one per app (that is, per worker)."""

    def __init__(self, size: int):
        self.size = size
        self.items: OrderedDict[tuple, QuizPlan] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple) -> QuizPlan | None:
        with self.lock:
            plan = self.items.get(key)
            if plan is not None:
                self.items.move_to_end(key)
            return plan

    def put(self, key: tuple, plan: QuizPlan) -> None:
        with self.lock:
            self.items[key] = plan
            while len(self.items) > self.size:
                self.items.popitem(last=False)


def _prefixes(pool: list[dict], questions: list[Question | None]) -> list[str | None]:
    serialize = db.engine.dialect._json_serializer or json.dumps  # as the JSON column writes
    out: list[str | None] = []
    for data, question in zip(pool, questions):
        text = serialize(data) if question is not None and isinstance(data, dict) else ""
        out.append(text[:-1] if text.startswith("{") and text.endswith("}") else None)
    return out


def _read_question(data: dict) -> Question | None:
    try:
        return question_from_dict(data)
    except ValueError:
        return None  # an attempt holding it reads (and fails on) its own copy, as before


def attempt_questions(plan: QuizPlan | None, stored: list[dict]) -> list[Question]:
    """The attempt's questions as Question objects, in display order.

    A drawn question is its pool question plus the draw's keys; when it still is exactly
    that, the plan's already-read question is used, otherwise the attempt's own copy is read.
    """
    pool = plan.pool if plan is not None else ()
    out: list[Question] = []
    for data in stored:
        index = data.get("source_index") if isinstance(data, dict) else None
        question = None
        if type(index) is int and 0 <= index < len(pool):
            question = plan.questions[index]
            if question is not None and {k: v for k, v in data.items() if k not in _DRAWN_KEYS} != pool[index]:
                question = None
        out.append(question if question is not None else question_from_dict(data))
    return out


# What draw_questions adds to a pool question, as the JSON column writes it (the answer order
# is not read when grading; match options only from a short list without brackets or escapes).
_DRAWN_TAIL = re.compile(r'"source_index": (0|[1-9]\d{0,8}), '
                         r'"answer_order": \[(?:(?:0|[1-9]\d*)(?:, (?:0|[1-9]\d*))*)?\], '
                         r'"match_options": (\[[^\[\]\\]*\])\}')
_NO_OPTIONS = {"match_options": []}


def drawn_questions(plan: QuizPlan | None, stored: list | str) -> tuple[list, list[Question]]:
    """The attempt's questions as drawn and as Question objects (attempt_questions).

    `stored` is the attempt's column, parsed or its JSON text as written. The text is not
    parsed when every question in it is exactly the JSON of its pool question followed by the
    draw's keys: the plan's questions are used, with only their match options (what
    parse_responses reads of the drawn copy). Anything else is parsed and read as before.
    """
    if isinstance(stored, str):
        fast = _drawn_from_text(plan, stored) if plan is not None else None
        if fast is not None:
            return fast
        stored = json.loads(stored)
    return stored, attempt_questions(plan, stored)


def _drawn_from_text(plan: QuizPlan, text: str) -> tuple[list, list[Question]] | None:
    prefixes, pool_questions = plan.prefixes, plan.questions
    drawn: list[dict] = []
    questions: list[Question] = []
    pos, end = 1, len(text) - 1
    if not (text.startswith("[") and text.endswith("]")) or end == pos:
        return None
    while True:
        tail = text.find(', "source_index": ', pos)
        if tail < 0:
            return None
        match = _DRAWN_TAIL.match(text, tail + 2)
        if match is None:
            return None
        index = int(match.group(1))
        prefix = prefixes[index] if index < len(prefixes) else None
        if prefix is None or tail - pos != len(prefix) or not text.startswith(prefix, pos):
            return None
        options = match.group(2)
        drawn.append(_NO_OPTIONS if options == "[]" else {"match_options": json.loads(options)})
        questions.append(pool_questions[index])
        pos = match.end()
        if pos == end:
            return drawn, questions
        if not text.startswith(", ", pos):
            return None
        pos += 2


_TRUE_FALSE = {"true": True, "false": False}


def parse_responses(stored: list[dict], questions: list[Question], form) -> dict[int, object]:
    """Read the submitted form against the attempt's questions; QuizError on anything foreign.

    `stored` is the attempt's questions as drawn, `questions` the same read (attempt_questions).
    """
    allowed = {"csrf_token", "attempt", "submit"}
    for i, question in enumerate(questions):
        allowed.add(f"q{i}")
        if question.type == "matching":
            allowed.update(f"q{i}_{k}" for k in range(len(question.answers)))
    unknown = [key for key in form.keys() if key not in allowed]
    if unknown:
        raise QuizError(N_("The form contains answers to questions that are not in this attempt."))
    responses: dict[int, object] = {}
    for i, question in enumerate(questions):
        if question.type == "description":
            continue
        if question.type == "matching":
            fields = [form.getlist(f"q{i}_{k}") for k in range(len(question.answers))]
            if any(len(values) > 1 for values in fields):
                raise QuizError(N_("A question was answered twice."))
            chosen = [values[0] if values else "" for values in fields]
            if any(value and value not in stored[i]["match_options"] for value in chosen):
                raise QuizError(N_("An answer is not one of the choices offered."))
            if not any(chosen):
                continue
            try:
                responses[i] = grading.normalise_response(question, chosen)
            except grading.ResponseError as error:
                raise _unreadable(i, question) from error
            continue
        values = form.getlist(f"q{i}")
        if len(values) == 1:  # the usual answer, one choice: what normalise_response makes of it
            value = values[0]
            if question.type in grading.CHOICE_TYPES:
                if len(value) <= 9 and value.isdigit() and value.isascii() and int(value) < len(question.answers):
                    responses[i] = int(value)
                    continue
            elif question.type == "true_false" and value in _TRUE_FALSE:
                responses[i] = _TRUE_FALSE[value]
                continue
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


@dataclass
class Submission:
    """What the submit view read in its one query: the enrolment and the attempt (no ORM)."""

    course_id: int
    enrollment: EnrollmentState
    attempt: AttemptState | None


@dataclass
class AttemptState:
    id: int
    user_id: int
    course_id: int
    revision_id: int
    module_slug: str
    language: str
    token: str
    questions: list | str  # as drawn; on SQLite the column's JSON text (see drawn_questions)
    started_at: datetime
    deadline_at: datetime | None
    submitted_at: datetime | None


_e = Enrollment.__table__
_a = QuizAttempt.__table__
_SUBMISSION = (
    sa.select(
        Course.__table__.c.id.label("course_id"),
        _e.c.id.label("enrollment_id"), _e.c.revision_id.label("enrollment_revision_id"),
        _e.c.cycle, _e.c.completed_at, _e.c.percent_complete, _e.c.last_module_slug,
        _a.c.id.label("attempt_id"), _a.c.user_id.label("attempt_user_id"),
        _a.c.course_id.label("attempt_course_id"), _a.c.revision_id.label("attempt_revision_id"),
        _a.c.module_slug, _a.c.language, _a.c.token, _a.c.questions, _a.c.started_at,
        _a.c.deadline_at, _a.c.submitted_at,
    )
    .select_from(
        Course.__table__
        .join(_e, sa.and_(_e.c.course_id == Course.__table__.c.id, _e.c.user_id == sa.bindparam("user_id")))
        .outerjoin(_a, _a.c.token == sa.bindparam("token"))
    )
    .where(Course.__table__.c.slug == sa.bindparam("slug"), Course.__table__.c.current_revision_id.is_not(None))
)


def _submission_query(dialect: str) -> sa.Select:
    # The questions as the column's text (as written: PostgreSQL's json, SQLite's text), read
    # only when they are not the plan's (drawn_questions).
    if dialect == "sqlite":
        text = sa.type_coerce(_a.c.questions, sa.UnicodeText()).label("questions")
    else:
        text = sa.cast(_a.c.questions, sa.UnicodeText()).label("questions")
    return _SUBMISSION.with_only_columns(
        *(text if column.key == "questions" else column for column in _SUBMISSION.selected_columns),
        maintain_column_froms=True,
    )


_LOAD_SUBMISSION = Prepared(_submission_query)
# The submission's rows, read with the session user (learning.accounts.services.PageQuery).
SUBMISSION_PAGE = PageQuery(
    _submission_query,
    lambda args: ({"slug": args["course_slug"], "token": args.get("token", "")[:64]}
                  if len(args.get("course_slug", "")) <= SLUG_LENGTH else None),
)


def load_submission(user, course_slug: str, token: str) -> Submission | None:
    """The learner's enrolment in the course and the attempt with `token` (if any), in one
    query; None when the course is unknown or the learner is not enrolled. A prepared query on
    the request's own connection (learning.prepared), not the Session's, read with the session
    user when the submit view loaded it."""
    if len(course_slug) > SLUG_LENGTH:
        return None
    rows = SUBMISSION_PAGE.rows(slug=course_slug, token=token[:64], user_id=user.id)
    if rows is not None:
        row = rows[0] if rows else None
    else:
        row = _LOAD_SUBMISSION.first(user_id=user.id, token=token[:64], slug=course_slug)
    if row is None:
        return None
    enrollment = EnrollmentState(row.enrollment_id, user.id, row.course_id, row.enrollment_revision_id,
                                 row.cycle, row.completed_at, row.percent_complete, row.last_module_slug)
    attempt = None
    if row.attempt_id is not None:
        attempt = AttemptState(row.attempt_id, row.attempt_user_id, row.attempt_course_id,
                               row.attempt_revision_id, row.module_slug, row.language, row.token,
                               row.questions, row.started_at, row.deadline_at, row.submitted_at)
    return Submission(row.course_id, enrollment, attempt)


@dataclass
class Graded:
    submitted_at: datetime
    responses: dict[str, object]
    results: list[dict]
    score: float
    has_pending: bool
    is_passed: bool


def grade_submission(user, plan: QuizPlan | None, attempt: AttemptState, form) -> Graded | None:
    """Check and grade a submission in memory. None for a replay (the attempt is already
    submitted: nothing to do); QuizError for a form that does not fit the attempt."""
    if attempt.user_id != user.id:
        raise PermissionError("not your attempt")
    if attempt.submitted_at is not None:
        return None
    if form.get("attempt") != attempt.token:
        raise QuizError(N_("This form does not belong to this attempt."))
    stored, questions = drawn_questions(plan, attempt.questions)
    responses = parse_responses(stored, questions, form)
    now = utcnow()
    submitted_at = now
    if attempt.deadline_at is not None and now > attempt.deadline_at:
        submitted_at = attempt.deadline_at
        if now > attempt.deadline_at + LATE_GRACE:
            responses = {}  # answers sent after the deadline do not count
    try:
        result = grading.grade(questions, responses)
    except grading.ResponseError as error:
        raise QuizError(N_("Your answers could not be graded. Please try again.")) from error
    settings = plan.settings if plan is not None else QuizSettings()
    score = round(result.score_percent, 2)
    return Graded(
        submitted_at=submitted_at,
        responses={str(k): v if type(v) in _AS_IS else _jsonable(v) for k, v in responses.items()},
        results=[{"score": r.score, "is_correct": r.is_correct, "is_pending": r.is_pending,
                  "feedback": r.feedback} for r in result.results],
        score=score,
        has_pending=result.has_pending,
        is_passed=(not result.has_pending) and score >= settings.passing_score,
    )


_CLAIM = (
    sa.update(_a)
    .where(_a.c.id == sa.bindparam("attempt_id"), _a.c.submitted_at.is_(None))
    .values(submitted_at=sa.bindparam("submitted_at"), responses=sa.bindparam("responses"),
            results=sa.bindparam("results"), score=sa.bindparam("score"),
            is_passed=sa.bindparam("is_passed"), has_pending=sa.bindparam("has_pending"))
)
# The claim on the request's prepared connection: the claimed row's id comes back, none when lost.
_PREPARED_CLAIM = Prepared(_CLAIM.returning(_a.c.id))


def _claim_and_record(dialect: str) -> sa.Insert:
    """PostgreSQL: the claim, the module's progress and the passed/failed statement in one
    statement (data-modifying CTEs, one round trip instead of three); the progress row comes
    back as prepared_quiz_attempt returns it, nothing when the claim is lost (and then nothing
    is written)."""
    from learning.progress.models import Statement
    from learning.progress.statements import COLUMNS

    if dialect != "postgresql":
        raise ValueError("data-modifying CTEs are PostgreSQL's")
    claim = _CLAIM.returning(_a.c.id).cte("claim")
    statements = Statement.__table__
    recorded = sa.insert(statements).from_select(
        list(COLUMNS),
        progress.select_values(statements, {name: sa.bindparam(name, type_=statements.c[name].type)
                                            for name in COLUMNS}).select_from(claim),
    ).cte("recorded")
    return progress.quiz_upsert_with(claim).add_cte(recorded)


_PREPARED_CLAIM_AND_RECORD = Prepared(_claim_and_record)


def store_submission(user, enrollment: EnrollmentState, plan: QuizPlan, attempt: AttemptState,
                     graded: Graded) -> bool:
    """Write a graded submission, all of it in one short transaction (committed here). Returns
    False (having written nothing) when another request submitted the attempt first: the claim,
    a conditional UPDATE, lets only one through.

    Prepared statements on the request's own connection (learning.prepared.write_transaction):
    on PostgreSQL the claim, the progress and the statement are one (_claim_and_record). A
    submission that completes the course is rolled back there and written through the Session
    instead (store_submission_in_session), as every completion is.
    """
    claim = {"attempt_id": attempt.id, "submitted_at": graded.submitted_at,
             "responses": graded.responses, "results": graded.results, "score": graded.score,
             "is_passed": graded.is_passed, "has_pending": graded.has_pending}
    try:
        with write_transaction():
            if not graded.has_pending and db.engine.dialect.name == "postgresql":
                from learning.progress.statements import statement_values

                # Parameters of the same name are the same value (the score, the user).
                row = _PREPARED_CLAIM_AND_RECORD.first(**{
                    **claim,
                    **progress.quiz_attempt_values(user.id, enrollment, attempt.module_slug,
                                                   score=graded.score, passed=graded.is_passed),
                    **statement_values(user, **_outcome_statement(plan, attempt, graded)),
                })
                if row is None:
                    return False
                progress.prepared_course_after_quiz(user.id, enrollment, plan,
                                                    attempt.module_slug, row)
                return True
            if _PREPARED_CLAIM.first(**claim) is None:
                return False
            _record_outcome(user, enrollment, plan, attempt, graded, prepared=True)
        return True
    except progress.CompletionDue:
        pass
    with write_block(db.session):
        return store_submission_in_session(user, enrollment, plan, attempt, graded)


def store_submission_in_session(user, enrollment: EnrollmentState, plan: QuizPlan,
                                attempt: AttemptState, graded: Graded) -> bool:
    """store_submission through the Session, in the caller's transaction (the caller commits)."""
    connection = db.session.connection()
    claimed = connection.execute(_CLAIM, {
        "attempt_id": attempt.id, "submitted_at": graded.submitted_at, "responses": graded.responses,
        "results": graded.results, "score": graded.score, "is_passed": graded.is_passed,
        "has_pending": graded.has_pending,
    }).rowcount
    if claimed != 1:
        return False
    _record_outcome(user, enrollment, plan, attempt, graded)
    return True


def submit_attempt(user, enrollment: EnrollmentState, plan: QuizPlan, attempt: AttemptState,
                   form) -> bool:
    """Grade and store one submission (reads and writes in the caller's transaction).
    Returns whether it was graded now; a replay or a lost race grades nothing."""
    graded = grade_submission(user, plan, attempt, form)
    return graded is not None and store_submission_in_session(user, enrollment, plan, attempt, graded)


_AS_IS = frozenset({int, bool, str, float, list})  # what _jsonable returns unchanged


def _jsonable(value):
    if isinstance(value, set):
        return sorted(value)
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items()}
    return value


def _record_outcome(user, enrollment: EnrollmentState, plan: QuizPlan, attempt: AttemptState,
                    graded: Graded, *, prepared: bool = False) -> None:
    """Update the module's progress, write the statement, and complete the course if due.
    `prepared`: with prepared statements in a write_transaction, raising CompletionDue instead
    of completing the course."""
    from learning.progress.statements import insert_statement, write_statement

    slug = attempt.module_slug
    if prepared:
        row = progress.prepared_quiz_attempt(user.id, enrollment, slug, score=graded.score,
                                             passed=graded.is_passed)
    else:
        row = progress.record_quiz_attempt(user, enrollment, slug, score=graded.score,
                                           passed=graded.is_passed)
    if not graded.has_pending:
        (write_statement if prepared else insert_statement)(
            user, **_outcome_statement(plan, attempt, graded))
    if prepared:
        progress.prepared_course_after_quiz(user.id, enrollment, plan, slug, row)
    else:
        progress.refresh_course_after_quiz(user, enrollment, plan, slug, row)


def _outcome_statement(plan: QuizPlan, attempt: AttemptState, graded: Graded) -> dict:
    """The passed/failed statement of a graded attempt (the arguments of statement_values
    after the user)."""
    from learning.progress.xapi import iso_duration

    course, slug = plan.course_slug, attempt.module_slug
    duration = (graded.submitted_at - attempt.started_at).total_seconds()
    return {
        "verb": "passed" if graded.is_passed else "failed",
        "object_path": f"/courses/{course}/{slug}/quiz",
        "object_name": plan.info.titles,
        "result": {"score": {"scaled": round(graded.score / 100, 4), "raw": graded.score,
                             "min": 0, "max": 100},
                   "success": bool(graded.is_passed), "completion": True,
                   "duration": iso_duration(max(0.0, duration))},
        "parent_path": f"/courses/{course}/{slug}",
    }


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
