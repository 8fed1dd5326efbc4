"""Reading published courses: the catalogue, a revision's modules, cached HTML."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from learning.content.models import Course, CourseRevision, RenderedModule
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


class RevisionView:
    """A read-only view of a revision's parsed structure."""

    def __init__(self, revision: CourseRevision):
        self.revision = revision
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


def published_courses() -> list[tuple[Course, CourseRevision]]:
    rows = db.session.execute(
        sa.select(Course, CourseRevision)
        .join(CourseRevision, Course.current_revision_id == CourseRevision.id)
        .where(Course.is_archived.is_(False))
        .order_by(Course.slug)
    )
    return [(course, revision) for course, revision in rows]


def course_by_slug(slug: str) -> Course | None:
    if len(slug) > 100:
        return None
    return db.session.scalar(
        sa.select(Course).where(Course.slug == slug, Course.current_revision_id.is_not(None))
    )


def rendered_html(revision_id: int, module_slug: str, language: str) -> RenderedModule | None:
    return db.session.get(RenderedModule, (revision_id, module_slug, language))
