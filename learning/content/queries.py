"""Reading published courses: the catalogue, a revision's modules, cached HTML."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import undefer

from learning.content.models import SLUG_LENGTH, Course, CourseRevision, RenderedModule
from learning.extensions import db


@dataclass(frozen=True)
class ModuleInfo:
    slug: str
    position: int
    titles: dict[str, str]
    languages: tuple[str, ...]
    has_quiz: bool
    is_required: bool
    duration_minutes: int | None

    def title(self, language: str, fallback: str) -> str:
        return self.titles.get(language) or self.titles.get(fallback) or self.slug

    def title_language(self, language: str, fallback: str) -> str:
        """The language the title is shown in (for the lang attribute)."""
        return language if self.titles.get(language) else fallback


@dataclass(frozen=True)
class RevisionRef:
    """The identity of a revision, safe to keep across requests (no ORM state)."""

    id: int
    number: int
    content_hash: str
    course_id: int


class RevisionView:
    """A read-only view of a revision's parsed structure.

    Revisions never change, so views are built once per worker and kept in a small
    LRU cache: a lesson page neither loads nor parses the structure JSON again.
    """

    def __new__(cls, revision: CourseRevision):
        cache = _views()
        cached = cache.get(revision.id)
        if cached is not None:
            return cached
        view = super().__new__(cls)
        view._build(revision)
        cache.put(revision.id, view)
        return view

    def __init__(self, revision: CourseRevision):  # built in __new__ (cached)
        pass

    def _build(self, revision: CourseRevision) -> None:
        self.revision = RevisionRef(revision.id, revision.number, revision.content_hash, revision.course_id)
        self.structure = revision.structure
        self.languages: list[str] = self.structure.get("languages", ["ru"])
        self.fallback = self.languages[0]
        completion = self.structure.get("completion", {})
        self.modules: list[ModuleInfo] = []
        for module in self.structure.get("modules", []):
            texts = module.get("texts", {})
            any_text = texts.get(self.fallback) or next(iter(texts.values()), {})
            self.modules.append(
                ModuleInfo(
                    slug=module["slug"],
                    position=module["position"],
                    titles={lang: t.get("title", module["slug"]) for lang, t in texts.items()},
                    languages=tuple(texts),
                    has_quiz=any(t.get("questions") for t in texts.values()),
                    is_required=module["slug"] in completion.get("modules", []),
                    duration_minutes=any_text.get("duration_minutes"),
                )
            )
        self.required_modules = [m.slug for m in self.modules if m.is_required]
        self.required_quizzes = [
            slug for slug in completion.get("quizzes", []) if (m := self.module(slug)) and m.has_quiz
        ]

    @property
    def is_sequential(self) -> bool:
        return bool(self.structure.get("sequential"))

    def title(self, language: str) -> str:
        titles = self.structure.get("title", {})
        return titles.get(language) or titles.get(self.fallback) or self.structure.get("slug", "")

    def description(self, language: str) -> str:
        texts = self.structure.get("description", {})
        return texts.get(language) or texts.get(self.fallback) or ""

    def module(self, slug: str) -> ModuleInfo | None:
        return next((m for m in self.modules if m.slug == slug), None)

    def text(self, slug: str, language: str) -> tuple[dict, str]:
        """The module's parsed text in `language`, else in the fallback language."""
        module = next(m for m in self.structure["modules"] if m["slug"] == slug)
        texts = module["texts"]
        chosen = language if language in texts else self.fallback
        if chosen not in texts:
            chosen = next(iter(texts))
        return texts[chosen], chosen


class _LRU:
    def __init__(self, size: int):
        self.size = size
        self.items: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key):
        with self.lock:
            value = self.items.get(key)
            if value is not None:
                self.items.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)


def _views() -> _LRU:
    """This app's cache of revision views (one app per worker process)."""
    return current_app.extensions.setdefault("kelisim_revision_views", _LRU(64))


def revision_view(revision_id: int) -> RevisionView:
    """The cached view of a revision, loading it (with its structure) only on a miss."""
    cached = _views().get(revision_id)
    if cached is not None:
        return cached
    revision = db.session.scalar(
        sa.select(CourseRevision).options(undefer(CourseRevision.structure))
        .where(CourseRevision.id == revision_id)
    )
    return RevisionView(revision)


def published_courses() -> list[tuple[Course, CourseRevision]]:
    rows = db.session.execute(
        sa.select(Course, CourseRevision)
        .join(CourseRevision, Course.current_revision_id == CourseRevision.id)
        .where(Course.is_archived.is_(False))
        .order_by(Course.slug)
    )
    return [(course, revision) for course, revision in rows]


def course_by_slug(slug: str) -> Course | None:
    if len(slug) > SLUG_LENGTH:
        return None
    return db.session.scalar(
        sa.select(Course).where(Course.slug == slug, Course.current_revision_id.is_not(None))
    )


@dataclass(frozen=True)
class RenderedPage:
    """A module's stored HTML in one language (a copy without ORM state, kept per worker)."""

    html: str
    sections: int
    anchors: tuple[str, ...]


_RENDERED = sa.select(RenderedModule.html, RenderedModule.sections, RenderedModule.anchors).where(
    RenderedModule.revision_id == sa.bindparam("revision_id"),
    RenderedModule.module_slug == sa.bindparam("module_slug"),
    RenderedModule.language == sa.bindparam("language"),
)


def rendered_html(revision_id: int, module_slug: str, language: str) -> RenderedPage | None:
    """The module's HTML, rendered when its revision was stored. Rendered modules are never
    changed, so each worker keeps the recent ones (about 20 KB each) and asks the database
    only on a miss."""
    key = (revision_id, module_slug, language)
    cache = current_app.extensions.setdefault("kelisim_rendered_pages", _LRU(256))
    page = cache.get(key)
    if page is None:
        row = db.session.execute(
            _RENDERED, {"revision_id": revision_id, "module_slug": module_slug, "language": language}
        ).first()
        if row is None:
            return None
        page = RenderedPage(row.html, row.sections, tuple(row.anchors or ()))
        cache.put(key, page)
    return page
