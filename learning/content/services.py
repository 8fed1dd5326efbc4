"""Storing courses as immutable revisions: sync from files, publish, media blobs, rendering."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from learning.content import parser
from learning.content.models import Course, CourseRevision, RenderedModule
from learning.content.render import render_markdown
from learning.extensions import db

TEXT_SUFFIXES = (".md", ".yaml", ".yml", ".txt")


class CourseInvalid(ValueError):
    """A course with errors: nothing of it is stored."""

    def __init__(self, problems: list[parser.Problem]):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


class CourseDiverged(RuntimeError):
    """The course was changed in the studio after its last sync from files."""


@dataclass
class SyncOutcome:
    slug: str
    status: str  # created | updated | unchanged | invalid | diverged
    revision: int | None = None
    problems: list[parser.Problem] = field(default_factory=list)


def read_folder(folder: Path) -> dict[str, bytes]:
    """Every regular file under `folder` (no symlinks, nothing outside), by relative path."""
    files: dict[str, bytes] = {}
    root = folder.resolve()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            path = Path(dirpath) / name
            if name.startswith(".") or path.is_symlink():
                continue
            files[path.relative_to(root).as_posix()] = path.read_bytes()
    return files


def media_path(digest: str) -> Path:
    return Path(current_app.config["MEDIA_DIR"]) / digest[:2] / digest


def store_media_blob(data: bytes) -> str:
    """Keep a media file by its content hash (shared by every revision that uses it)."""
    digest = hashlib.sha256(data).hexdigest()
    path = media_path(digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    return digest


def count_sections(html: str) -> int:
    return max(1, len(re.findall(r"<h2[\s>]", html)))


def store_revision(
    slug: str,
    files: dict[str, bytes],
    *,
    source: str,
    published_by=None,
    note: str = "",
    force: bool = False,
) -> tuple[CourseRevision | None, bool]:
    """Parse `files` and store them as a new revision unless the content hash is unchanged.

    Returns (revision, created). Raises CourseInvalid with every problem, storing nothing.
    """
    course_obj, problems = parser.course_from_files(files, slug)
    errors = [p for p in problems if p.severity == "error"]
    if course_obj is None or errors:
        raise CourseInvalid(errors or problems)

    course = db.session.scalar(sa.select(Course).where(Course.slug == slug))
    if course is None:
        course = Course(slug=slug)
        db.session.add(course)
        db.session.flush()
    latest = course.current_revision
    if latest is not None and latest.content_hash == course_obj.content_hash:
        if source == "files":
            course.synced_hash = course_obj.content_hash
        return latest, False
    if source == "files" and course.is_changed_in_studio and not force:
        raise CourseDiverged(
            f"{slug}: changed in the studio since the last sync; run with --force to replace it"
        )

    text_files: dict[str, str] = {}
    media: dict[str, str] = {}
    for path, data in files.items():
        if path.startswith("media/"):
            media[path] = store_media_blob(data)
        elif path.endswith(TEXT_SUFFIXES):
            text_files[path] = data.decode("utf-8", errors="replace")

    number = (
        db.session.scalar(
            sa.select(sa.func.max(CourseRevision.number)).where(CourseRevision.course_id == course.id)
        )
        or 0
    ) + 1
    structure = parser.course_to_dict(course_obj)
    structure["media_blobs"] = media
    revision = CourseRevision(
        course_id=course.id,
        number=number,
        content_hash=course_obj.content_hash,
        structure=structure,
        files=text_files,
        source=source,
        note=note[:500],
        published_by_id=getattr(published_by, "id", None),
    )
    db.session.add(revision)
    db.session.flush()
    _render_revision(revision, course_obj)
    course.current_revision_id = revision.id
    course.current_revision = revision
    if source == "files":
        course.synced_hash = course_obj.content_hash
        course.is_changed_in_studio = False
    else:
        course.is_changed_in_studio = True
    return revision, True


def _render_revision(revision: CourseRevision, course_obj: parser.Course) -> None:
    """Render every module in every language once; learners only ever read the stored HTML."""
    slug = course_obj.slug
    rows = []
    for module in course_obj.modules:
        for language, text in module.texts.items():
            html = render_markdown(
                text.body,
                media_base_url=f"/courses/{slug}/",
                link_base_url=f"/courses/{slug}/",
            )
            rows.append(
                {
                    "revision_id": revision.id,
                    "module_slug": module.slug,
                    "language": language,
                    "html": html,
                    "sections": count_sections(html),
                    "anchors": re.findall(r'<h2[^>]*\bid="([^"]+)"', html),
                    "source_hash": hashlib.sha256(text.body.encode()).hexdigest(),
                }
            )
    if rows:
        db.session.execute(sa.insert(RenderedModule), rows)


def sync_library(root: Path, *, force: bool = False) -> list[SyncOutcome]:
    """Store a new revision of every course under `root` whose files changed.

    Each course is its own transaction, so one invalid course does not hold back the others.
    """
    outcomes = []
    for folder, course_obj, problems in parser.load_library(root):
        slug = folder.name
        errors = [p for p in problems if p.severity == "error"]
        if course_obj is None or errors:
            outcomes.append(SyncOutcome(slug, "invalid", problems=errors or problems))
            continue
        try:
            revision, created = store_revision(slug, read_folder(folder), source="files", force=force)
        except CourseDiverged as error:
            db.session.rollback()
            outcomes.append(SyncOutcome(slug, "diverged", problems=[parser.Problem(slug, 0, str(error))]))
            continue
        except CourseInvalid as error:
            db.session.rollback()
            outcomes.append(SyncOutcome(slug, "invalid", problems=error.problems))
            continue
        db.session.commit()
        status = ("created" if revision.number == 1 else "updated") if created else "unchanged"
        outcomes.append(SyncOutcome(slug, status, revision=revision.number))
    return outcomes
