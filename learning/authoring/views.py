"""The trainer studio at /author: courses, drafts, editor, publish, diff, zips, item analysis."""

from __future__ import annotations

import io
import mimetypes

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)  # fmt: skip
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from learning.authoring import services
from learning.authoring.forms import (
    MAX_FILE_CHARS,
    AddModuleForm,
    CreateCourseForm,
    DeleteFileForm,
    DiscardDraftForm,
    EditFileForm,
    EssayGradeForm,
    ImportForm,
    NewDraftForm,
    PublishForm,
    UploadMediaForm,
)  # fmt: skip
from learning.content import parser
from learning.content.queries import RevisionView
from learning.content.services import CourseInvalid, media_path
from learning.extensions import db
from learning.security import role_required

bp = Blueprint("authoring", __name__, url_prefix="/author")

STUDIO_ROLES = ("trainer", "admin")
MEDIA_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


def _language() -> str:
    return str(get_locale() or "ru")


@bp.app_template_filter("problem_message")
def problem_message(problem) -> str:
    """A course or quiz problem's message in the interface language (its msgid and parameters
    are translated here; the parser itself only knows English)."""
    translated = getattr(problem, "translated", None)
    if translated is None:
        return str(getattr(problem, "message", problem))
    return translated(_)


def _course(slug: str):
    course = services.find_course(slug)
    if course is None:
        abort(404)
    return course


def _draft(course, draft_id: int):
    draft = services.find_draft(course, draft_id)
    if draft is None:
        abort(404)
    return draft


def _bases(course, draft) -> dict[str, str]:
    base = url_for("authoring.draft", course_slug=course.slug, draft_id=draft.id) + "/"
    return {"media_base_url": base, "link_base_url": base + "edit/"}


@bp.errorhandler(413)
def _too_large(_error):
    limit = current_app.config.get("AUTHORING_IMPORT_MAX_BYTES", services.IMPORT_MAX_BYTES)
    message = _("The file is too large: a course zip may be up to %(zip)d MB, an image up to %(image)d MB.",
                zip=limit // (1024 * 1024), image=current_app.config["MEDIA_MAX_BYTES"] // (1024 * 1024))
    return render_template("errors/error.html", status=413, message=message), 413


# --------------------------------------------------------------------------- courses


@bp.route("/")
@role_required(*STUDIO_ROLES)
def index():
    return render_template("authoring/index.html", summaries=services.list_courses(_language()))


@bp.route("/_new", methods=["GET", "POST"])
@role_required(*STUDIO_ROLES)
def create_course():
    form = CreateCourseForm()
    if form.validate_on_submit():
        try:
            draft = services.create_course(form.slug.data, form.title.data, form.language.data, current_user)
        except services.AuthoringError as error:
            db.session.rollback()
            form.slug.errors = [*form.slug.errors, *error.reasons]
        else:
            db.session.commit()
            flash(_("The course was created as a draft. Learners see it once you publish it."), "success")
            return redirect(url_for("authoring.draft", course_slug=form.slug.data, draft_id=draft.id))
    status = 422 if request.method == "POST" else 200
    return render_template("authoring/create.html", form=form), status


@bp.route("/_import", methods=["GET", "POST"])
@role_required(*STUDIO_ROLES)
def import_course():
    form = ImportForm()
    errors: list[str] = []
    problems: list[parser.Problem] = []
    if form.validate_on_submit():
        limit = current_app.config.get("AUTHORING_IMPORT_MAX_BYTES", services.IMPORT_MAX_BYTES)
        data = form.archive.data.read(limit + 1)
        try:
            outcome = services.import_zip(data, slug=form.slug.data or None, mode=form.mode.data,
                                          user=current_user, note=form.note.data or "")
        except CourseInvalid as invalid:
            db.session.rollback()
            problems = invalid.problems
        except services.AuthoringError as error:
            db.session.rollback()
            errors = error.reasons
        else:
            db.session.commit()
            return _after_import(outcome)
    status = 422 if request.method == "POST" else 200
    return render_template("authoring/import.html", form=form, errors=errors, problems=problems), status


def _after_import(outcome: services.ImportOutcome):
    if outcome.draft is not None:
        if outcome.ignored:
            flash(_("Ignored files (only texts and media/ are kept): %(files)s",
                    files=", ".join(outcome.ignored)), "error")
        flash(_("The zip was imported as a draft. Review it, then publish."), "success")
        return redirect(url_for("authoring.draft", course_slug=outcome.slug, draft_id=outcome.draft.id))
    if outcome.created:
        flash(_("Imported and published as revision %(n)d.", n=outcome.revision.number), "success")
    else:
        flash(_("Nothing changed: revision %(n)d has the same content.", n=outcome.revision.number), "success")
    return redirect(url_for("authoring.course", course_slug=outcome.slug))


@bp.route("/<course_slug>")
@role_required(*STUDIO_ROLES)
def course(course_slug: str):
    course = _course(course_slug)
    view = RevisionView(course.current_revision) if course.current_revision else None
    return render_template(
        "authoring/course.html", course=course, view=view, language=_language(),
        revisions=services.revision_rows([course.id]).get(course.id, []),
        drafts=services.drafts_of(course), new_draft_form=NewDraftForm(),
    )


@bp.route("/<course_slug>/drafts", methods=["POST"])
@role_required(*STUDIO_ROLES)
def new_draft(course_slug: str):
    course = _course(course_slug)
    if not NewDraftForm().validate_on_submit():
        abort(400)
    try:
        draft = services.new_draft(course, current_user)
    except services.AuthoringError as error:
        db.session.rollback()
        flash(" ".join(error.reasons), "error")
        return redirect(url_for("authoring.course", course_slug=course.slug))
    db.session.commit()
    return redirect(url_for("authoring.draft", course_slug=course.slug, draft_id=draft.id))


@bp.route("/<course_slug>/revisions/<int(max=2147483647):number>/export.zip")
@role_required(*STUDIO_ROLES)
def export_revision(course_slug: str, number: int):
    course = _course(course_slug)
    revision = services.find_revision(course, number)
    if revision is None:
        abort(404)
    try:
        data = services.export_revision(revision)
    except services.AuthoringError as error:
        flash(" ".join(error.reasons), "error")
        return redirect(url_for("authoring.course", course_slug=course.slug))
    return send_file(io.BytesIO(data), mimetype="application/zip", as_attachment=True,
                     download_name=f"{course.slug}-r{number}.zip")


@bp.route("/<course_slug>/compare")
@role_required(*STUDIO_ROLES)
def compare(course_slug: str):
    course = _course(course_slug)
    revisions = services.revision_rows([course.id]).get(course.id, [])
    old_token, new_token = request.args.get("from"), request.args.get("to")
    if old_token is None and new_token is None and len(revisions) >= 2:
        old_token, new_token = str(revisions[1].number), str(revisions[0].number)
    old, new, diffs = None, None, None
    if old_token is not None or new_token is not None:
        old, new = services.side(course, old_token), services.side(course, new_token)
        if old is None or new is None:
            abort(400, description=_("Choose two versions of this course to compare."))
        diffs = services.compare(old, new)
    return render_template("authoring/compare.html", course=course, revisions=revisions,
                           drafts=services.drafts_of(course), old=old, new=new, diffs=diffs)


# --------------------------------------------------------------------------- drafts


def _render_draft(course, draft, status: int = 200, **forms):
    course_obj, problems = services.validate_draft(draft)
    modules: dict[str, dict[str, str]] = {}
    others: list[str] = []
    for path in sorted(draft.files):
        match = parser.MODULE_FILE.fullmatch(path)
        if match:
            modules.setdefault(match["slug"], {})[match["lang"]] = path
        elif path != "course.yaml":
            others.append(path)
    order = [m.slug for m in course_obj.modules] if course_obj else []
    ordered = [(slug, modules[slug], slug in order) for slug in order if slug in modules]
    ordered += [(slug, langs, False) for slug, langs in modules.items() if slug not in order]
    return render_template(
        "authoring/draft.html", course=course, draft=draft, course_obj=course_obj,
        problems=services.problems_by_file(problems, course.slug),
        error_count=sum(1 for p in problems if p.is_error), modules=ordered, others=others,
        is_editable=services.is_editable, languages=course_obj.languages if course_obj else [],
        add_form=forms.get("add_form") or AddModuleForm(formdata=None),
        upload_form=forms.get("upload_form") or UploadMediaForm(formdata=None),
        publish_form=forms.get("publish_form") or PublishForm(formdata=None, version=draft.version),
        publish_problems=forms.get("publish_problems"), newer=forms.get("newer"),
        discard_form=DiscardDraftForm(formdata=None), delete_form=DeleteFileForm(formdata=None),
        language=_language(),
    ), status


@bp.route("/<course_slug>/drafts/<int(max=2147483647):draft_id>")
@role_required(*STUDIO_ROLES)
def draft(course_slug: str, draft_id: int):
    course = _course(course_slug)
    return _render_draft(course, _draft(course, draft_id))


@bp.route("/<course_slug>/drafts/<int(max=2147483647):draft_id>/edit/<path:path>", methods=["GET", "POST"])
@role_required(*STUDIO_ROLES)
def edit_file(course_slug: str, draft_id: int, path: str):
    course = _course(course_slug)
    draft = _draft(course, draft_id)
    reading = request.method in ("GET", "HEAD")
    if path not in draft.files and reading:
        return _module_redirect(course, draft, path)
    if not services.is_editable(path) or (path not in draft.files and path != "course.yaml"
                                          and not parser.MODULE_FILE.fullmatch(path)):
        abort(404)
    form = EditFileForm()
    conflict, status = None, 200
    if reading:
        text = draft.files[path]
        form.text.data, form.version.data, form.base_hash.data = text, draft.version, services.text_hash(text)
    elif not form.validate_on_submit():
        status = 422
    elif form.save.data:
        try:
            changed = services.save_file(draft, path, form.text.data or "", form.base_hash.data, current_user)
        except services.DraftConflict:
            db.session.rollback()
            draft = _draft(course, draft_id)
            conflict = _conflict(draft, path, form)
            status = 409
        else:
            db.session.commit()
            flash(_("Saved.") if changed else _("No changes to save."), "success")
            return redirect(url_for("authoring.edit_file", course_slug=course.slug, draft_id=draft.id, path=path))
    text = services.normalise_text(form.text.data or "")[:MAX_FILE_CHARS]
    preview = services.preview_file(draft, path, text, **_bases(course, draft))
    return render_template(
        "authoring/edit.html", course=course, draft=draft, path=path, form=form, preview=preview,
        lines=text.split("\n"), conflict=conflict, language=_language(),
    ), status


def _module_redirect(course, draft, slug: str):
    """`…/edit/02-greetings` (a module link in the preview): its file in the first language."""
    course_obj, _problems = services.validate_draft(draft)
    languages = course_obj.languages if course_obj else list(parser.SUPPORTED_LANGUAGES)
    slug = slug.split("#", 1)[0]
    for language in [*languages, *parser.SUPPORTED_LANGUAGES]:
        if f"{slug}.{language}.md" in draft.files:
            return redirect(url_for("authoring.edit_file", course_slug=course.slug, draft_id=draft.id,
                                    path=f"{slug}.{language}.md"))
    abort(404)


def _conflict(draft, path: str, form: EditFileForm) -> dict:
    """What the refused save shows: the current text, a diff to the trainer's, who changed it."""
    from learning.authoring.files import diff_files

    current = draft.files.get(path)
    mine = services.normalise_text(form.text.data or "")
    form.version.data = draft.version
    form.base_hash.data = services.text_hash(current)
    diff = diff_files({path: current} if current is not None else {}, {}, {path: mine}, {})[0]
    return {"current": current, "diff": diff, "updated_by": draft.updated_by, "updated_at": draft.updated_at}


@bp.route("/<course_slug>/drafts/<int(max=2147483647):draft_id>/preview", methods=["POST"])
@role_required(*STUDIO_ROLES)
def preview(course_slug: str, draft_id: int):
    """Live preview for studio.js: the rendered module and the problems, as JSON."""
    course = _course(course_slug)
    draft = _draft(course, draft_id)
    path, text = request.form.get("path", ""), request.form.get("text", "")
    if not services.is_editable(path) or len(text) > MAX_FILE_CHARS:
        abort(400)
    result = services.preview_file(draft, path, text, **_bases(course, draft))
    return jsonify(
        html=result.html,
        problems=[{"line": p.line, "message": problem_message(p), "severity": p.severity} for p in result.problems],
        other_errors=result.other_errors,
        questions=len(result.questions),
    )


@bp.route("/<course_slug>/drafts/<int(max=2147483647):draft_id>/modules", methods=["POST"])
@role_required(*STUDIO_ROLES)
def add_module(course_slug: str, draft_id: int):
    course = _course(course_slug)
    draft = _draft(course, draft_id)
    form = AddModuleForm()
    if form.validate_on_submit():
        try:
            path = services.add_module(draft, form.number.data, form.name.data, form.language.data,
                                       form.title.data, current_user)
        except services.AuthoringError as error:
            db.session.rollback()
            draft = _draft(course, draft_id)
            form.name.errors = [*form.name.errors, *error.reasons]
        else:
            db.session.commit()
            return redirect(url_for("authoring.edit_file", course_slug=course.slug, draft_id=draft.id, path=path))
    return _render_draft(course, draft, 422, add_form=form)


@bp.route("/<course_slug>/drafts/<int(max=2147483647):draft_id>/delete", methods=["POST"])
@role_required(*STUDIO_ROLES)
def delete_file(course_slug: str, draft_id: int):
    course = _course(course_slug)
    draft = _draft(course, draft_id)
    form = DeleteFileForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.delete_file(draft, form.path.data, current_user)
    except services.AuthoringError as error:
        db.session.rollback()
        flash(" ".join(error.reasons), "error")
    else:
        db.session.commit()
        flash(_("Deleted %(path)s from the draft.", path=form.path.data), "success")
    return redirect(url_for("authoring.draft", course_slug=course.slug, draft_id=draft_id))


@bp.route("/<course_slug>/drafts/<int(max=2147483647):draft_id>/media", methods=["POST"])
@role_required(*STUDIO_ROLES)
def upload_media(course_slug: str, draft_id: int):
    course = _course(course_slug)
    draft = _draft(course, draft_id)
    form = UploadMediaForm()
    if form.validate_on_submit():
        upload = form.image.data
        data = upload.read(current_app.config["MEDIA_MAX_BYTES"] + 1)
        try:
            path = services.add_media(draft, data, form.media_name.data or upload.filename or "",
                                      current_user, replace=form.replace.data)
        except services.AuthoringError as error:
            db.session.rollback()
            draft = _draft(course, draft_id)
            form.image.errors = [*form.image.errors, *error.reasons]
        else:
            db.session.commit()
            flash(_("Uploaded %(path)s. Use it in a module as ![description](%(path)s).", path=path), "success")
            return redirect(url_for("authoring.draft", course_slug=course.slug, draft_id=draft.id) + "#media")
    return _render_draft(course, draft, 422, upload_form=form)


@bp.route("/<course_slug>/drafts/<int(max=2147483647):draft_id>/media/<path:name>")
@role_required(*STUDIO_ROLES)
def draft_media(course_slug: str, draft_id: int, name: str):
    course = _course(course_slug)
    draft = _draft(course, draft_id)
    digest = draft.media.get(f"media/{name}")
    mimetype = mimetypes.guess_type(name)[0]
    if digest is None or mimetype not in MEDIA_TYPES or not media_path(digest).is_file():
        abort(404)
    response = send_file(media_path(digest), mimetype=mimetype, max_age=0, conditional=True)
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.route("/<course_slug>/drafts/<int(max=2147483647):draft_id>/publish", methods=["POST"])
@role_required(*STUDIO_ROLES)
def publish(course_slug: str, draft_id: int):
    course = _course(course_slug)
    draft = _draft(course, draft_id)
    form = PublishForm()
    if not form.validate_on_submit():
        return _render_draft(course, draft, 422, publish_form=form)
    if int(form.version.data) != draft.version:
        form.version.errors = [_("The draft changed since you opened this page. Review it, then publish again.")]
        form.version.data = draft.version
        return _render_draft(course, draft, 409, publish_form=form)
    try:
        revision, created = services.publish_draft(draft, current_user, note=form.note.data or "",
                                                   replace_newer=form.replace_newer.data)
    except CourseInvalid as invalid:
        db.session.rollback()
        return _render_draft(course, _draft(course, draft_id), 422, publish_form=form,
                             publish_problems=invalid.problems)
    except services.NewerRevision as newer:
        db.session.rollback()
        form.replace_newer.errors = newer.reasons
        return _render_draft(course, _draft(course, draft_id), 409, publish_form=form, newer=newer.revision)
    except services.AuthoringError as error:
        db.session.rollback()
        form.note.errors = error.reasons
        return _render_draft(course, _draft(course, draft_id), 409, publish_form=form)
    db.session.commit()
    if created:
        flash(_("Published as revision %(n)d. Learners who start now get it.", n=revision.number), "success")
    else:
        flash(_("Nothing to publish: the draft is the same as revision %(n)d.", n=revision.number), "success")
    return redirect(url_for("authoring.course", course_slug=course.slug))


@bp.route("/<course_slug>/drafts/<int(max=2147483647):draft_id>/discard", methods=["POST"])
@role_required(*STUDIO_ROLES)
def discard_draft(course_slug: str, draft_id: int):
    course = _course(course_slug)
    draft = _draft(course, draft_id)
    if not DiscardDraftForm().validate_on_submit():
        abort(400)
    services.discard_draft(draft)
    db.session.commit()
    flash(_("The draft was discarded."), "success")
    return redirect(url_for("authoring.course", course_slug=course.slug))


# --------------------------------------------------------------------------- item analysis


def _render_analysis(course, status: int = 200, forms: dict | None = None):
    revisions = services.revision_rows([course.id]).get(course.id, [])
    choice = request.args.get("revision")
    current = course.current_revision.number if course.current_revision else None
    if choice is None:
        choice = str(current) if current else "all"
    chosen = next((r for r in revisions if str(r.number) == choice), None)
    if choice != "all" and chosen is None:
        abort(404)
    modules = services.item_analysis(course, chosen.id if chosen else None)
    pending, graded = services.essays(course)
    forms = dict(forms or {})
    for item in [*pending, *graded]:
        forms.setdefault(item.key, EssayGradeForm(formdata=None, prefix=item.key))
    view = RevisionView(course.current_revision) if course.current_revision else None
    return render_template(
        "authoring/analysis.html", course=course, view=view, modules=modules, revisions=revisions,
        choice=choice, pending=pending, graded=graded, forms=forms, language=_language(),
    ), status


@bp.route("/<course_slug>/analysis")
@role_required(*STUDIO_ROLES)
def analysis(course_slug: str):
    return _render_analysis(_course(course_slug))


@bp.route("/<course_slug>/analysis/essays/<int(max=2147483647):attempt_id>/<int(max=100000):question_index>", methods=["POST"])
@role_required(*STUDIO_ROLES)
def grade_essay(course_slug: str, attempt_id: int, question_index: int):
    course = _course(course_slug)
    attempt = services.find_attempt(course, attempt_id)
    questions = (attempt.questions or []) if attempt is not None else []
    if attempt is None or question_index >= len(questions) or questions[question_index].get("type") != "essay":
        abort(404)
    key = f"g{attempt_id}-{question_index}"
    form = EssayGradeForm(prefix=key)
    if form.validate_on_submit():
        try:
            services.grade_essay(attempt, question_index, form.score.data, form.comment.data or "", current_user)
        except services.AuthoringError as error:
            db.session.rollback()
            abort(400, description=" ".join(error.reasons))
        else:
            db.session.commit()
            flash(_("The grade was saved and the attempt re-graded."), "success")
            return redirect(url_for("authoring.analysis", course_slug=course.slug) + f"#essay-{key}")
    return _render_analysis(course, 422, {key: form})
