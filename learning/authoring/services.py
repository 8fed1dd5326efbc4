"""The trainer studio: courses and drafts, editing, media, publishing, import/export, diffs,
item analysis and essay grading.

Services only flush; the view or command commits once.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from learning.accounts.models import User
from learning.audit.services import record_event
from learning.authoring import analysis
from learning.authoring import files as studio_files
from learning.authoring.models import CourseDraft
from learning.content import parser
from learning.content.models import Course, CourseRevision
from learning.content.queries import RevisionView
from learning.content.render import render_markdown
from learning.content.services import media_path, store_media_blob, store_revision
from learning.db import utcnow
from learning.extensions import db
from learning.quizzes import services as quiz_services
from learning.quizzes.gift import Question, question_from_dict
from learning.quizzes.models import EssayGrade, QuizAttempt
from learning.validation import is_digits

IMPORT_MAX_BYTES = 50 * 1024 * 1024
IMPORT_MAX_FILES = 2000
EDITABLE_SUFFIXES = (".md", ".yaml", ".yml", ".txt")
STARTER_MODULE = {"ru": "Введение", "kk": "Кіріспе", "en": "Introduction"}
STARTER_BODY = {
    "ru": "Напишите здесь текст модуля. Заголовки второго уровня (`## …`) делят его на разделы.",
    "kk": "Модуль мәтінін осында жазыңыз. Екінші деңгейлі тақырыптар (`## …`) оны бөлімдерге бөледі.",
    "en": "Write the module here. Second-level headings (`## …`) divide it into sections.",
}


class AuthoringError(ValueError):
    """An action the studio refuses; every reason is shown to the trainer."""

    def __init__(self, reasons: list[str] | str):
        reasons = [reasons] if isinstance(reasons, str) else list(reasons)
        super().__init__("; ".join(reasons))
        self.reasons = reasons


class DraftConflict(AuthoringError):
    """The file changed in the draft since the editor was opened: nothing was saved."""

    def __init__(self, path: str):
        super().__init__(_("The module changed since you opened it."))
        self.path = path


class NewerRevision(AuthoringError):
    """The course was published after this draft was started."""

    def __init__(self, revision: CourseRevision):
        super().__init__(_(
            "Revision %(number)d was published after this draft was started. Compare them, then "
            "tick the box to publish this draft anyway.", number=revision.number,
        ))
        self.revision = revision


def text_hash(text: str | None) -> str:
    """What an editor was opened on ("" for a file that did not exist)."""
    return "" if text is None else hashlib.sha256(text.encode("utf-8")).hexdigest()


def normalise_text(text: str) -> str:
    return (text or "").replace("\r\n", "\n").replace("\r", "\n")


# --------------------------------------------------------------------------- reading


@dataclass
class RevisionRow:
    id: int
    number: int
    published_at: object
    published_by: str
    source: str
    content_hash: str
    note: str


@dataclass
class CourseSummary:
    course: Course
    title: str
    revisions: list[RevisionRow] = field(default_factory=list)
    drafts: list[CourseDraft] = field(default_factory=list)


def find_course(slug: str) -> Course | None:
    """A course by slug, published or not."""
    if not parser.COURSE_SLUG.fullmatch(slug):
        return None
    return db.session.scalar(sa.select(Course).where(Course.slug == slug))


def revision_rows(course_ids: list[int]) -> dict[int, list[RevisionRow]]:
    """Revisions of the courses, newest first, without their (large) files and structure."""
    rows = db.session.execute(
        sa.select(CourseRevision.id, CourseRevision.course_id, CourseRevision.number,
                  CourseRevision.published_at, CourseRevision.source, CourseRevision.content_hash,
                  CourseRevision.note, User.name)
        .outerjoin(User, User.id == CourseRevision.published_by_id)
        .where(CourseRevision.course_id.in_(course_ids))
        .order_by(CourseRevision.course_id, CourseRevision.number.desc())
    )
    out: dict[int, list[RevisionRow]] = {}
    for row in rows:
        out.setdefault(row.course_id, []).append(RevisionRow(
            row.id, row.number, row.published_at, row.name or "", row.source, row.content_hash, row.note,
        ))  # fmt: skip
    return out


def list_courses(language: str) -> list[CourseSummary]:
    """Every course (published or only drafted) with its revisions and drafts: three queries."""
    courses = list(db.session.scalars(sa.select(Course).order_by(Course.slug)))
    ids = [c.id for c in courses]
    revisions = revision_rows(ids)
    drafts: dict[int, list[CourseDraft]] = {}
    for draft in db.session.scalars(
        sa.select(CourseDraft).where(CourseDraft.course_id.in_(ids)).order_by(CourseDraft.id)
    ):
        drafts.setdefault(draft.course_id, []).append(draft)
    titles = dict(db.session.execute(
        sa.select(Course.id, CourseRevision.structure["title"])
        .join(CourseRevision, CourseRevision.id == Course.current_revision_id)
        .where(Course.id.in_(ids))
    ).all())  # fmt: skip
    out = []
    for course in courses:
        names = titles.get(course.id) or {}
        title = names.get(language) or next(iter(names.values()), "") if isinstance(names, dict) else ""
        out.append(CourseSummary(course, title or course.slug, revisions.get(course.id, []),
                                 drafts.get(course.id, [])))
    return out


def drafts_of(course: Course) -> list[CourseDraft]:
    return list(db.session.scalars(
        sa.select(CourseDraft).where(CourseDraft.course_id == course.id).order_by(CourseDraft.id)
    ))


def find_draft(course: Course, draft_id: int) -> CourseDraft | None:
    draft = db.session.get(CourseDraft, draft_id)
    return draft if draft is not None and draft.course_id == course.id else None


def find_revision(course: Course, number: int) -> CourseRevision | None:
    return db.session.scalar(
        sa.select(CourseRevision).where(CourseRevision.course_id == course.id,
                                        CourseRevision.number == number)
    )


# --------------------------------------------------------------------------- drafts


def _starter_files(title: str, language: str) -> dict[str, str]:
    quoted = json.dumps(title.strip(), ensure_ascii=False)
    course_yaml = (
        f"title: {{{language}: {quoted}}}\n"
        f"# description: {{{language}: \"…\"}}\n"
        f"languages: [{language}]        # the first one is the fallback\n"
        "duration_minutes: 30\n"
        "completion: {modules: all, quizzes: all}\n"
        "quiz: {passing_score: 80, max_attempts: 3, shuffle: true, show_answers: after_pass}\n"
        "validity_months: 24\n"
    )
    return {
        "course.yaml": course_yaml,
        studio_files.module_file_name(1, "introduction", language): _module_text(
            STARTER_MODULE.get(language, "Introduction"), STARTER_BODY.get(language, "")
        ),
    }


def _module_text(title: str, body: str = "") -> str:
    quoted = json.dumps(title.strip(), ensure_ascii=False)
    return f"---\ntitle: {quoted}\nduration_minutes: 10\nobjectives: []\n---\n\n{body}\n"


def _touch(draft: CourseDraft, user) -> None:
    draft.updated_by_id = getattr(user, "id", None)
    draft.updated_at = utcnow()


def _update(draft: CourseDraft, user, conflict_path: str | None = None, **values) -> None:
    """Change the draft and flush: UPDATE … WHERE version = <the version read>. A concurrent
    change makes it match no row: DraftConflict for an edited file, else AuthoringError."""
    user_id = getattr(user, "id", None)
    try:
        for name, value in values.items():
            setattr(draft, name, value)
        draft.updated_by_id = user_id
        draft.updated_at = utcnow()
        db.session.flush()
    except StaleDataError:
        if conflict_path is not None:
            raise DraftConflict(conflict_path) from None
        raise AuthoringError(_("Someone changed this draft at the same moment. Reload and try again.")) from None


def create_course(slug: str, title: str, language: str, user) -> CourseDraft:
    """A new course (not visible to learners until published) with a first draft."""
    if not parser.COURSE_SLUG.fullmatch(slug):
        raise AuthoringError(_("Use lowercase Latin letters, digits, '-' and '_' (e.g. intercultural-basics)."))
    if find_course(slug) is not None:
        raise AuthoringError(_("A course with this short name already exists."))
    if (Path(current_app.config["COURSES_DIR"]) / slug).exists():
        raise AuthoringError(_("The course library already has a folder with this name; sync it or choose another name."))
    course = Course(slug=slug)
    try:
        with db.session.begin_nested():
            db.session.add(course)
    except IntegrityError:
        raise AuthoringError(_("A course with this short name already exists.")) from None
    draft = CourseDraft(course_id=course.id, files=_starter_files(title, language), media={},
                        based_on_revision_id=None, created_by_id=user.id)
    _touch(draft, user)
    db.session.add(draft)
    db.session.flush()
    record_event("course.create", slug, draft=draft.id)
    return draft


def new_draft(course: Course, user) -> CourseDraft:
    """A draft holding the course's current revision."""
    revision = course.current_revision
    if revision is None:
        raise AuthoringError(_("This course has no published revision to start from."))
    draft = CourseDraft(course_id=course.id, files=dict(revision.files),
                        media=dict(revision.structure.get("media_blobs") or {}),
                        based_on_revision_id=revision.id, created_by_id=user.id)
    _touch(draft, user)
    db.session.add(draft)
    db.session.flush()
    return draft


def discard_draft(draft: CourseDraft) -> None:
    db.session.delete(draft)
    db.session.flush()


def is_editable(path: str) -> bool:
    return "/" not in path and path.lower().endswith(EDITABLE_SUFFIXES)


def _parse_files(draft: CourseDraft, override: dict[str, str] | None = None) -> dict[str, bytes]:
    """The draft as the parser's in-memory folder (media as empty placeholders: the parser
    only needs to know they exist)."""
    texts = {**draft.files, **(override or {})}
    out: dict[str, bytes] = {path: text.encode("utf-8") for path, text in texts.items()}
    out.update({path: b"" for path in draft.media})
    return out


def validate_draft(draft: CourseDraft, override: dict[str, str] | None = None):
    """(parsed course or None, every problem) of the draft, with `override` texts applied."""
    return parser.course_from_files(_parse_files(draft, override), draft.course.slug)


def problems_by_file(problems: list[parser.Problem], slug: str) -> dict[str, list[parser.Problem]]:
    out: dict[str, list[parser.Problem]] = {}
    prefix = f"{slug}/"
    for problem in problems:
        path = problem.file[len(prefix):] if problem.file.startswith(prefix) else problem.file
        out.setdefault(path, []).append(problem)
    for items in out.values():
        items.sort(key=lambda p: (p.severity != "error", p.line))
    return out


def save_file(draft: CourseDraft, path: str, text: str, base_hash: str, user) -> bool:
    """Save one file of the draft. Returns whether anything changed.

    Raises DraftConflict when the file changed since the editor was opened on `base_hash`
    (another trainer saved it, or deleted it) — never a silent overwrite. Saves of other
    files of the same draft meanwhile do not conflict.
    """
    text = normalise_text(text)
    current = draft.files.get(path)
    if current is None or text_hash(current) != (base_hash or ""):
        if current != text:
            raise DraftConflict(path)
    if current == text:
        return False
    _update(draft, user, conflict_path=path, files={**draft.files, path: text})
    return True


def add_module(draft: CourseDraft, number: int, name: str, language: str, title: str, user) -> str:
    """Add a module file (or a translation of one) with starter front matter; returns its path."""
    path = studio_files.module_file_name(number, name, language)
    if not parser.MODULE_FILE.fullmatch(path):
        raise AuthoringError(_("Use lowercase Latin letters, digits and '-' (e.g. greetings)."))
    if path in draft.files:
        raise AuthoringError(_("The draft already has the file %(path)s.", path=path))
    _update(draft, user, files={**draft.files, path: _module_text(title, STARTER_BODY.get(language, ""))})
    return path


def delete_file(draft: CourseDraft, path: str, user) -> None:
    if path == "course.yaml":
        raise AuthoringError(_("course.yaml cannot be deleted."))
    if path in draft.files:
        _update(draft, user, files={p: t for p, t in draft.files.items() if p != path})
    elif path in draft.media:
        _update(draft, user, media={p: d for p, d in draft.media.items() if p != path})
    else:
        raise AuthoringError(_("The draft has no file %(path)s.", path=path))


def add_media(draft: CourseDraft, data: bytes, requested_name: str, user, *, replace: bool) -> str:
    """Check an uploaded image by its content and add it to the draft's media/; returns its path."""
    limit = current_app.config["MEDIA_MAX_BYTES"]
    try:
        info = studio_files.check_image(data, limit, _)
    except studio_files.Refused as refused:
        raise AuthoringError(refused.reasons) from None
    path = studio_files.media_name(requested_name, info)
    digest = hashlib.sha256(data).hexdigest()
    if path in draft.media and draft.media[path] != digest and not replace:
        raise AuthoringError(_("The draft already has %(path)s. Choose another name, or tick "
                               "“Replace a file with the same name”.", path=path))
    store_media_blob(data)
    _update(draft, user, media={**draft.media, path: digest})
    return path


def _blobs(media: dict[str, str]) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    missing = []
    for path, digest in media.items():
        try:
            out[path] = media_path(digest).read_bytes()
        except OSError:
            missing.append(path)
    if missing:
        raise AuthoringError([_("%(path)s is missing from the media store; upload it again.", path=p)
                              for p in missing])
    return out


def publish_draft(draft: CourseDraft, user, *, note: str = "", replace_newer: bool = False):
    """Validate the whole draft and store it as a new revision (source "studio").

    Raises CourseInvalid with every problem (nothing is stored), NewerRevision when the course
    was published after the draft was started (unless `replace_newer`), AuthoringError when
    someone published at the same moment. Returns (revision, created).
    """
    course = draft.course
    current = course.current_revision
    if current is not None and current.id != draft.based_on_revision_id and not replace_newer:
        raise NewerRevision(current)
    files = {path: text.encode("utf-8") for path, text in draft.files.items()}
    files.update(_blobs(draft.media))
    try:
        with db.session.begin_nested():
            revision, created = store_revision(course.slug, files, source="studio",
                                               published_by=user, note=note or "")
    except IntegrityError:
        raise AuthoringError(_("Someone published this course at the same moment. Reload and try again.")) from None
    _update(draft, user, based_on_revision_id=revision.id)
    if created:
        record_event("course.publish", course.slug, revision=revision.number,
                     content_hash=revision.content_hash, draft=draft.id)
    return revision, created


# --------------------------------------------------------------------------- preview


@dataclass
class Preview:
    html: str | None  # module body; None for course.yaml and other files
    problems: list[parser.Problem]  # of this file
    other_errors: int  # errors in the draft's other files
    questions: list[Question] = field(default_factory=list)
    course: parser.Course | None = None


def preview_file(draft: CourseDraft, path: str, text: str, *, media_base_url: str,
                 link_base_url: str) -> Preview:
    """Render one file of the draft with `text` by the learner pipeline, with its problems
    (from the draft's full file set)."""
    slug = draft.course.slug
    text = normalise_text(text)
    course_obj, problems = validate_draft(draft, {path: text})
    grouped = problems_by_file(problems, slug)
    mine = grouped.get(path, [])
    others = sum(1 for p, items in grouped.items() if p != path for i in items if i.is_error)
    match = parser.MODULE_FILE.fullmatch(path)
    if not match:
        return Preview(None, mine, others, course=course_obj)
    module_text = _module_text_of(course_obj, path)
    if module_text is None:  # not part of the course (yet): parse it on its own for the preview
        language = match["lang"]
        alone = {"course.yaml": f"title: {{{language}: x}}\nlanguages: [{language}]\n".encode(),
                 path: text.encode("utf-8")}
        alone.update({p: b"" for p in draft.media})
        module_text = _module_text_of(parser.course_from_files(alone, slug)[0], path)
    if module_text is None:
        return Preview("", mine, others, course=course_obj)
    html = render_markdown(module_text.body, media_base_url=media_base_url, link_base_url=link_base_url)
    return Preview(html, mine, others, list(module_text.questions), course_obj)


def _module_text_of(course_obj: parser.Course | None, path: str) -> parser.ModuleText | None:
    if course_obj is None:
        return None
    for module in course_obj.modules:
        for text in module.texts.values():
            if text.source_file == path:
                return text
    return None


# --------------------------------------------------------------------------- import / export


@dataclass
class ImportOutcome:
    slug: str
    draft: CourseDraft | None = None
    revision: CourseRevision | None = None
    created: bool = True
    ignored: list[str] = field(default_factory=list)


def import_zip(data: bytes, *, slug: str | None, mode: str, user, note: str = "") -> ImportOutcome:
    """Import a course zip as a draft, or publish it as a revision (source "import").

    Raises AuthoringError with every reason the zip is refused, CourseInvalid (publish) with
    every problem of the course; nothing is stored then.
    """
    config = current_app.config
    try:
        folder, files = studio_files.read_course_zip(
            data,
            max_bytes=config.get("AUTHORING_IMPORT_MAX_BYTES", IMPORT_MAX_BYTES),
            max_files=config.get("AUTHORING_IMPORT_MAX_FILES", IMPORT_MAX_FILES),
            max_image_bytes=config["MEDIA_MAX_BYTES"],
            _=_,
        )
    except studio_files.Refused as refused:
        raise AuthoringError(refused.reasons) from None
    slug = slug or folder
    if not slug:
        raise AuthoringError(_("Give the course a short name: the zip has no course folder."))
    if not parser.COURSE_SLUG.fullmatch(slug):
        raise AuthoringError(_("The folder name %(name)s is not a valid short name; give one in the form.",
                               name=repr(slug)))
    if mode == "publish":
        try:
            with db.session.begin_nested():
                revision, created = store_revision(slug, files, source="import",
                                                   published_by=user, note=note or "")
        except IntegrityError:
            raise AuthoringError(_("Someone published this course at the same moment. Reload and try again.")) from None
        record_event("course.import", slug, mode="publish", revision=revision.number, created=created)
        return ImportOutcome(slug, revision=revision, created=created)

    course = find_course(slug)
    if course is None:
        course = Course(slug=slug)
        db.session.add(course)
        db.session.flush()
    texts, media, ignored = {}, {}, []
    for path, content in files.items():
        if path.startswith("media/"):
            media[path] = store_media_blob(content)
        elif path.lower().endswith(EDITABLE_SUFFIXES):
            texts[path] = normalise_text(content.decode("utf-8"))
        else:
            ignored.append(path)
    if "course.yaml" not in texts:
        raise AuthoringError(_("The zip has no course.yaml."))
    draft = CourseDraft(course_id=course.id, files=texts, media=media,
                        based_on_revision_id=course.current_revision_id, created_by_id=user.id)
    _touch(draft, user)
    db.session.add(draft)
    db.session.flush()
    record_event("course.import", slug, mode="draft", draft=draft.id, files=len(files))
    return ImportOutcome(slug, draft=draft, ignored=sorted(ignored))


def export_revision(revision: CourseRevision) -> bytes:
    """The revision as a zip of the course folder format (`<slug>/course.yaml`, …)."""
    files = {path: text.encode("utf-8") for path, text in revision.files.items()}
    files.update(_blobs(revision.structure.get("media_blobs") or {}))
    return studio_files.write_course_zip(revision.course.slug, files, revision.published_at)


# --------------------------------------------------------------------------- compare


@dataclass
class Side:
    token: str  # "3" (revision number) or "draft-5"
    label: str
    files: dict[str, str]
    media: dict[str, str]


def side(course: Course, token: str | None) -> Side | None:
    """A revision (by number) or a draft (`draft-<id>`) of the course, for a comparison."""
    token = (token or "").strip()
    if is_digits(token) and len(token) < 10:
        revision = find_revision(course, int(token))
        if revision is not None:
            return Side(token, _("revision %(n)d", n=revision.number), dict(revision.files),
                        dict(revision.structure.get("media_blobs") or {}))
    if token.startswith("draft-") and is_digits(token[6:]) and len(token) < 16:
        draft = find_draft(course, int(token[6:]))
        if draft is not None:
            return Side(token, _("draft %(n)d", n=draft.id), dict(draft.files), dict(draft.media))
    return None


def compare(old: Side, new: Side) -> list[studio_files.FileDiff]:
    return studio_files.diff_files(old.files, old.media, new.files, new.media)


# --------------------------------------------------------------------------- item analysis


def item_analysis(course: Course, revision_id: int | None) -> list[analysis.ModuleAnalysis]:
    """Item statistics of the course's submitted attempts (of one revision, or of all)."""
    query = (
        sa.select(QuizAttempt.id, QuizAttempt.module_slug, QuizAttempt.score, QuizAttempt.questions,
                  QuizAttempt.responses, QuizAttempt.results)
        .where(QuizAttempt.course_id == course.id, QuizAttempt.submitted_at.is_not(None))
        .order_by(QuizAttempt.id.desc())  # newest first: a question is shown as last asked
    )
    if revision_id is not None:
        query = query.where(QuizAttempt.revision_id == revision_id)
    attempts = [
        analysis.AttemptData(row.id, row.module_slug, row.score, row.questions or [],
                             row.responses or {}, row.results or [])
        for row in db.session.execute(query)
    ]
    order = [m.slug for m in RevisionView(course.current_revision).modules] if course.current_revision else []
    return analysis.analyse(attempts, order)


@dataclass
class EssayItem:
    attempt: QuizAttempt
    learner: User
    question_index: int
    question: Question
    response: str
    grades: list[tuple[EssayGrade, str]] = field(default_factory=list)  # (grade, grader name)

    @property
    def key(self) -> str:
        return f"g{self.attempt.id}-{self.question_index}"


def essays(course: Course) -> tuple[list[EssayItem], list[EssayItem]]:
    """(awaiting a grade, graded with their history) essays of the course's attempts."""
    pending: list[EssayItem] = []
    graded: list[EssayItem] = []
    history: dict[tuple[int, int], list[tuple[EssayGrade, str]]] = {}
    grader = sa.orm.aliased(User)
    for grade, name in db.session.execute(
        sa.select(EssayGrade, grader.name)
        .join(QuizAttempt, QuizAttempt.id == EssayGrade.attempt_id)
        .join(grader, grader.id == EssayGrade.graded_by_id)
        .where(QuizAttempt.course_id == course.id)
        .order_by(EssayGrade.id)
    ):
        history.setdefault((grade.attempt_id, grade.question_index), []).append((grade, name))
    attempt_ids = {key[0] for key in history}
    rows = db.session.execute(
        sa.select(QuizAttempt, User)
        .join(User, User.id == QuizAttempt.user_id)
        .where(QuizAttempt.course_id == course.id, QuizAttempt.submitted_at.is_not(None),
               sa.or_(QuizAttempt.has_pending.is_(True), QuizAttempt.id.in_(attempt_ids or {0})))
        .order_by(QuizAttempt.submitted_at, QuizAttempt.id)
    )
    for attempt, learner in rows:
        for index, question in enumerate(attempt.questions or []):
            if question.get("type") != "essay":
                continue
            response = (attempt.responses or {}).get(str(index))
            result = (attempt.results or [])[index] if index < len(attempt.results or []) else {}
            grades = history.get((attempt.id, index), [])
            if not isinstance(response, str) or not (grades or result.get("is_pending")):
                continue
            item = EssayItem(attempt, learner, index, question_from_dict(question), response, grades)
            (graded if grades else pending).append(item)
    graded.sort(key=lambda item: item.grades[-1][0].id, reverse=True)
    return pending, graded


def find_attempt(course: Course, attempt_id: int) -> QuizAttempt | None:
    attempt = db.session.get(QuizAttempt, attempt_id)
    return attempt if attempt is not None and attempt.course_id == course.id else None


def grade_essay(attempt: QuizAttempt, question_index: int, score_percent: Decimal | float,
                comment: str, grader) -> EssayGrade:
    """Add a hand grade (0..100 %) to one essay answer and re-grade the attempt.

    Earlier grades stay (EssayGrade rows are only ever added); the latest grade of each essay
    counts. The attempt's score, pass and pending state, the learner's progress and completion
    are recomputed (learning.quizzes.services.regrade_attempt); the grade is audited.
    """
    questions = attempt.questions or []
    if attempt.submitted_at is None:
        raise AuthoringError(_("This attempt has not been submitted."))
    if not 0 <= question_index < len(questions) or questions[question_index].get("type") != "essay":
        raise AuthoringError(_("There is no essay question with this number in the attempt."))
    response = (attempt.responses or {}).get(str(question_index))
    if not isinstance(response, str) or not response.strip():
        raise AuthoringError(_("The learner did not answer this question: there is nothing to grade."))
    score = float(score_percent)
    if not 0 <= score <= 100:
        raise AuthoringError(_("Enter a number from 0 to 100."))
    previous = db.session.scalar(
        sa.select(EssayGrade.score).where(EssayGrade.attempt_id == attempt.id,
                                          EssayGrade.question_index == question_index)
        .order_by(EssayGrade.id.desc()).limit(1)
    )
    old_score = attempt.score
    row = EssayGrade(attempt_id=attempt.id, question_index=question_index, score=round(score, 2),
                     comment=(comment or "").strip(), graded_by_id=grader.id, graded_at=utcnow())
    db.session.add(row)
    db.session.flush()
    latest: dict[int, EssayGrade] = {}
    for grade in db.session.scalars(
        sa.select(EssayGrade).where(EssayGrade.attempt_id == attempt.id).order_by(EssayGrade.id)
    ):
        latest[grade.question_index] = grade
    quiz_services.regrade_attempt(attempt, {i: g.score / 100 for i, g in latest.items()})
    results = [dict(r) for r in attempt.results]
    for index, grade in latest.items():
        if grade.comment and index < len(results):
            results[index]["feedback"] = [*results[index].get("feedback", []), grade.comment]
    attempt.results = results
    db.session.flush()
    record_event("essay.grade", f"attempt:{attempt.id}", question_index=question_index,
                 score=row.score, previous_score=previous, attempt_score=attempt.score,
                 previous_attempt_score=old_score, learner_id=attempt.user_id,
                 is_passed=attempt.is_passed)
    return row
