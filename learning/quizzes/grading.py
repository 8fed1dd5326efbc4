"""Server-side quiz grading for questions read by learning.quizzes.gift (pure Python)."""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from learning.quizzes.gift import CATCH_ALL, Answer, Question

MAX_TEXT = 10_000  # longest accepted free-text response, in characters
_RIGHT = 0.999999  # Moodle: a fraction above this is "right" (graded_state_for_fraction)
_INDEX_RE = re.compile(r"\d{1,9}", re.ASCII)
_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,4})?", re.ASCII)
_STAR_RE = re.compile(r"(?<!\\)\*")  # a star not escaped as \\*
_GROUPED_RE = re.compile(r"[+-]?\d{1,3}(?:[ \u00a0\u202f\u2009]\d{3})+(?:[.,]\d*)?", re.ASCII)


class ResponseError(ValueError):
    """A response that is malformed for its question (never a merely wrong answer)."""


@dataclass
class QuestionResult:
    index: int
    score: float  # 0..1, the fraction of the question's mark earned; never below 0
    is_correct: bool
    is_pending: bool  # an essay awaiting manual grading
    given: object  # the normalised response (None when not answered)
    feedback: list[str] = field(default_factory=list)  # chosen answers' feedback + general


@dataclass
class GradeResult:
    score_percent: float  # 0..100 over the gradable questions
    results: list[QuestionResult]
    has_pending: bool


# --------------------------------------------------------------------------- grading


def grade(
    questions: list[Question],
    responses: dict[int, object],
    manual_scores: dict[int, float] | None = None,
) -> GradeResult:
    """Grade normalised responses (see normalise_response), keyed by question index.

    A missing or None response scores 0. Descriptions never count; an answered essay is pending
    (left out of the percentage) until `manual_scores` gives it a score in 0..1. Raises
    ResponseError for a response of the wrong shape or an unknown question index.
    """
    responses = responses or {}
    manual_scores = manual_scores or {}
    count = len(questions)
    for key in list(responses) + list(manual_scores):
        if type(key) is int and 0 <= key < count:  # the usual key, as the check below takes it
            continue
        if isinstance(key, bool) or not isinstance(key, int) or not 0 <= key < count:
            raise ResponseError(f"no question with index {key!r}")
    for key, value in manual_scores.items():
        if questions[key].type != "essay":
            raise ResponseError(f"question {key}: only essays take a manual score")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise ResponseError(f"question {key}: a manual score must be a number in 0..1")

    results: list[QuestionResult] = []
    total = 0.0
    counted = 0
    has_pending = False
    for index, q in enumerate(questions):
        result = _grade_one(index, q, responses.get(index), manual_scores.get(index))
        results.append(result)
        if result.is_pending:
            has_pending = True
            continue
        if q.type == "description":
            continue
        total += result.score
        counted += 1
    percent = round(total / counted * 100, 6) if counted else 0.0
    return GradeResult(
        score_percent=percent,
        results=results,
        has_pending=has_pending,
    )


def _grade_one(index: int, q: Question, given: object, manual: float | None) -> QuestionResult:
    feedback: list[str] = []
    score = 0.0
    pending = False
    # The usual responses, already in the form _check returns them, skip it.
    if given is None or q.type == "description":
        given = None
    elif not ((type(given) is int and q.type in CHOICE_TYPES and 0 <= given < len(q.answers))
              or (type(given) is bool and q.type == "true_false")):
        try:
            given = _check(q, given)
        except ResponseError as exc:
            raise ResponseError(f"question {index}: {exc}") from None

    if given is None or q.type == "description":
        pass
    elif q.type in ("multiple_choice", "missing_word"):
        chosen = q.answers[given]
        score = chosen.fraction
        feedback.append(chosen.feedback)
    elif q.type == "multiple_response":
        for i in given:
            score += q.answers[i].fraction
            feedback.append(q.answers[i].feedback)
    elif q.type == "true_false":
        chosen = _tf_answer(q, given)
        score = chosen.fraction
        feedback.append(chosen.feedback)
    elif q.type == "short_answer":
        response = _norm_text(given)
        best = _best(q, lambda a: _match_parts(_pattern_parts(a.text), response))
        if best is not None:
            score = best.fraction
            feedback.append(best.feedback)
    elif q.type == "numerical":
        best = _best(q, lambda a: _within(a, given))
        if best is not None:
            score = best.fraction
            feedback.append(best.feedback)
    elif q.type == "matching":
        pairs = [i for i, a in enumerate(q.answers) if a.text]
        right = sum(1 for i in pairs if given.get(i) == q.answers[i].match)
        score = right / len(pairs) if pairs else 0.0
    elif q.type == "essay":
        if manual is not None:
            score = float(manual)
        else:
            pending = True

    if q.type != "description" and q.general_feedback:
        feedback.append(q.general_feedback)
    score = 0.0 if score < 0.0 else 1.0 if score > 1.0 else score  # min(max(score, 0.0), 1.0)
    return QuestionResult(
        index=index,
        score=score,
        is_correct=q.type != "description" and not pending and score > _RIGHT,
        is_pending=pending,
        given=given,
        feedback=list(filter(None, feedback)),
    )


# Questions answered by the index of one choice.
CHOICE_TYPES = frozenset({"multiple_choice", "missing_word"})


def _best(q: Question, matches: Callable[[Answer], bool]) -> Answer | None:
    """The matching answer with the highest fraction (the first one on a tie)."""
    best = None
    for a in q.answers:
        if matches(a) and (best is None or a.fraction > best.fraction):
            best = a
    return best


def _tf_answer(q: Question, value: bool) -> Answer:
    wanted = "true" if value else "false"
    for a in q.answers:
        if a.text == wanted:
            return a
    raise ResponseError(f"the true/false question has no {wanted!r} answer")


def _norm_text(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split()).casefold()


def _wildcard_match(pattern: str, response: str) -> bool:
    """Moodle short answer: case-insensitive, '*' matches anything, '\\*' is a literal star.

    Matched piece by piece (leftmost first), not with a regex, so a pattern with many stars
    cannot make a long response backtrack for ever."""
    return _match_parts(_pattern_parts(pattern), _norm_text(response))


@functools.lru_cache(maxsize=4096)
def _pattern_parts(pattern: str) -> tuple[str, ...]:
    """A pattern's literal pieces between its stars (answers repeat: read each once)."""
    return tuple(p.replace("\\*", "*") for p in _STAR_RE.split(_norm_text(pattern)))


def _match_parts(parts: tuple[str, ...], response: str) -> bool:
    """Whether the normalised `response` matches the pattern of `parts` (see _wildcard_match)."""
    if len(parts) == 1:
        return parts[0] == response
    first, *middle, last = parts
    end = len(response) - len(last)
    if end < len(first) or not response.startswith(first) or not response.endswith(last):
        return False
    pos = len(first)
    for part in middle:
        found = response.find(part, pos, end)
        if found == -1:
            return False
        pos = found + len(part)
    return True


def _within(answer: Answer, value: float) -> bool:
    if answer.text == CATCH_ALL and answer.value is None and answer.min is None:
        return True
    if answer.value is not None:
        tol = abs(answer.tolerance or 0.0)
        lo, hi = answer.value - tol, answer.value + tol
    elif answer.min is not None and answer.max is not None:
        lo, hi = answer.min, answer.max
    else:
        return False
    eps = 1e-9 * max(1.0, abs(lo), abs(hi))  # float noise: 3.141 is within 3.1415 +- 0.0005
    return lo - eps <= value <= hi + eps


def _is_index(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check(q: Question, given: object) -> object:
    """Validate a normalised response for grade(); returns it in canonical form."""
    if given is None or q.type == "description":
        return None
    n = len(q.answers)
    if q.type in ("multiple_choice", "missing_word"):
        if not _is_index(given) or not 0 <= given < n:
            raise ResponseError(f"expected an answer index 0..{n - 1}, got {given!r}")
        return given
    if q.type == "multiple_response":
        if not isinstance(given, (list, tuple, set, frozenset)):
            raise ResponseError(f"expected a list of answer indices, got {given!r}")
        items = list(given)
        for i in items:
            if not _is_index(i) or not 0 <= i < n:
                raise ResponseError(f"expected answer indices 0..{n - 1}, got {i!r}")
        if len(set(items)) != len(items):
            raise ResponseError("the same answer is chosen twice")
        return sorted(items)
    if q.type == "true_false":
        if not isinstance(given, bool):
            raise ResponseError(f"expected true or false, got {given!r}")
        return given
    if q.type in ("short_answer", "essay"):
        if not isinstance(given, str):
            raise ResponseError(f"expected text, got {type(given).__name__}")
        if len(given) > MAX_TEXT:
            raise ResponseError(f"the answer is longer than {MAX_TEXT} characters")
        return given if given.strip() else None
    if q.type == "numerical":
        if isinstance(given, str):  # as typed: "3,14" is 3.14
            return _parse_number(given) if given.strip() else None
        if isinstance(given, bool) or not isinstance(given, (int, float)):
            raise ResponseError(f"expected a number, got {given!r}")
        if not math.isfinite(given):
            raise ResponseError("the number must be finite")
        return float(given)
    if q.type == "matching":
        if not isinstance(given, dict):
            raise ResponseError("expected a mapping of question index to answer text")
        options = {a.match for a in q.answers if a.match is not None}
        for k, v in given.items():
            if not _is_index(k) or not 0 <= k < n or not q.answers[k].text:
                raise ResponseError(f"matching has no question with index {k!r}")
            if not isinstance(v, str) or v not in options:
                raise ResponseError(f"{v!r} is not one of the answers to choose from")
        return dict(sorted(given.items())) or None
    raise ResponseError(f"unknown question type {q.type!r}")


# --------------------------------------------------------------------------- form values


def normalise_response(question: Question, raw: list[str]) -> object:
    """Turn the HTML form values of one question into the response object grade() takes.

    `raw` is the list of values of the field `q{i}`. For matching it is instead the list of the
    values of the fields `q{i}_{k}` in k order (k = index into question.answers; "" = not
    answered). Returns None when nothing was answered. Raises ResponseError on malformed input.
    """
    if raw is None:
        raw = []
    if isinstance(raw, str) or not isinstance(raw, (list, tuple)):
        raise ResponseError("form values must be a list of strings")
    for value in raw:
        if not isinstance(value, str):
            raise ResponseError("form values must be strings")
        if len(value) > MAX_TEXT:
            raise ResponseError(f"the answer is longer than {MAX_TEXT} characters")
        if "\x00" in value:
            raise ResponseError("the answer contains a NUL character")
    qtype = question.type
    n = len(question.answers)

    if qtype == "description":
        return None
    if qtype == "matching":
        return _normalise_matching(question, raw)
    if qtype == "multiple_response":
        values = [v.strip() for v in raw if v.strip()]
        indices = [_parse_index(v, n) for v in values]
        if len(set(indices)) != len(indices):
            raise ResponseError("the same answer is chosen twice")
        return sorted(indices) or None

    value = _single(raw)
    if value is None:
        return None
    if qtype in ("multiple_choice", "missing_word"):
        return _parse_index(value.strip(), n)
    if qtype == "true_false":
        word = value.strip().lower()
        if word in ("true", "1"):
            return True
        if word in ("false", "0"):
            return False
        raise ResponseError(f"expected true or false, got {_show(value)}")
    if qtype == "numerical":
        return _parse_number(value)
    if qtype in ("short_answer", "essay"):
        return value if value.strip() else None
    raise ResponseError(f"unknown question type {qtype!r}")


def _show(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:39] + "…")


def _single(raw: list[str]) -> str | None:
    present = [v for v in raw if v.strip()]
    if not present:
        return None
    if len(present) > 1:
        raise ResponseError("expected one value, got several")
    return present[0]


def _parse_index(value: str, n: int) -> int:
    if not _INDEX_RE.fullmatch(value):
        raise ResponseError(f"expected an answer number, got {_show(value)}")
    index = int(value)
    if index >= n:
        raise ResponseError(f"answer {index} does not exist (there are {n})")
    return index


def _parse_number(value: str) -> float:
    """A number as typed: '3.14', '3,14' (decimal comma), '1 822', '−5' (minus sign)."""
    s = value.strip().replace("\u2212", "-")
    if any(ch.isspace() for ch in s):  # only digit groups: "1 822" or "1 822,5"
        if not _GROUPED_RE.fullmatch(s):
            raise ResponseError(f"{_show(value)} is not a number")
        s = "".join(s.split())
    if "," in s:
        if "." in s or s.count(",") > 1:
            raise ResponseError(f"{_show(value)} is not a number")
        s = s.replace(",", ".")
    if not _NUMBER_RE.fullmatch(s):
        raise ResponseError(f"{_show(value)} is not a number")
    number = float(s)
    if not math.isfinite(number):
        raise ResponseError(f"{_show(value)} is too large")
    return number


def _normalise_matching(question: Question, raw: list[str]) -> dict[int, str] | None:
    answers = question.answers
    if len(raw) > len(answers):
        raise ResponseError(f"expected at most {len(answers)} values, got {len(raw)}")
    options = {a.match for a in answers if a.match is not None}
    out: dict[int, str] = {}
    for k, value in enumerate(raw):
        if not value.strip():
            continue
        if not answers[k].text:
            raise ResponseError(f"matching item {k} cannot be answered")
        if value not in options:
            stripped = value.strip()
            if stripped not in options:
                raise ResponseError(f"{_show(value)} is not one of the answers to choose from")
            value = stripped
        out[k] = value
    return out or None


__all__ = [
    "GradeResult",
    "QuestionResult",
    "ResponseError",
    "grade",
    "normalise_response",
]
