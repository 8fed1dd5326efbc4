"""Item analysis of quiz attempts (pure Python: no Flask, no database).

Questions are grouped by (module, source_index): the question's place in the module's quiz
pool, whatever order an attempt displayed it in. For each question: how many attempts had it,
how many got it right, its mean score (facility), which answers were chosen, and its
discrimination index D = p(upper) - p(lower), where the upper and lower groups are the best
and worst 27% of the module's attempts by total score (Kelley) and p is the share of the
group's attempts that got the question right. With every attempt holding the question this is
the classic (U - L) / n.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from learning.quizzes.gift import Question, question_from_dict

__all__ = ["AttemptData", "ItemStats", "ModuleAnalysis", "analyse", "GROUP_SHARE"]

GROUP_SHARE = 0.27
WEAK_DISCRIMINATION = 0.2
MAX_FREE_TEXT_ROWS = 10
UNGRADED_TYPES = ("description",)
NOT_FLAGGED_TYPES = ("description", "essay")


@dataclass(frozen=True)
class AttemptData:
    id: int
    module_slug: str
    score: float | None
    questions: list[dict]
    responses: dict[str, Any]
    results: list[dict]


@dataclass
class Choice:
    label: str  # the answer text (markup as the question's format says) or a typed response
    fraction: float | None  # the answer's weight, None for a typed response
    count: int
    index: int | None = None  # into question.answers, for rendering with its format


@dataclass
class ItemStats:
    module_slug: str
    source_index: int
    question: Question
    attempts: int = 0
    graded: int = 0  # attempts not waiting for a hand grade
    correct: int = 0
    pending: int = 0
    unanswered: int = 0
    score_sum: float = 0.0
    upper: list[bool] = field(default_factory=list)
    lower: list[bool] = field(default_factory=list)
    _chosen: Counter = field(default_factory=Counter)
    _typed: Counter = field(default_factory=Counter)

    @property
    def percent_correct(self) -> float | None:
        return round(self.correct * 100 / self.graded, 1) if self.graded else None

    @property
    def mean_score(self) -> float | None:
        return round(self.score_sum * 100 / self.graded, 1) if self.graded else None

    @property
    def discrimination(self) -> float | None:
        if not self.upper or not self.lower:
            return None
        p_upper = sum(self.upper) / len(self.upper)
        p_lower = sum(self.lower) / len(self.lower)
        return round(p_upper - p_lower, 2)

    @property
    def is_weak(self) -> bool:
        d = self.discrimination
        return d is not None and d < WEAK_DISCRIMINATION

    @property
    def is_flagged(self) -> bool:
        """Nobody got it right (among graded attempts)."""
        return self.question.type not in NOT_FLAGGED_TYPES and self.graded > 0 and self.correct == 0

    @property
    def choices(self) -> list[Choice]:
        """Every answer with how often it was chosen; typed responses, most frequent first."""
        q = self.question
        if q.type in ("multiple_choice", "multiple_response", "missing_word"):
            return [Choice(a.text, a.fraction, self._chosen[i], i) for i, a in enumerate(q.answers)]
        if q.type == "true_false":
            return [Choice(a.text, a.fraction, self._chosen[a.text], i) for i, a in enumerate(q.answers)]
        return [Choice(label, None, n) for label, n in self._typed.most_common(MAX_FREE_TEXT_ROWS)]

    @property
    def other_typed(self) -> int:
        return sum(n for _label, n in self._typed.most_common()[MAX_FREE_TEXT_ROWS:])


@dataclass
class ModuleAnalysis:
    module_slug: str
    attempts: int
    group_size: int
    items: list[ItemStats]

    @property
    def flagged(self) -> list[ItemStats]:
        return [item for item in self.items if item.is_flagged]


def _groups(attempts: list[AttemptData]) -> tuple[set[int], set[int], int]:
    """Ids of the upper and lower 27% of attempts by score (ties broken by id)."""
    n = len(attempts)
    size = int(round(GROUP_SHARE * n))
    if n >= 2:
        size = max(1, min(size, n // 2))
    else:
        size = 0
    ranked = sorted(attempts, key=lambda a: (a.score or 0.0, a.id))
    lower = {a.id for a in ranked[:size]}
    upper = {a.id for a in ranked[n - size:]} if size else set()
    return upper, lower, size


def _record_choice(item: ItemStats, question: dict, response: Any) -> None:
    qtype = question.get("type")
    if qtype in ("multiple_choice", "missing_word") and isinstance(response, int):
        item._chosen[response] += 1
    elif qtype == "multiple_response" and isinstance(response, list):
        for index in response:
            item._chosen[index] += 1
    elif qtype == "true_false" and isinstance(response, bool):
        item._chosen["true" if response else "false"] += 1
    elif qtype in ("short_answer", "numerical"):
        text = response if isinstance(response, str) else _number(response)
        item._typed[" ".join(str(text).split()).casefold()[:200]] += 1
    elif qtype == "matching" and isinstance(response, dict):
        answers = question.get("answers") or []
        for key, chosen in sorted(response.items(), key=lambda kv: str(kv[0])):
            try:
                left = answers[int(key)].get("text", "")
            except (ValueError, IndexError, TypeError, AttributeError):
                continue
            item._typed[f"{left} → {chosen}"[:200]] += 1


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def analyse(attempts: list[AttemptData], module_order: list[str] | None = None) -> list[ModuleAnalysis]:
    """Statistics per module and question over submitted attempts (see the module docstring)."""
    by_module: dict[str, list[AttemptData]] = {}
    for attempt in attempts:
        by_module.setdefault(attempt.module_slug, []).append(attempt)
    order = list(module_order or [])
    order += sorted(slug for slug in by_module if slug not in order)

    out: list[ModuleAnalysis] = []
    for slug in order:
        module_attempts = by_module.get(slug)
        if not module_attempts:
            continue
        upper, lower, size = _groups(module_attempts)
        items: dict[int, ItemStats] = {}
        for attempt in module_attempts:
            for index, question in enumerate(attempt.questions or []):
                if question.get("type") in UNGRADED_TYPES:
                    continue
                source = question.get("source_index", index)
                item = items.get(source)
                if item is None:
                    try:
                        parsed = question_from_dict(question)
                    except ValueError:
                        continue
                    item = items[source] = ItemStats(slug, source, parsed)
                result = attempt.results[index] if index < len(attempt.results or []) else {}
                response = (attempt.responses or {}).get(str(index))
                item.attempts += 1
                if response is None:
                    item.unanswered += 1
                else:
                    _record_choice(item, question, response)
                if result.get("is_pending"):
                    item.pending += 1
                    continue
                is_correct = bool(result.get("is_correct"))
                item.graded += 1
                item.correct += is_correct
                item.score_sum += float(result.get("score") or 0.0)
                if attempt.id in upper:
                    item.upper.append(is_correct)
                elif attempt.id in lower:
                    item.lower.append(is_correct)
        out.append(ModuleAnalysis(slug, len(module_attempts), size,
                                  [items[k] for k in sorted(items)]))
    return out
