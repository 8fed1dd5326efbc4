"""Moodle GIFT and Aiken question formats: reader, writer and a stable JSON shape.

Pure Python (no Flask, no database). Reading never raises: a question that cannot be read is
reported as a GiftProblem with its line number instead of being dropped.

Problem messages are gettext msgids (marked with ``N_``, extracted by ``make extract``) with
named ``%(key)s`` parameters: ``message`` is the English text (CLI, logs), and
``translated(gettext)`` gives it in the interface language where it is shown (the studio).
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

QUESTION_TYPES = (
    "multiple_choice",
    "multiple_response",
    "true_false",
    "short_answer",
    "matching",
    "numerical",
    "missing_word",
    "essay",
    "description",
)
TEXT_FORMATS = ("moodle", "markdown", "html", "plain")
BLANK = "_____"  # marks where the answer block stood inside the question text
CATCH_ALL = "*"  # numerical "any other answer" (GIFT `~#feedback` or `=%0%*`)


@dataclass
class Answer:
    text: str  # plain/markup text of the answer ("" for numerical, "*" for a catch-all)
    fraction: float  # -1.0 .. 1.0
    feedback: str = ""
    match: str | None = None  # matching: the right-hand side
    value: float | None = None  # numerical: exact value (with tolerance)
    tolerance: float | None = None
    min: float | None = None  # numerical: range min..max
    max: float | None = None


@dataclass
class Question:
    type: str
    title: str
    text: str
    answers: list[Answer]
    general_feedback: str = ""
    text_format: str = "moodle"
    category: str | None = None
    line: int = 0
    # true_false: answers are exactly [Answer("true", ..), Answer("false", ..)]. Each answer's
    # feedback is what a student sees after choosing it. Moodle reads `{TRUE#fb1#fb2}` as
    # fb1 = "wrong-answer feedback", fb2 = "right-answer feedback" (split_truefalse_comment), so
    # for {TRUE#fb1#fb2}: true.feedback = fb2, false.feedback = fb1, and
    # for {FALSE#fb1#fb2}: true.feedback = fb1, false.feedback = fb2.


# --------------------------------------------------------------------------- messages


def N_(message: str) -> str:  # noqa: N802 (pybabel extracts N_ by default; as learning.i18n.N_)
    """Mark a msgid for extraction; it is translated where it is shown, not here."""
    return message


@dataclass(frozen=True)
class Term:
    """A fixed English word used as a message parameter (a type name, "minimum", …): it is
    translated along with the message, unlike parameters that are the author's own text."""

    msgid: str

    def __str__(self) -> str:
        return self.msgid


def format_message(msgid: str, params: Mapping[str, Any] | None = None,
                   translate: Callable[[str], str] | None = None) -> str:
    """``msgid % params``; with ``translate`` (e.g. flask_babel.gettext), the msgid and every
    Term parameter are translated first. Msgids always use %-style named placeholders (a
    literal percent sign is written ``%%``), with or without parameters."""
    tr = translate or (lambda text: text)
    values = {key: tr(value.msgid) if isinstance(value, Term) else value
              for key, value in (params or {}).items()}
    return tr(msgid) % values


def translate_message(message: str, msgid: str | None, params: Mapping[str, Any] | None,
                      translate: Callable[[str], str]) -> str:
    """The message in the interface language; the English ``message`` when there is no msgid
    (a problem made from an arbitrary text) or the translation does not format."""
    if not msgid:
        return message
    try:
        return format_message(msgid, params, translate)
    except (KeyError, ValueError, TypeError):
        return message


@dataclass
class GiftProblem:
    line: int
    message: str  # English
    msgid: str | None = field(default=None, compare=False, repr=False)
    params: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, line: int, msgid: str, /, **params: Any) -> GiftProblem:
        return cls(line, format_message(msgid, params), msgid, params)

    def translated(self, translate: Callable[[str], str]) -> str:
        return translate_message(self.message, self.msgid, self.params, translate)


# --------------------------------------------------------------------------- escaped text

_ESCAPES = {"\\": "\\", ":": ":", "#": "#", "=": "=", "{": "{", "}": "}", "~": "~", "n": "\n"}
_ESCAPE_RE = re.compile(r"\\[\\:#={}~n]")
_FORMAT_RE = re.compile(r"\[(moodle|html|plain|markdown)\]")
_WEIGHT_RE = re.compile(r"%(-?\d+(?:\.\d*)?)%")
_NUMBER_RE = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_LINE_RE = re.compile(r"\r\n|\r|\n")
_TF_WORDS = {"T": True, "TRUE": True, "F": False, "FALSE": False}


class _Src:
    """Decoded GIFT text. `lit` has "1" for characters that came from an escape sequence, which
    are never control characters; every search below skips them."""

    __slots__ = ("s", "lit")

    def __init__(self, s: str, lit: str) -> None:
        self.s = s
        self.lit = lit

    @classmethod
    def decode(cls, raw: str) -> _Src:
        parts: list[str] = []
        lits: list[str] = []
        pos = 0
        for m in _ESCAPE_RE.finditer(raw):
            parts.append(raw[pos : m.start()])
            lits.append("0" * (m.start() - pos))
            parts.append(_ESCAPES[m.group()[1]])
            lits.append("1")
            pos = m.end()
        parts.append(raw[pos:])
        lits.append("0" * (len(raw) - pos))
        return cls("".join(parts), "".join(lits))

    @classmethod
    def plain(cls, s: str) -> _Src:
        return cls(s, "0" * len(s))

    def __len__(self) -> int:
        return len(self.s)

    def __getitem__(self, key: slice) -> _Src:
        return _Src(self.s[key], self.lit[key])

    def __add__(self, other: _Src) -> _Src:
        return _Src(self.s + other.s, self.lit + other.lit)

    def _free(self, i: int, n: int) -> bool:
        return "1" not in self.lit[i : i + n]

    def find(self, sub: str, start: int = 0) -> int:
        i = self.s.find(sub, start)
        while i != -1 and not self._free(i, len(sub)):
            i = self.s.find(sub, i + 1)
        return i

    def rfind(self, sub: str) -> int:
        i = self.s.rfind(sub)
        while i != -1 and not self._free(i, len(sub)):
            i = self.s.rfind(sub, 0, i + len(sub) - 1)
        return i

    def startswith(self, prefix: str) -> bool:
        return self.s.startswith(prefix) and self._free(0, len(prefix))

    def strip(self) -> _Src:
        s, lit = self.s, self.lit
        a, b = 0, len(s)
        while a < b and lit[a] == "0" and s[a].isspace():
            a += 1
        while b > a and lit[b - 1] == "0" and s[b - 1].isspace():
            b -= 1
        return self[a:b]

    def split(self, sep: str, maxsplit: int = -1) -> list[_Src]:
        out: list[_Src] = []
        pos = 0
        while maxsplit < 0 or len(out) < maxsplit:
            i = self.find(sep, pos)
            if i == -1:
                break
            out.append(self[pos:i])
            pos = i + len(sep)
        out.append(self[pos:])
        return out

    def split_markers(self, markers: str) -> list[tuple[str, _Src]]:
        """Split before every unescaped marker character: [("", head), (marker, segment), ...]."""
        out: list[tuple[str, _Src]] = []
        marker, pos = "", 0
        for i, ch in enumerate(self.s):
            if ch in markers and self.lit[i] == "0":
                out.append((marker, self[pos:i]))
                marker, pos = ch, i + 1
        out.append((marker, self[pos:]))
        return out


class _Bad(Exception):
    """A question that cannot be read; the message (a msgid with parameters) is shown to the
    author. ``str(exc)`` is the English text."""

    def __init__(self, msgid: str, **params: Any) -> None:
        self.msgid = msgid
        self.params = params
        super().__init__(format_message(msgid, params))


def _with_format(src: _Src, default: str) -> tuple[str, str]:
    """Moodle's parse_text_with_format: an optional [format] prefix, then trimmed text."""
    src = src.strip()
    m = _FORMAT_RE.match(src.s)
    if m:
        return src[m.end() :].strip().s, m.group(1)
    return src.s, default


def _comment(src: _Src, fmt: str) -> tuple[str, str]:
    """Moodle's commentparser: `answer#feedback` (split at the first unescaped #)."""
    bits = src.split("#", 1)
    text = _with_format(bits[0], fmt)[0]
    feedback = _with_format(bits[1], fmt)[0] if len(bits) > 1 else ""
    return text, feedback


def _weight(src: _Src) -> tuple[float | None, _Src]:
    """A leading %weight% (Moodle's answerweightparser), as a fraction, or None."""
    m = _WEIGHT_RE.match(src.s)
    if not m:
        return None, src
    pct = Decimal(m.group(1))
    if not -100 <= pct <= 100:
        raise _Bad(N_("answer weight %(weight)s is outside the allowed range -100%%..100%%"),
                   weight=m.group(0))
    # Decimal keeps %33.33333% exactly 0.3333333, and lets the writer round-trip any float
    return float(pct.scaleb(-2)) + 0.0, src[m.end() :]


def _segments(src: _Src, markers: str) -> list[tuple[str, _Src]]:
    """Answers separated by markers; like Moodle, leading text before the first marker is an
    answer too unless it is blank."""
    segs = [(m, s.strip()) for m, s in src.split_markers(markers)]
    if segs and not segs[0][1]:
        segs = segs[1:]
    return segs


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


_NUMBER_PARTS = {  # what _number reads, as a message parameter
    # TRANSLATORS: a part of a numerical GIFT answer: the %(what)s of "numerical answer: %(what)s …".
    "minimum": Term(N_("minimum")),
    "maximum": Term(N_("maximum")),
    "value": Term(N_("value")),
    "tolerance": Term(N_("tolerance")),
}


def _number(spec: str, what: str) -> float:
    spec = spec.strip()
    part = _NUMBER_PARTS.get(what, what)
    if not _NUMBER_RE.fullmatch(spec):
        if "," in spec:
            raise _Bad(N_("numerical answer: %(what)s %(spec)s is not a number "
                          "(use a decimal point, not a comma)"), what=part, spec=repr(_short(spec)))
        raise _Bad(N_("numerical answer: %(what)s %(spec)s is not a number"),
                   what=part, spec=repr(_short(spec)))
    value = float(spec)
    if not math.isfinite(value):
        raise _Bad(N_("numerical answer: %(what)s %(spec)s is too large"), what=part, spec=repr(_short(spec)))
    return value + 0.0


# --------------------------------------------------------------------------- GIFT reader


def parse_gift(text: str, first_line: int = 1) -> tuple[list[Question], list[GiftProblem]]:
    """Read GIFT text. Questions are separated by blank lines; `first_line` is the number of the
    first line of `text` (for error messages when the text is a part of a larger file)."""
    questions: list[Question] = []
    problems: list[GiftProblem] = []
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if not isinstance(text, str):
        return [], [GiftProblem.of(first_line, N_("the GIFT input is not text"))]
    if text.startswith("\ufeff"):
        text = text[1:]
    category: str | None = None
    block: list[tuple[int, str]] = []
    lines = _LINE_RE.split(text)
    for number, line in enumerate(lines + [""], start=first_line):
        if line.strip():
            block.append((number, line))
            continue
        if not block:
            continue
        # Lines keep their indentation (as in Moodle's readquestion tests, and so markdown or
        # <pre> question text survives); each answer is trimmed on its own anyway.
        body = [(n, ln) for n, ln in block if not ln.strip().startswith("//")]
        block = []
        if body and body[0][1].strip().startswith("$CATEGORY:"):
            name = _Src.decode(body[0][1].strip()[len("$CATEGORY:") :]).strip().s
            category = name or None
            body = body[1:]
        if not body:
            continue
        start = body[0][0]
        try:
            q = _read_gift_question("\n".join(ln for _, ln in body))
        except _Bad as exc:
            problems.append(GiftProblem(start, str(exc), exc.msgid, exc.params))
            continue
        except Exception as exc:  # pragma: no cover - safety net: reading must never raise
            problems.append(GiftProblem.of(start, N_("could not read this question (%(error)s)"), error=repr(exc)))
            continue
        q.category = category
        q.line = start
        questions.append(q)
    return questions, problems


def _read_gift_question(raw: str) -> Question:
    src = _Src.decode(raw).strip()

    title = ""
    if src.startswith("::"):
        src = src[2:]
        end = src.find("::")
        if end != -1:  # like Moodle, an unclosed title is just dropped from the text
            title = src[:end].strip().s
            src = src[end + 2 :].strip()

    start, finish = src.find("{"), src.find("}")
    if start == -1 and finish == -1:
        text, fmt = _with_format(src, "moodle")
        return Question("description", title, text, [], text_format=fmt)
    if start == -1:
        raise _Bad(N_("found '}' without an opening '{' (write \\} for a literal brace)"))
    if finish == -1:
        raise _Bad(N_(
            "unclosed '{': the answer block has no closing '}' "
            "(a blank line ends a question, so answer blocks cannot contain blank lines)"
        ))
    if finish < start:
        raise _Bad(N_("found '}' before the opening '{' (write \\} for a literal brace)"))
    if src.find("{", start + 1) != -1 or src.find("}", finish + 1) != -1:
        raise _Bad(N_(
            "only one answer block {...} is allowed per question "
            "(write \\{ and \\} for literal braces)"
        ))

    embedded = finish != len(src) - 1
    if embedded:  # Moodle inserts a blank when text follows the answers (missing word)
        qsrc = src[:start] + _Src.plain(BLANK) + src[finish + 1 :]
    else:
        qsrc = src[:start]
    text, fmt = _with_format(qsrc, "moodle")

    answertext = src[start + 1 : finish].strip()
    general_feedback = ""
    sep = answertext.rfind("####")
    if sep != -1:
        general_feedback = _with_format(answertext[sep + 4 :], fmt)[0]
        answertext = answertext[:sep].strip()

    q = Question("essay", title, text, [], general_feedback=general_feedback, text_format=fmt)
    if not answertext:
        return q
    if answertext.startswith("#"):
        q.type, q.answers = "numerical", _numerical(answertext[1:], fmt)
    elif answertext.find("~") != -1:
        single = answertext.find("=") != -1
        q.answers = _choices(answertext, fmt)
        if single:
            q.type = "missing_word" if embedded else "multiple_choice"
        else:
            q.type = "multiple_response"
            _check_multiple_response(q.answers)
    elif answertext.find("=") != -1 and answertext.find("->") != -1:
        q.type, q.answers = "matching", _matching(answertext, fmt)
    else:
        check = answertext
        hash_at = answertext.find("#")
        if hash_at > 0:
            check = answertext[:hash_at].strip()
        if check.s in _TF_WORDS:
            q.type, q.answers = "true_false", _true_false(answertext, fmt)
        else:
            q.type, q.answers = "short_answer", _short_answers(answertext, fmt)
    return q


def _choices(answertext: _Src, fmt: str) -> list[Answer]:
    answers: list[Answer] = []
    for n, (marker, seg) in enumerate(_segments(answertext, "~="), start=1):
        if marker == "=":  # Moodle: '=' is always 100%, no %weight% after it
            fraction = 1.0
        else:
            weight, seg = _weight(seg)
            fraction = 0.0 if weight is None else weight
        text, feedback = _comment(seg, fmt)
        if not text:
            raise _Bad(N_("answer %(number)d is empty"), number=n)
        answers.append(Answer(text, fraction, feedback))
    if len(answers) < 2:
        raise _Bad(N_("a multiple-choice question needs at least 2 answers"))
    return answers


def _check_multiple_response(answers: list[Answer]) -> None:
    # Moodle (qtype_multichoice): with several right answers the positive weights must add up
    # to 100%; with no '=' and no positive weight no answer can ever be right.
    positive = sum(a.fraction for a in answers if a.fraction > 0)
    if positive <= 0:
        raise _Bad(N_(
            "no answer is marked right: mark the right answer with '=', or give the right "
            "answers of a multiple-response question weights such as ~%%50%%"
        ))
    if round(positive, 2) != 1.0:
        raise _Bad(N_(
            "the positive answer weights of a multiple-response question must add up to 100%% "
            "(they add up to %(total)s%%)"
        ), total=f"{round(positive * 100, 2):g}")


def _matching(answertext: _Src, fmt: str) -> list[Answer]:
    answers: list[Answer] = []
    for n, (_marker, seg) in enumerate(_segments(answertext, "="), start=1):
        arrow = seg.find("->")
        if arrow == -1:
            raise _Bad(N_("matching pair %(number)d (%(pair)s) has no '->'"), number=n, pair=repr(_short(seg.s)))
        left = _with_format(seg[:arrow], fmt)[0]
        right = seg[arrow + 2 :].strip().s
        if not right:
            if left:
                raise _Bad(N_("matching pair %(number)d %(pair)s has nothing after '->'"),
                           number=n, pair=repr(_short(left)))
            raise _Bad(N_("matching pair %(number)d (empty) has nothing after '->'"), number=n)
        answers.append(Answer(left, 1.0 if left else 0.0, match=right))
    if sum(1 for a in answers if a.text) < 2:
        raise _Bad(N_("a matching question needs at least 2 pairs (=question -> answer)"))
    return answers


def _true_false(answertext: _Src, fmt: str) -> list[Answer]:
    bits = answertext.split("#", 2)
    correct = _TF_WORDS[bits[0].strip().s]
    wrong = _with_format(bits[1], fmt)[0] if len(bits) > 1 else ""
    right = _with_format(bits[2], fmt)[0] if len(bits) > 2 else ""
    return [
        Answer("true", 1.0 if correct else 0.0, right if correct else wrong),
        Answer("false", 0.0 if correct else 1.0, wrong if correct else right),
    ]


def _short_answers(answertext: _Src, fmt: str) -> list[Answer]:
    answers: list[Answer] = []
    for n, (_marker, seg) in enumerate(_segments(answertext, "="), start=1):
        weight, seg = _weight(seg)
        text, feedback = _comment(seg, fmt)
        if not text:
            raise _Bad(N_("answer %(number)d is empty"), number=n)
        answers.append(Answer(text, 1.0 if weight is None else weight, feedback))
    if not answers:
        raise _Bad(N_("a short-answer question needs at least 1 answer"))
    _check_full_marks(answers)
    return answers


def _check_full_marks(answers: list[Answer]) -> None:
    best = max(a.fraction for a in answers)
    if best < 0.9999999:
        raise _Bad(
            N_("one of the answers must be worth 100%% (the best is worth %(best)s%%)"),
            best=f"{round(best * 100, 5):g}",
        )


def _numerical(body: _Src, fmt: str) -> list[Answer]:
    wrong: _Src | None = None
    tilde = body.find("~")
    if tilde != -1:  # Moodle: everything after '~' is the feedback for any other answer
        wrong, body = body[tilde:], body[:tilde]
    answers: list[Answer] = []
    for _marker, seg in _segments(body, "="):
        weight, seg = _weight(seg)
        fraction = 1.0 if weight is None else weight
        spec, feedback = _comment(seg, fmt)
        if spec == CATCH_ALL:
            answers.append(Answer(CATCH_ALL, fraction, feedback))
            continue
        if not spec:
            raise _Bad(N_("numerical answer is empty"))
        dots, colon = spec.find(".."), spec.find(":")
        if dots > 0:
            lo = _number(spec[:dots], "minimum")
            hi = _number(spec[dots + 2 :], "maximum")
            lo, hi = min(lo, hi), max(lo, hi)
            answers.append(Answer("", fraction, feedback, min=lo, max=hi))
        elif colon > 0:
            value = _number(spec[:colon], "value")
            tolerance = abs(_number(spec[colon + 1 :], "tolerance"))
            answers.append(Answer("", fraction, feedback, value=value, tolerance=tolerance))
        else:
            value = _number(spec, "value")
            answers.append(Answer("", fraction, feedback, value=value, tolerance=0.0))
    if not answers:
        raise _Bad(N_("no answers found for the numerical question (e.g. {#3.14:0.01})"))
    _check_full_marks(answers)
    if wrong is not None:
        answers.append(Answer(CATCH_ALL, 0.0, _comment(wrong, fmt)[1]))
    return answers


# --------------------------------------------------------------------------- Aiken reader

_AIKEN_CHOICE_RE = re.compile(r"[A-Z][).][ \t]?")


def parse_aiken(text: str, first_line: int = 1) -> tuple[list[Question], list[GiftProblem]]:
    """Read Aiken text (Moodle's qformat_aiken): a one-line question, choices `A) text` or
    `A. text`, then `ANSWER: B`. Texts are HTML-escaped and the format is "html", as in Moodle."""
    questions: list[Question] = []
    problems: list[GiftProblem] = []
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if not isinstance(text, str):
        return [], [GiftProblem.of(first_line, N_("the Aiken input is not text"))]
    if text.startswith("\ufeff"):
        text = text[1:]

    current: Question | None = None
    labels: list[str] = []

    def esc(s: str) -> str:
        return html.escape(s.strip(), quote=False)

    for number, raw in enumerate(_LINE_RE.split(text), start=first_line):
        line = raw.strip()
        if len(line) < 2:
            continue
        if _AIKEN_CHOICE_RE.match(line):
            if current is None:
                problems.append(GiftProblem.of(number, N_("question not started on line %(line)d"), line=number))
                continue
            labels.append(line[0])
            current.answers.append(Answer(esc(line[2:]), 0.0))
        elif line.startswith("ANSWER:"):
            if current is None:
                problems.append(GiftProblem.of(number, N_("question not started on line %(line)d"), line=number))
                continue
            q, current = current, None
            letter = line[len("ANSWER:") :].strip()[:1].upper()
            name = _short(html.unescape(q.text), 60)
            if len(q.answers) < 2:
                problems.append(GiftProblem.of(
                    number, N_("question %(question)s must have at least 2 answers on line %(line)d"),
                    question=repr(name), line=number,
                ))
            elif not letter:
                problems.append(GiftProblem.of(
                    number, N_("question %(question)s: ANSWER has no letter"), question=repr(name)
                ))
            elif labels.count(letter) != 1:
                msgid = (N_("question %(question)s: ANSWER: %(letter)s is used twice (%(choices)s)")
                         if labels.count(letter) else
                         N_("question %(question)s: ANSWER: %(letter)s is not one of the choices (%(choices)s)"))
                problems.append(GiftProblem.of(
                    number, msgid, question=repr(name), letter=letter, choices=", ".join(labels)
                ))
            else:
                q.answers[labels.index(letter)].fraction = 1.0
                questions.append(q)
        else:
            if current is not None:
                name = _short(html.unescape(current.text), 60)
                problems.append(GiftProblem.of(
                    number,
                    N_("question %(question)s not completed (no ANSWER: line) before the next "
                       "question starts on line %(line)d"),
                    question=repr(name), line=number,
                ))
            current = Question("multiple_choice", "", esc(line), [], text_format="html")
            current.line = number
            labels = []
    if current is not None:
        name = _short(html.unescape(current.text), 60)
        problems.append(GiftProblem.of(
            current.line, N_("question %(question)s not completed: no ANSWER: line"), question=repr(name)
        ))
    return questions, problems


# --------------------------------------------------------------------------- GIFT writer


def _esc(text: str) -> str:
    """Moodle's repchar: escape the control characters and encode newlines as \\n."""
    text = text.replace("\\", "\\\\")
    for ch in "~=#{}:":
        text = text.replace(ch, "\\" + ch)
    return text.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def _esc_text(text: str, fmt: str) -> str:
    """Escaped text; a leading [format] that is part of the text is protected by a prefix."""
    prefix = f"[{fmt}]" if _FORMAT_RE.match(text.strip()) else ""
    return prefix + _esc(text)


def _fixed_decimal(d: Decimal) -> str:
    s = format(d, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def _percent(fraction: float) -> str:
    """The %-weight that reads back as exactly `fraction` (shortest repr, times 100)."""
    return _fixed_decimal(Decimal(repr(float(fraction))).scaleb(2))


def _num(x: float) -> str:
    if math.isfinite(x) and x == int(x) and abs(x) < 1e16:
        return str(int(x))
    return repr(float(x))


def _feedback(text: str, fmt: str) -> str:
    return "#" + _esc_text(text, fmt) if text else ""


def _block(q: Question) -> str:
    fmt = q.text_format
    lines: list[str] = []
    if q.type in ("multiple_choice", "missing_word", "multiple_response"):
        single = q.type != "multiple_response"
        for a in q.answers:
            if single and a.fraction == 1.0:
                head = "="
            elif a.fraction == 0.0 and not a.text.lstrip().startswith("%"):
                head = "~"
            else:
                head = f"~%{_percent(a.fraction)}%"
            lines.append(head + _esc_text(a.text, fmt) + _feedback(a.feedback, fmt))
    elif q.type == "short_answer":
        # '=' plus '->' would read as matching; a single answer can go without its '='.
        arrows = any("->" in a.text or "->" in a.feedback for a in q.answers)
        if arrows and len(q.answers) > 1:
            raise ValueError("GIFT cannot write '->' in a short answer with several answers")
        for a in q.answers:
            weight = "" if a.fraction == 1.0 and not a.text.lstrip().startswith("%") else (
                f"%{_percent(a.fraction)}%"
            )
            head = "" if arrows else "="
            lines.append(head + weight + _esc_text(a.text, fmt) + _feedback(a.feedback, fmt))
        if arrows:  # inline, so a bare answer starting with // is not read as a comment
            if q.general_feedback:
                lines.append("####" + _esc_text(q.general_feedback, fmt))
            return "{" + " ".join(lines) + "}"
    elif q.type == "matching":
        for a in q.answers:
            if "->" in a.text:
                raise ValueError(f"matching question {a.text!r}: GIFT cannot write '->' there")
            lines.append(f"={_esc_text(a.text, fmt)} -> {_esc(a.match or '')}")
    elif q.type == "numerical":
        for i, a in enumerate(q.answers):
            weight = "" if a.fraction == 1.0 else f"%{_percent(a.fraction)}%"
            if a.value is not None:
                spec = f"{_num(a.value)}:{_num(a.tolerance or 0.0)}"
            elif a.min is not None and a.max is not None:
                spec = f"{_num(a.min)}..{_num(a.max)}"
            elif i == len(q.answers) - 1 and a.fraction == 0.0:
                lines.append("~#" + _esc_text(a.feedback, fmt))
                continue
            else:
                spec = CATCH_ALL
            lines.append("=" + weight + spec + _feedback(a.feedback, fmt))
    elif q.type == "true_false":
        by_text = {a.text: a for a in q.answers}
        if len(q.answers) != 2 or set(by_text) != {"true", "false"}:
            raise ValueError("a true_false question needs exactly the answers 'true' and 'false'")
        correct = by_text["true"].fraction >= by_text["false"].fraction
        right = by_text["true" if correct else "false"].feedback
        wrong = by_text["false" if correct else "true"].feedback
        out = "TRUE" if correct else "FALSE"
        if wrong or right:
            out += "#" + _esc_text(wrong, fmt)
        if right:
            out += "#" + _esc_text(right, fmt)
        if q.general_feedback:
            out += "####" + _esc_text(q.general_feedback, fmt)
        return "{" + out + "}"
    if q.type == "essay":
        gf = "####" + _esc_text(q.general_feedback, fmt) if q.general_feedback else ""
        return "{" + gf + "}"
    if q.general_feedback:
        lines.append("####" + _esc_text(q.general_feedback, fmt))
    opening = "{#\n" if q.type == "numerical" else "{\n"
    return opening + "".join(f"\t{ln}\n" for ln in lines) + "}"


def _write_question(q: Question) -> str:
    if q.type not in QUESTION_TYPES:
        raise ValueError(f"unknown question type {q.type!r}")
    fmt = q.text_format
    if fmt not in TEXT_FORMATS:
        raise ValueError(f"unknown text format {fmt!r}")
    text = q.text
    stripped = text.strip()
    if q.title:
        head = f"::{_esc(q.title)}::"
    elif not stripped or text.startswith("\ufeff") or stripped.startswith(("//", "$CATEGORY:")):
        head = "::::"  # an empty title keeps the text from reading as a comment, category or BOM
    else:
        head = ""
    if fmt != "moodle" or _FORMAT_RE.match(stripped):
        head += f"[{fmt}]"
    if q.type == "description":
        return head + _esc(text)
    block = _block(q)
    if q.type == "missing_word" and BLANK in text:
        before, after = text.split(BLANK, 1)
        return head + _esc(before) + block + _esc(after)
    return head + _esc(text) + block


def write_gift(questions: list[Question]) -> str:
    """Write questions as GIFT; parse_gift(write_gift(qs))[0] equals qs (line numbers aside).

    Raises ValueError for a question GIFT cannot express (e.g. '->' in the left side of a
    matching pair)."""
    out: list[str] = []
    category: str | None = None
    for q in questions:
        if q.category != category:
            name = (q.category or "").replace("\\", "\\\\")
            name = name.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")
            out.append(f"$CATEGORY: {name}".rstrip() + "\n")
            category = q.category
        out.append(_write_question(q) + "\n")
    return "\n".join(out)


# --------------------------------------------------------------------------- JSON shape


def question_to_dict(q: Question) -> dict:
    """The stable JSON shape used to store a question."""
    answers = []
    for a in q.answers:
        d: dict = {"text": a.text, "fraction": a.fraction, "feedback": a.feedback}
        if q.type == "matching":
            d["match"] = a.match
        elif q.type == "numerical":
            if a.value is not None:
                d["value"], d["tolerance"] = a.value, a.tolerance
            elif a.min is not None or a.max is not None:
                d["min"], d["max"] = a.min, a.max
        answers.append(d)
    return {
        "type": q.type,
        "title": q.title,
        "text": q.text,
        "text_format": q.text_format,
        "category": q.category,
        "answers": answers,
        "general_feedback": q.general_feedback,
    }


def _opt_float(d: dict, key: str) -> float | None:
    v = d.get(key)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ValueError(f"answer {key!r} must be a finite number, not {v!r}")
    return float(v)


def _str(d: dict, key: str, default: str | None = None) -> str:
    v = d.get(key, default)
    if not isinstance(v, str):
        raise ValueError(f"{key!r} must be a string, not {v!r}")
    return v


def question_from_dict(d: dict) -> Question:
    """Inverse of question_to_dict; raises ValueError on a malformed dict."""
    if not isinstance(d, dict):
        raise ValueError("a question must be a dict")
    qtype = d.get("type")
    if qtype not in QUESTION_TYPES:
        raise ValueError(f"unknown question type {qtype!r}")
    text_format = d.get("text_format", "moodle")
    if text_format not in TEXT_FORMATS:
        raise ValueError(f"unknown text format {text_format!r}")
    category = d.get("category")
    if category is not None and not isinstance(category, str):
        raise ValueError("'category' must be a string or null")
    raw_answers = d.get("answers", [])
    if not isinstance(raw_answers, list):
        raise ValueError("'answers' must be a list")
    answers = []
    for a in raw_answers:
        if not isinstance(a, dict):
            raise ValueError("each answer must be a dict")
        fraction = _opt_float(a, "fraction")
        match = a.get("match")
        if match is not None and not isinstance(match, str):
            raise ValueError("answer 'match' must be a string")
        answers.append(
            Answer(
                text=_str(a, "text", ""),
                fraction=0.0 if fraction is None else fraction,
                feedback=_str(a, "feedback", ""),
                match=match,
                value=_opt_float(a, "value"),
                tolerance=_opt_float(a, "tolerance"),
                min=_opt_float(a, "min"),
                max=_opt_float(a, "max"),
            )
        )
    return Question(
        type=qtype,
        title=_str(d, "title", ""),
        text=_str(d, "text", ""),
        answers=answers,
        general_feedback=_str(d, "general_feedback", ""),
        text_format=text_format,
        category=category,
    )


__all__ = [
    "QUESTION_TYPES",
    "Answer",
    "Question",
    "GiftProblem",
    "Term",
    "N_",
    "format_message",
    "translate_message",
    "parse_gift",
    "parse_aiken",
    "write_gift",
    "question_to_dict",
    "question_from_dict",
]
