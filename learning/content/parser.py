"""Course folder → typed course object + a list of problems.

Pure module: no Flask, no database.  The course format is described in DESIGN.md
("Course format")::

    <slug>/course.yaml
    <slug>/NN-<module>.<lang>.md     YAML front matter + Markdown body with ```quiz blocks
    <slug>/media/…                   images and downloads
    <slug>/SOURCES.md                ignored by the parser

Everything goes through :func:`course_from_files` (an in-memory folder: relative path →
bytes), which the file loader, the browser studio and the zip import share.  Parsing never
raises on any input; it returns a best-effort course and *all* problems found, each with the
file (relative to the library root, i.e. ``<slug>/<path>``) and the 1-based line.

A problem's message is a gettext msgid (marked with ``N_``, so ``make extract`` collects it)
with named parameters. ``Problem.message`` is English (the CLI, ``courses dump``, logs);
``Problem.translated(gettext)`` is the message in the interface language, for the studio.
Translation happens there: parsing needs no Flask.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import re
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from learning.quizzes.gift import (
    N_,
    Question,
    Term,
    format_message,
    parse_aiken,
    parse_gift,
    question_to_dict,
    translate_message,
)

__all__ = [
    "SUPPORTED_LANGUAGES",
    "Problem",
    "QuizSettings",
    "ModuleText",
    "Module",
    "Course",
    "load_course",
    "load_library",
    "course_from_files",
    "course_to_dict",
]

SUPPORTED_LANGUAGES = ("kk", "ru", "en")
SHOW_ANSWERS = ("never", "after_submit", "after_pass")
COURSE_KEYS = (
    "title", "description", "languages", "audience", "duration_minutes", "completion", "quiz",
    "validity_months", "sequential", "modules", "version_note",
)  # fmt: skip
QUIZ_KEYS = (
    "passing_score", "max_attempts", "time_limit_minutes", "shuffle", "show_answers", "draw",
    "categories",
)  # fmt: skip
FRONT_MATTER_KEYS = ("title", "duration_minutes", "objectives", "quiz", "required")
COMPLETION_KEYS = ("modules", "quizzes")
# Top-level Markdown files that are documentation, not modules.
DOC_FILES = ("SOURCES.md", "README.md")
LINK_SCHEMES = ("http", "https", "mailto")

MODULE_FILE = re.compile(
    r"(?P<slug>(?P<number>\d{1,4})-(?P<name>[a-z0-9]+(?:-[a-z0-9]+)*))\.(?P<lang>[a-z]{2})\.md"
)
MODULE_FILE_HINT = "NN-slug.lang.md (e.g. 01-why-it-matters.ru.md; lowercase a-z, 0-9 and '-')"
COURSE_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,99}")
_MODULE_LINK = re.compile(r"(\d{1,4}-[a-z0-9]+(?:-[a-z0-9]+)*)(?:\.(?:kk|ru|en)\.md)?")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):", re.IGNORECASE)
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f-\x9f\u00a0\u1680\u2000-\u200f\u2028-\u202f\u205f\u3000\ufeff]+")
FENCE_OPEN = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_BACKTICKS = re.compile(r"`+")
_INLINE_LINK = re.compile(
    r"(?P<bang>!?)\[(?:[^\[\]\\]|\\.|\[[^\[\]]*\])*\]"
    r"\(\s*+(?:<(?P<angle>[^>\n]*)>|(?P<bare>[^\s()]*+(?:\([^\s()]*\)[^\s()]*)*+))"
    r"(?:\s++(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*+\)"
)
_REFERENCE_DEF = re.compile(r"^ {0,3}\[(?:[^\]\\]|\\.)+\]:\s*(?:<(?P<angle>[^>]*)>|(?P<bare>\S+))")
_HTML_URL = re.compile(
    r"<(?P<tag>[a-zA-Z][a-zA-Z0-9]*)\b[^<>]*?\s(?P<attr>src|href)\s*=\s*"
    r"(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)'|(?P<uq>[^\s\"'>]+))",
    re.IGNORECASE,
)


# --------------------------------------------------------------------------- dataclasses


@dataclass
class Problem:
    """One thing wrong with a course, located in a file (relative to the library root).

    ``message`` is English; ``msgid`` and ``params`` give it in other languages (see
    :meth:`translated`). A problem made from a bare message (no msgid) shows that message.
    """

    file: str
    line: int
    message: str
    severity: str = "error"  # or "warning"
    msgid: str | None = field(default=None, compare=False, repr=False)
    params: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def translated(self, translate: Callable[[str], str]) -> str:
        """The message translated by ``translate`` (e.g. flask_babel.gettext)."""
        return translate_message(self.message, self.msgid, self.params, translate)


def _problem(file: str, line: int, msgid: str, params: dict[str, Any] | None = None,
             severity: str = "error") -> Problem:
    params = dict(params or {})
    return Problem(file, line, format_message(msgid, params), severity, msgid, params)


@dataclass
class QuizSettings:
    passing_score: int = 80
    max_attempts: int | None = 3
    time_limit_minutes: int | None = None
    shuffle: bool = True
    show_answers: str = "after_pass"
    draw: int | None = None
    categories: list[str] | None = None


@dataclass
class ModuleText:
    """One language version of a module (one ``NN-slug.lang.md`` file)."""

    language: str
    title: str
    duration_minutes: int | None
    objectives: list[str]
    body: str  # Markdown without the quiz blocks
    questions: list[Question]
    quiz_settings_overrides: dict[str, Any]
    source_file: str  # path inside the course folder, e.g. "01-why-it-matters.ru.md"
    required: bool = True


@dataclass
class Module:
    slug: str
    position: int  # 1-based
    texts: dict[str, ModuleText] = field(default_factory=dict)

    def text_for(self, lang: str | None, fallback: str | None = None) -> tuple[ModuleText, bool]:
        """The text in ``lang``, else in ``fallback``, else the first one; and whether it fell back."""
        if lang in self.texts:
            return self.texts[lang], False  # type: ignore[index]
        if fallback in self.texts:
            return self.texts[fallback], True  # type: ignore[index]
        if not self.texts:
            raise LookupError(f"module {self.slug} has no text")
        return next(iter(self.texts.values())), True

    @property
    def has_quiz(self) -> bool:
        return any(text.questions for text in self.texts.values())

    @property
    def languages(self) -> list[str]:
        return list(self.texts)


@dataclass
class Course:
    slug: str
    title: dict[str, str]
    description: dict[str, str]
    languages: list[str]
    audience: dict[str, str]
    duration_minutes: int | None
    completion_modules: list[str]
    completion_quizzes: list[str]
    quiz: QuizSettings
    validity_months: int | None
    sequential: bool
    modules: list[Module]
    media: list[str]
    content_hash: str
    version_note: str = ""

    @property
    def fallback_language(self) -> str | None:
        return self.languages[0] if self.languages else None

    def module(self, slug: str) -> Module | None:
        for module in self.modules:
            if module.slug == slug:
                return module
        return None

    def fallback_text(self, module: Module) -> ModuleText:
        return module.text_for(self.fallback_language)[0]

    def quiz_settings_for(self, module: Module) -> QuizSettings:
        """Course quiz settings overridden by the module's (fallback-language) front matter."""
        if not module.texts:
            return replace(self.quiz)
        overrides = self.fallback_text(module).quiz_settings_overrides
        settings = replace(self.quiz, **overrides)
        if settings.categories is not None:
            settings.categories = list(settings.categories)
        return settings

    def localized(self, mapping: dict[str, str], lang: str | None) -> str:
        """``mapping[lang]``, else the fallback language's, else any value, else ''."""
        if lang in mapping:
            return mapping[lang]  # type: ignore[index]
        if self.fallback_language in mapping:
            return mapping[self.fallback_language]  # type: ignore[index]
        return next(iter(mapping.values()), "")

    def title_for(self, lang: str | None) -> str:
        return self.localized(self.title, lang) or self.slug


# --------------------------------------------------------------------------- helpers


def _short(value: Any, limit: int = 60) -> str:
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - repr of exotic YAML values
        text = "<value>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_TYPE_NAMES = {
    # TRANSLATORS: a YAML value type, the %(type)s of "… must be a mapping, not %(type)s" (nominative).
    type(None): Term(N_("null")),
    bool: Term(N_("boolean")),
    int: Term(N_("integer")),
    float: Term(N_("number")),
    str: Term(N_("text")),
    list: Term(N_("list")),
    # TRANSLATORS: a YAML mapping (key: value pairs), as a value type.
    dict: Term(N_("mapping")),
}


def _type_name(value: Any) -> Term | str:
    """The YAML type of `value`, as a message parameter (translated with the message)."""
    return _TYPE_NAMES.get(type(value), type(value).__name__)


class _Reporter:
    """Collects problems for one file: a msgid marked with N_ and its named parameters."""

    def __init__(self, problems: list[Problem], file: str) -> None:
        self.problems = problems
        self.file = file

    def error(self, line: int, msgid: str, /, **params: Any) -> None:
        self.problems.append(_problem(self.file, line, msgid, params, "error"))

    def warning(self, line: int, msgid: str, /, **params: Any) -> None:
        self.problems.append(_problem(self.file, line, msgid, params, "warning"))


@dataclass
class _Yaml:
    data: Any
    lines: dict[tuple, int]
    first_line: int

    def line(self, *path: Any) -> int:
        """Line of the most specific known node on ``path`` (falls back to its parents)."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.first_line


def _decode(data: bytes, report: _Reporter) -> str | None:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        report.error(line, N_("file is not valid UTF-8 text"))
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _load_yaml(text: str, first_line: int, report: _Reporter) -> _Yaml | None:
    """Safe-load YAML, keeping the line of every key; ``None`` (reported) if unreadable."""
    import yaml  # on first use (sync, validate, a studio save), not at every start-up

    loader = None
    try:
        loader = yaml.SafeLoader(text)
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + first_line if mark is not None else first_line
        what = " ".join(str(part) for part in (exc.context, exc.problem) if part) or "syntax error"
        report.error(line, N_("invalid YAML: %(error)s"), error=what)
        return None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + first_line
        code = exc.character if isinstance(exc.character, int) else 0
        report.error(line, N_("invalid YAML: unacceptable character #x%(code)s"), code=f"{code:04x}")
        return None
    except Exception as exc:  # noqa: BLE001 - YAMLError, RecursionError, huge ints, …
        report.error(first_line, N_("invalid YAML: %(error)s"), error=_short(str(exc), 120))
        return None
    finally:
        if loader is not None:
            loader.dispose()
    lines: dict[tuple, int] = {}
    if node is not None:
        _index_lines(node, (), first_line, lines, report, [0])
    return _Yaml(data, lines, first_line)


def _index_lines(
    node: yaml.Node, path: tuple, first_line: int, lines: dict, report: _Reporter, budget: list
) -> None:
    import yaml

    if len(path) >= 3 or budget[0] > 5000:
        return
    budget[0] += 1
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key = key_node.value
            key_path = (*path, key)
            line = key_node.start_mark.line + first_line
            if key in seen and key != "<<":
                report.error(line, N_("duplicate key %(key)s"), key=_short(key))
            seen.add(key)
            lines.setdefault(key_path, line)
            _index_lines(value_node, key_path, first_line, lines, report, budget)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines.setdefault((*path, index), item.start_mark.line + first_line)
            _index_lines(item, (*path, index), first_line, lines, report, budget)


_UNKNOWN_KEY = {  # where -> msgid
    "course.yaml": N_("unknown key %(key)s in course.yaml (allowed: %(allowed)s)"),
    "front matter": N_("unknown key %(key)s in front matter (allowed: %(allowed)s)"),
    "completion": N_("unknown key %(key)s in completion (allowed: %(allowed)s)"),
    "course quiz": N_("unknown key %(key)s in course quiz (allowed: %(allowed)s)"),
    "module quiz": N_("unknown key %(key)s in module quiz (allowed: %(allowed)s)"),
}


def _check_keys(
    mapping: dict, allowed: tuple[str, ...], where: str, doc: _Yaml, path: tuple, report: _Reporter
) -> None:
    for key in mapping:
        if key not in allowed:
            report.error(doc.line(*path, key), _UNKNOWN_KEY[where], key=_short(key), allowed=", ".join(allowed))


_TRUE_OR_FALSE = N_("%(name)s must be true or false, not %(value)s")


def _int_value(
    value: Any, name: str, line: int, report: _Reporter, *, minimum: int = 0,
    maximum: int | None = None, nullable: bool = False,
) -> tuple[bool, int | None]:  # fmt: skip
    """(is_valid, value) for an integer setting; reports what is wrong."""
    if value is None and nullable:
        return True, None
    if not _is_int(value):
        # TRANSLATORS: %(name)s is a setting (duration_minutes, quiz.draw…), %(type)s a value type
        # (boolean, text…), %(value)s the value as written.
        msgid = (N_("%(name)s must be an integer or null, not %(type)s %(value)s") if nullable
                 else N_("%(name)s must be an integer, not %(type)s %(value)s"))
        report.error(line, msgid, name=name, type=_type_name(value), value=_short(value))
        return False, None
    if value < minimum or (maximum is not None and value > maximum):
        if maximum is not None:
            report.error(line, N_("%(name)s must be %(minimum)d..%(maximum)d, not %(value)s"),
                         name=name, minimum=minimum, maximum=maximum, value=str(value))
        else:
            report.error(line, N_("%(name)s must be >= %(minimum)d, not %(value)s"),
                         name=name, minimum=minimum, value=str(value))
        return False, None
    return True, value


def _quiz_settings(value: Any, where: str, doc: _Yaml, path: tuple, report: _Reporter) -> dict:
    """Validated quiz settings from a ``quiz:`` mapping (only the keys that are valid)."""
    if not isinstance(value, dict):
        msgid = (N_("module quiz must be a mapping, not %(type)s") if where == "module"
                 else N_("course quiz must be a mapping, not %(type)s"))
        report.error(doc.line(*path), msgid, type=_type_name(value))
        return {}
    _check_keys(value, QUIZ_KEYS, f"{where} quiz", doc, path, report)
    out: dict[str, Any] = {}
    for key in QUIZ_KEYS:
        if key not in value:
            continue
        item = value[key]
        line = doc.line(*path, key)
        name = f"quiz.{key}"
        if key == "passing_score":
            ok, number = _int_value(item, name, line, report, minimum=0, maximum=100)
        elif key in ("max_attempts", "time_limit_minutes", "draw"):
            ok, number = _int_value(item, name, line, report, minimum=1, nullable=True)
        elif key == "shuffle":
            ok, number = isinstance(item, bool), item
            if not ok:
                report.error(line, _TRUE_OR_FALSE, name=name, value=_short(item))
        elif key == "show_answers":
            ok, number = isinstance(item, str) and item in SHOW_ANSWERS, item
            if not ok:
                report.error(line, N_("%(name)s must be one of %(choices)s, not %(value)s"),
                             name=name, choices=", ".join(SHOW_ANSWERS), value=_short(item))
        else:  # categories
            ok, number = _string_list(item, name, line, report, nullable=True)
        if ok:
            out[key] = number
    return out


def _string_list(
    value: Any, name: str, line: int, report: _Reporter, *, nullable: bool = False
) -> tuple[bool, list[str] | None]:
    if value is None and nullable:
        return True, None
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        report.error(line, N_("%(name)s must be a list of texts, not %(value)s"), name=name, value=_short(value))
        return False, None
    return True, [v.strip() for v in value]


def _lang_map(
    data: dict, key: str, doc: _Yaml, report: _Reporter, where: str = "course.yaml"
) -> dict[str, str]:
    value = data.get(key)
    if value is None:
        return {}
    if isinstance(value, str):
        report.error(doc.line(key), N_("%(key)s must be a mapping of language to text, e.g. {ru: \"…\"}"), key=key)
        return {}
    if not isinstance(value, dict):
        report.error(doc.line(key), N_("%(key)s must be a mapping of language to text, not %(type)s"),
                     key=key, type=_type_name(value))
        return {}
    out: dict[str, str] = {}
    for lang, text in value.items():
        line = doc.line(key, lang)
        if lang not in SUPPORTED_LANGUAGES:
            report.error(line, N_("%(key)s: unsupported language %(language)s (use %(languages)s)"),
                         key=key, language=_short(lang), languages=", ".join(SUPPORTED_LANGUAGES))
        elif not isinstance(text, str) or not text.strip():
            report.error(line, N_("%(key)s.%(language)s must be a non-empty text, not %(value)s"),
                         key=key, language=lang, value=_short(text))
        else:
            out[lang] = text.strip()
    return out


def _normalise_path(path: str) -> str | None:
    """A clean relative POSIX path, or None when it would leave the folder."""
    path = unicodedata.normalize("NFC", path.replace("\\", "/"))
    if path.startswith("/") or re.match(r"^[A-Za-z]:", path):
        return None
    normal = posixpath.normpath(path)
    if normal in (".", "") or normal == ".." or normal.startswith("../"):
        return None
    return normal


def _is_hidden(path: str) -> bool:
    return any(part.startswith(".") or part == "__MACOSX" for part in path.split("/"))


def _content_hash(files: dict[str, bytes]) -> str:
    digest = hashlib.sha256()
    for path in sorted(files):
        name = path.encode("utf-8", "surrogatepass")
        data = files[path]
        digest.update(len(name).to_bytes(8, "big") + name)
        digest.update(len(data).to_bytes(8, "big") + data)
    return digest.hexdigest()


# --------------------------------------------------------------------------- module files


@dataclass
class _ModuleFile:
    path: str  # inside the course folder
    slug: str
    number: int
    name: str
    lang: str


def _split_front_matter(text: str, report: _Reporter) -> tuple[_Yaml | None, int]:
    """(front matter, index of the first body line); front matter is None when missing,
    unclosed or unreadable (all reported)."""
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        report.error(1, N_("missing front matter: the file must start with a '---' line, "
                           "then YAML with at least 'title', then '---'"))  # fmt: skip
        return None, 0
    for index in range(1, len(lines)):
        if lines[index].rstrip() in ("---", "..."):
            doc = _load_yaml("\n".join(lines[1:index]), 2, report)
            return doc, index + 1  # doc is None when unreadable (reported)
    report.error(1, N_("front matter is not closed: add a '---' line after it"))
    return None, 0


def quiz_kind(info: str) -> str | None:
    """"gift" or "aiken" for the info string of a quiz fence, else None."""
    words = info.strip().lower().split()
    if words in (["quiz"], ["quiz", "gift"]):
        return "gift"
    if words == ["quiz", "aiken"]:
        return "aiken"
    return None


class _Body:
    """The body of a module file: Markdown without quiz blocks, quiz questions, link sites."""

    def __init__(self, lines: list[str], start: int, report: _Reporter) -> None:
        self.kept: list[str] = []
        self.questions: list[Question] = []
        self.links: list[tuple[int, str, bool]] = []  # (line, target, is_image)
        index = start
        while index < len(lines):
            line = lines[index]
            opening = FENCE_OPEN.match(line)
            if opening and not (opening["fence"][0] == "`" and "`" in opening["info"]):
                close = self._find_close(lines, index, opening["fence"])
                kind = quiz_kind(opening["info"])
                if kind is not None:
                    self._quiz(lines, index, close, kind, report)
                    self.kept.append("")
                else:
                    self.kept.extend(lines[index : close + 1])
                index = close + 1
                continue
            self._scan_links(line, index + 1)
            self.kept.append(line)
            index += 1

    @staticmethod
    def _find_close(lines: list[str], index: int, fence: str) -> int:
        closing = re.compile(r"^ {0,3}" + re.escape(fence[0]) + "{" + str(len(fence)) + r",}\s*$")
        for end in range(index + 1, len(lines)):
            if closing.match(lines[end]):
                return end
        return len(lines)  # unclosed: runs to the end of the file (CommonMark)

    def _quiz(self, lines: list[str], index: int, close: int, kind: str, report: _Reporter) -> None:
        fence_line = index + 1
        if close >= len(lines):
            report.error(fence_line, N_("quiz block is not closed: add a closing ``` line"))
        content = "\n".join(lines[index + 1 : close])
        parse = parse_aiken if kind == "aiken" else parse_gift
        try:
            questions, gift_problems = parse(content, first_line=fence_line + 1)
        except Exception as exc:  # noqa: BLE001 - never let a quiz block take the course down
            report.error(fence_line, N_("quiz block could not be parsed: %(error)s"), error=_short(str(exc), 120))
            return
        for gp in gift_problems:
            line = getattr(gp, "line", 0) or fence_line
            message = str(getattr(gp, "message", gp))
            msgid, params = getattr(gp, "msgid", None), getattr(gp, "params", None)
            report.problems.append(Problem(report.file, line, message, "error", msgid, dict(params or {})))
        if not questions and not gift_problems:
            report.warning(fence_line, N_("quiz block has no questions"))
        self.questions.extend(questions)

    def _scan_links(self, line: str, number: int) -> None:
        if "[" not in line and "<" not in line:
            return
        text = _blank_code_spans(line)
        for match in _INLINE_LINK.finditer(text):
            target = match["angle"] if match["angle"] is not None else match["bare"]
            self.links.append((number, target or "", match["bang"] == "!"))
        definition = _REFERENCE_DEF.match(text)
        if definition:
            target = definition["angle"] if definition["angle"] is not None else definition["bare"]
            self.links.append((number, target or "", False))
        if "<" in text:
            for match in _HTML_URL.finditer(text):
                target = next(v for v in (match["dq"], match["sq"], match["uq"]) if v is not None)
                self.links.append((number, target, match["tag"].lower() == "img"))

    @property
    def markdown(self) -> str:
        return "\n".join(self.kept).strip("\n") + "\n" if any(s.strip() for s in self.kept) else ""


def _blank_code_spans(line: str) -> str:
    """The line with `code spans` blanked out, so links shown as code are not checked."""
    if "`" not in line:
        return line
    spans: list[tuple[int, int]] = []
    opening: re.Match[str] | None = None
    for run in _BACKTICKS.finditer(line):
        if opening is None:
            opening = run
        elif len(run.group(0)) == len(opening.group(0)):
            spans.append((opening.start(), run.end()))
            opening = None
    if not spans:
        return line
    chars = list(line)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def _check_link(
    target: str, is_image: bool, line: int, files: dict[str, bytes], module_slugs: set[str],
    report: _Reporter,
) -> None:  # fmt: skip
    target = target.strip()
    if not target or target.startswith("#"):
        return
    squeezed = _CONTROL_OR_SPACE.sub("", target)
    scheme = _SCHEME.match(squeezed)
    if scheme:
        if scheme.group(1).lower() not in LINK_SCHEMES:
            msgid = (N_("image %(target)s uses a scheme that is not allowed (only %(schemes)s and relative paths)")
                     if is_image else
                     N_("link %(target)s uses a scheme that is not allowed (only %(schemes)s and relative paths)"))
            report.error(line, msgid, target=_short(target), schemes=", ".join(LINK_SCHEMES))
        return
    if target.startswith(("//", "/")):
        return  # another site, or an absolute path on this one
    path = unquote(re.split(r"[#?]", target, maxsplit=1)[0])
    if not path:
        return
    normal = posixpath.normpath(unicodedata.normalize("NFC", path))
    if normal == ".." or normal.startswith("../"):
        msgid = (N_("image %(target)s points outside the course folder") if is_image
                 else N_("link %(target)s points outside the course folder"))
        report.error(line, msgid, target=_short(target))
        return
    if normal in files:
        return
    module_link = _MODULE_LINK.fullmatch(normal)
    if module_link and module_link.group(1) in module_slugs:
        return
    msgid = (N_("broken image: %(target)s does not exist in the course folder") if is_image
             else N_("broken link: %(target)s does not exist in the course folder"))
    report.error(line, msgid, target=_short(target))


def _parse_module_file(
    info: _ModuleFile, data: bytes, files: dict[str, bytes], module_slugs: set[str],
    report: _Reporter,
) -> ModuleText | None:  # fmt: skip
    text = _decode(data, report)
    if text is None:
        return None
    lines = text.split("\n")
    doc, body_start = _split_front_matter(text, report)
    front: dict = {}
    has_front_matter = doc is not None
    if doc is not None:
        if isinstance(doc.data, dict):
            front = doc.data
        elif doc.data is not None:
            report.error(2, N_("front matter must be a mapping of keys, not %(type)s"), type=_type_name(doc.data))
    else:
        doc = _Yaml({}, {}, 1)
    _check_keys(front, FRONT_MATTER_KEYS, "front matter", doc, (), report)

    title = front.get("title")
    if title is None:
        if has_front_matter:
            report.error(1, N_("missing title in front matter"))
        title = info.slug
    elif not isinstance(title, str) or not title.strip():
        report.error(doc.line("title"), N_("title must be a non-empty text, not %(value)s"), value=_short(title))
        title = info.slug
    duration = None
    if "duration_minutes" in front:
        _, duration = _int_value(front["duration_minutes"], "duration_minutes",
                                 doc.line("duration_minutes"), report, nullable=True)  # fmt: skip
    objectives: list[str] = []
    if "objectives" in front:
        ok, values = _string_list(front["objectives"], "objectives", doc.line("objectives"), report)
        objectives = values if ok and values else []
    overrides: dict[str, Any] = {}
    if "quiz" in front:
        overrides = _quiz_settings(front["quiz"], "module", doc, ("quiz",), report)
    required = True
    if "required" in front:
        if isinstance(front["required"], bool):
            required = front["required"]
        else:
            report.error(doc.line("required"), _TRUE_OR_FALSE, name="required", value=_short(front["required"]))

    body = _Body(lines, body_start, report)
    for line, target, is_image in body.links:
        _check_link(target, is_image, line, files, module_slugs, report)
    return ModuleText(
        language=info.lang,
        title=title.strip(),
        duration_minutes=duration,
        objectives=objectives,
        body=body.markdown,
        questions=body.questions,
        quiz_settings_overrides=overrides,
        source_file=info.path,
        required=required,
    )


# --------------------------------------------------------------------------- course


def _normalise_files(
    files: dict[str, bytes], slug: str, problems: list[Problem]
) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    origin: dict[str, str] = {}
    for raw_path in sorted(files, key=str):
        data = files[raw_path]
        if not isinstance(raw_path, str):
            continue
        path = _normalise_path(raw_path)
        if path is None:
            problems.append(_problem(f"{slug}/{raw_path}", 0, N_("unsafe path outside the course folder is ignored")))
            continue
        if _is_hidden(path):
            continue
        if isinstance(data, str):
            data = data.encode("utf-8")
        elif isinstance(data, (bytearray, memoryview)):
            data = bytes(data)
        elif not isinstance(data, bytes):
            continue
        if path in out:
            problems.append(_problem(
                f"{slug}/{path}", 0, N_("duplicate file: %(first)s and %(second)s are the same path"),
                {"first": _short(origin[path]), "second": _short(raw_path)},
            ))  # fmt: skip
            continue
        out[path] = data
        origin[path] = raw_path
    return out


def course_from_files(files: dict[str, bytes], slug: str) -> tuple[Course | None, list[Problem]]:
    """Parse a course from an in-memory folder: {relative path: bytes}.

    Returns ``(None, problems)`` only when course.yaml is missing or unreadable; otherwise a
    best-effort course and every problem found.
    """
    problems: list[Problem] = []
    try:
        return _course_from_files(files, str(slug), problems)
    except Exception as exc:  # noqa: BLE001 - last resort: the parser must never raise
        problems.append(_problem(f"{slug}/course.yaml", 0, N_("internal parser error: %(error)s"),
                                 {"error": _short(str(exc), 200)}))
        return None, problems


def _course_from_files(
    files: dict[str, bytes], slug: str, problems: list[Problem]
) -> tuple[Course | None, list[Problem]]:
    files = _normalise_files(files or {}, slug, problems)
    course_file = f"{slug}/course.yaml"
    report = _Reporter(problems, course_file)
    if "course.yaml" not in files:
        report.error(0, N_("course.yaml is missing"))
        return None, problems
    text = _decode(files["course.yaml"], report)
    if text is None:
        return None, problems
    doc = _load_yaml(text, 1, report)
    if doc is None:
        return None, problems
    if doc.data is None:
        doc.data = {}
    if not isinstance(doc.data, dict):
        report.error(1, N_("course.yaml must be a mapping of keys, not %(type)s"), type=_type_name(doc.data))
        return None, problems
    data: dict = doc.data
    if not COURSE_SLUG.fullmatch(slug):
        report.error(0, N_("course folder name %(slug)s is not a valid slug (lowercase a-z, 0-9, '-', '_')"),
                     slug=_short(slug))
    _check_keys(data, COURSE_KEYS, "course.yaml", doc, (), report)

    # Module files first: languages can be inferred from them when the list is broken.
    file_problems: list[Problem] = []
    module_files, media = _classify_files(files, slug, file_problems)

    languages = _languages(data, doc, report, module_files)
    title = _lang_map(data, "title", doc, report)
    if "title" not in data:
        report.error(1, N_("missing title (a mapping of language to text)"))
    elif languages and languages[0] not in title and isinstance(data.get("title"), dict):
        report.error(doc.line("title"), N_("title has no text in the first (fallback) language %(language)s"),
                     language=repr(languages[0]))
    description = _lang_map(data, "description", doc, report)
    audience = _lang_map(data, "audience", doc, report)

    duration = None
    if "duration_minutes" in data:
        _, duration = _int_value(data["duration_minutes"], "duration_minutes",
                                 doc.line("duration_minutes"), report, nullable=True)  # fmt: skip
    validity = None
    if "validity_months" in data:
        _, validity = _int_value(data["validity_months"], "validity_months",
                                 doc.line("validity_months"), report, minimum=1, nullable=True)  # fmt: skip
    sequential = False
    if "sequential" in data:
        if isinstance(data["sequential"], bool):
            sequential = data["sequential"]
        else:
            report.error(doc.line("sequential"), _TRUE_OR_FALSE, name="sequential", value=_short(data["sequential"]))
    version_note = ""
    if data.get("version_note") is not None:
        if isinstance(data["version_note"], str):
            version_note = data["version_note"].strip()
        else:
            report.error(doc.line("version_note"), N_("version_note must be a text, not %(type)s"),
                         type=_type_name(data["version_note"]))
    quiz = QuizSettings()
    if data.get("quiz") is not None:
        quiz = QuizSettings(**_quiz_settings(data["quiz"], "course", doc, ("quiz",), report))

    problems.extend(file_problems)  # after course.yaml's own problems

    # Which modules make up the course, in which order.
    by_slug: dict[str, list[_ModuleFile]] = {}
    for info in module_files:
        by_slug.setdefault(info.slug, []).append(info)
    order = _module_order(data, doc, report, by_slug, slug, problems)

    # Parse each text, languages outside the course's list excepted.
    module_slugs = set(order)
    modules: list[Module] = []
    for position, module_slug in enumerate(order, start=1):
        module = Module(module_slug, position)
        for info in sorted(by_slug[module_slug], key=lambda i: _lang_rank(i.lang, languages)):
            file_report = _Reporter(problems, f"{slug}/{info.path}")
            if info.lang not in languages:
                if languages:
                    file_report.warning(0, N_("language %(language)s is not in the course's languages "
                                              "(%(languages)s); the file is ignored"),
                                        language=repr(info.lang), languages=", ".join(languages))  # fmt: skip
                else:
                    file_report.warning(0, N_("language %(language)s is not in the course's languages "
                                              "(none); the file is ignored"), language=repr(info.lang))  # fmt: skip
                continue
            text = _parse_module_file(info, files[info.path], files, module_slugs, file_report)
            if text is not None:
                module.texts[info.lang] = text
        if module.texts:
            modules.append(module)
            if languages and languages[0] not in module.texts:
                first = next(iter(module.texts.values()))
                problems.append(_problem(
                    f"{slug}/{first.source_file}", 0,
                    N_("module %(module)s has no %(language)s text (%(code)s is the fallback language): "
                       "add %(file)s"),
                    {"module": repr(module_slug), "language": repr(languages[0]), "code": languages[0],
                     "file": f"{module_slug}.{languages[0]}.md"},
                ))  # fmt: skip
    for index, module in enumerate(modules, start=1):
        module.position = index

    for index, lang in enumerate(languages):
        if not any(info.lang == lang for info in module_files):
            report.error(doc.line("languages", index), N_("language %(language)s is listed but no module file is in it"),
                         language=repr(lang))

    course = Course(
        slug=slug,
        title=title,
        description=description,
        languages=languages,
        audience=audience,
        duration_minutes=duration,
        completion_modules=[],
        completion_quizzes=[],
        quiz=quiz,
        validity_months=validity,
        sequential=sequential,
        modules=modules,
        media=media,
        content_hash=_content_hash(files),
        version_note=version_note,
    )
    _resolve_completion(course, data, doc, report)
    _check_quizzes(course, problems)
    return course, problems


def _lang_rank(lang: str, languages: list[str]) -> tuple[int, str]:
    return (languages.index(lang) if lang in languages else len(languages), lang)


def _classify_files(
    files: dict[str, bytes], slug: str, problems: list[Problem]
) -> tuple[list[_ModuleFile], list[str]]:
    module_files: list[_ModuleFile] = []
    media: list[str] = []
    for path in sorted(files):
        if path == "course.yaml":
            continue
        if path.startswith("media/"):
            media.append(path[len("media/") :])
            continue
        report = _Reporter(problems, f"{slug}/{path}")
        if "/" in path:
            report.warning(0, N_("unexpected file outside media/ is ignored"))
            continue
        if path in DOC_FILES:
            continue
        if not path.lower().endswith(".md"):
            report.warning(0, N_("unexpected file is ignored (modules are NN-slug.lang.md, files go in media/)"))
            continue
        match = MODULE_FILE.fullmatch(path)
        if match is None:
            report.error(0, N_("file name does not match NN-slug.lang.md (e.g. 01-why-it-matters.ru.md; "
                               "lowercase a-z, 0-9 and '-')"))  # the MODULE_FILE_HINT
            continue
        if match["lang"] not in SUPPORTED_LANGUAGES:
            report.error(0, N_("unsupported language %(language)s in the file name (use %(languages)s)"),
                         language=repr(match["lang"]), languages=", ".join(SUPPORTED_LANGUAGES))
            continue
        module_files.append(_ModuleFile(
            path, match["slug"], int(match["number"]), match["name"], match["lang"]
        ))  # fmt: skip
    module_files.sort(key=lambda i: (i.number, i.name, i.lang))
    return module_files, media


def _languages(data: dict, doc: _Yaml, report: _Reporter, module_files: list[_ModuleFile]) -> list[str]:
    value = data.get("languages")
    inferred = [lang for lang in SUPPORTED_LANGUAGES if any(i.lang == lang for i in module_files)]
    if "languages" not in data:
        report.error(1, N_("missing languages (a list such as [ru, kk, en]; the first is the fallback)"))
        return inferred
    if not isinstance(value, list) or not value:
        report.error(doc.line("languages"), N_("languages must be a non-empty list such as [ru, kk, en], not %(value)s"),
                     value=_short(value))
        return inferred
    out: list[str] = []
    for index, lang in enumerate(value):
        line = doc.line("languages", index)
        if lang not in SUPPORTED_LANGUAGES:
            report.error(line, N_("unsupported language %(language)s (use %(languages)s)"),
                         language=_short(lang), languages=", ".join(SUPPORTED_LANGUAGES))
        elif lang in out:
            report.error(line, N_("language %(language)s is listed twice"), language=repr(lang))
        else:
            out.append(lang)
    return out or inferred


def _module_order(
    data: dict, doc: _Yaml, report: _Reporter, by_slug: dict[str, list[_ModuleFile]],
    slug: str, problems: list[Problem],
) -> list[str]:  # fmt: skip
    file_order = list(by_slug)  # module_files were sorted by number, name, language
    names: dict[str, str] = {}
    for module_slug, infos in by_slug.items():
        name = infos[0].name
        if name in names:
            problems.append(_problem(
                f"{slug}/{infos[0].path}", 0,
                N_("module %(module)s has the same name as %(other)s (only the number differs): "
                   "a renumbered copy?"),
                {"module": repr(module_slug), "other": repr(names[name])}, "warning",
            ))  # fmt: skip
        else:
            names[name] = module_slug
    if data.get("modules") is None:
        return file_order
    listed = data["modules"]
    if not isinstance(listed, list):
        report.error(doc.line("modules"), N_("modules must be a list of module slugs, not %(type)s"),
                     type=_type_name(listed))
        return file_order
    order: list[str] = []
    for index, entry in enumerate(listed):
        line = doc.line("modules", index)
        if not isinstance(entry, str):
            report.error(line, N_("modules: %(value)s is not a module slug"), value=_short(entry))
        elif entry in order:
            report.error(line, N_("duplicate module %(module)s in modules:"), module=repr(entry))
        elif entry not in by_slug:
            hint = None
            for module_slug, infos in by_slug.items():
                if infos[0].name == entry:
                    hint = module_slug
            if hint is None:
                report.error(line, N_("module %(module)s is listed in modules: but has no file"), module=repr(entry))
            else:
                report.error(line, N_("module %(module)s is listed in modules: but has no file "
                                      "(did you mean %(suggestion)s?)"),
                             module=repr(entry), suggestion=repr(hint))
        else:
            order.append(entry)
    for module_slug in file_order:
        if module_slug not in order:
            problems.append(_problem(
                f"{slug}/{by_slug[module_slug][0].path}", 0,
                N_("module %(module)s is not listed in course.yaml modules: and is not part of the course"),
                {"module": repr(module_slug)}, "warning",
            ))  # fmt: skip
    return order


def _resolve_completion(course: Course, data: dict, doc: _Yaml, report: _Reporter) -> None:
    value = data.get("completion")
    if value is None:
        value = {}
    if not isinstance(value, dict):
        report.error(doc.line("completion"), N_("completion must be a mapping {modules: …, quizzes: …}, not %(type)s"),
                     type=_type_name(value))
        value = {}
    _check_keys(value, COMPLETION_KEYS, "completion", doc, ("completion",), report)

    def required(module: Module) -> bool:
        return course.fallback_text(module).required

    all_modules = [m.slug for m in course.modules if required(m)]
    all_quizzes = [m.slug for m in course.modules if required(m) and m.has_quiz]
    for key, default in (("modules", all_modules), ("quizzes", all_quizzes)):
        item = value.get(key, "all")
        resolved: list[str] = []
        if item == "all" or item is None:
            resolved = default
        elif isinstance(item, list):
            for index, entry in enumerate(item):
                line = doc.line("completion", key, index)
                module = course.module(entry) if isinstance(entry, str) else None
                if module is None:
                    report.error(line, N_("completion.%(key)s names unknown module %(value)s"),
                                 key=key, value=_short(entry))
                elif key == "quizzes" and not module.has_quiz:
                    report.error(line, N_("completion.quizzes names module %(module)s, which has no quiz"),
                                 module=repr(entry))
                elif entry in resolved:
                    report.error(line, N_("completion.%(key)s names %(module)s twice"), key=key, module=repr(entry))
                else:
                    resolved.append(entry)
        else:
            report.error(doc.line("completion", key),
                         N_("completion.%(key)s must be 'all' or a list of module slugs, not %(value)s"),
                         key=key, value=_short(item))
            resolved = default
        if key == "modules":
            course.completion_modules = resolved
        else:
            course.completion_quizzes = resolved


def _in_categories(question: Question, categories: list[str]) -> bool:
    category = (getattr(question, "category", None) or "").strip()
    return any(category == c or category.endswith("/" + c) for c in categories)


def _check_quizzes(course: Course, problems: list[Problem]) -> None:
    for module in course.modules:
        if not module.has_quiz:
            continue
        settings = course.quiz_settings_for(module)
        text = course.fallback_text(module)
        file = f"{course.slug}/{text.source_file}"
        pool = text.questions
        if settings.categories:
            pool = [q for q in pool if _in_categories(q, settings.categories)]
            for category in settings.categories:
                if not any(_in_categories(q, [category]) for q in text.questions):
                    problems.append(_problem(file, 0, N_("quiz category %(category)s has no questions"),
                                             {"category": repr(category)}, "warning"))
        if settings.draw is not None and settings.draw > len(pool):
            problems.append(_problem(
                file, 0,
                N_("quiz draws %(draw)d questions but only %(available)d are available; all will be used"),
                {"draw": settings.draw, "available": len(pool)}, "warning",
            ))  # fmt: skip
        counts = {lang: len(t.questions) for lang, t in module.texts.items()}
        if len(set(counts.values())) > 1:
            detail = ", ".join(f"{lang}: {n}" for lang, n in counts.items())
            problems.append(_problem(
                file, 0, N_("languages have different numbers of quiz questions (%(counts)s)"),
                {"counts": detail}, "warning",
            ))  # fmt: skip


# --------------------------------------------------------------------------- folders


def _read_folder(folder: Path, slug: str) -> tuple[dict[str, bytes], list[Problem]]:
    files: dict[str, bytes] = {}
    problems: list[Problem] = []
    try:
        root = folder.resolve(strict=True)
    except OSError as exc:
        problems.append(_problem(f"{slug}/course.yaml", 0, N_("course folder cannot be read: %(error)s"),
                                 {"error": str(exc.strerror or exc)}))
        return files, problems
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        current = Path(dirpath)
        kept = []
        for name in sorted(dirnames):
            if name.startswith("."):
                continue
            if (current / name).is_symlink():
                rel = (current / name).relative_to(root).as_posix()
                problems.append(_problem(f"{slug}/{rel}", 0, N_("symbolic link is ignored"), None, "warning"))
                continue
            kept.append(name)
        dirnames[:] = kept
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = current / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                problems.append(_problem(f"{slug}/{rel}", 0, N_("symbolic link is ignored"), None, "warning"))
                continue
            if not path.is_file():
                continue
            try:
                files[rel] = path.read_bytes()
            except OSError as exc:
                problems.append(_problem(f"{slug}/{rel}", 0, N_("file cannot be read: %(error)s"),
                                         {"error": str(exc.strerror or exc)}))
    return files, problems


def load_course(folder: Path) -> tuple[Course | None, list[Problem]]:
    """Parse one course folder (read into memory, then :func:`course_from_files`)."""
    folder = Path(folder)
    slug = folder.name
    files, problems = _read_folder(folder, slug)
    course, more = course_from_files(files, slug)
    return course, problems + more


def load_library(root: Path) -> list[tuple[Path, Course | None, list[Problem]]]:
    """Every course under ``root`` (each sub-folder with a course.yaml), or ``root`` itself."""
    root = Path(root)
    if (root / "course.yaml").is_file():
        return [(root, *load_course(root))]
    results: list[tuple[Path, Course | None, list[Problem]]] = []
    try:
        children = sorted(root.iterdir())
    except OSError:
        return results
    for child in children:
        if child.name.startswith(".") or child.is_symlink() or not child.is_dir():
            continue
        if (child / "course.yaml").is_file():
            results.append((child, *load_course(child)))
    return results


# --------------------------------------------------------------------------- dump


def course_to_dict(course: Course) -> dict[str, Any]:
    """A JSON-able, stable picture of the parsed course (stored with each revision)."""
    modules = []
    for module in course.modules:
        langs = sorted(module.texts, key=lambda lang: _lang_rank(lang, course.languages))
        modules.append({
            "slug": module.slug,
            "position": module.position,
            "languages": langs,
            "has_quiz": module.has_quiz,
            "quiz": asdict(course.quiz_settings_for(module)) if module.has_quiz else None,
            "texts": {
                lang: {
                    "title": module.texts[lang].title,
                    "duration_minutes": module.texts[lang].duration_minutes,
                    "objectives": list(module.texts[lang].objectives),
                    "required": module.texts[lang].required,
                    "source_file": module.texts[lang].source_file,
                    "quiz_overrides": dict(module.texts[lang].quiz_settings_overrides),
                    "questions": [question_to_dict(q) for q in module.texts[lang].questions],
                }
                for lang in langs
            },
        })  # fmt: skip
    return {
        "slug": course.slug,
        "title": dict(course.title),
        "description": dict(course.description),
        "languages": list(course.languages),
        "audience": dict(course.audience),
        "duration_minutes": course.duration_minutes,
        "completion": {
            "modules": list(course.completion_modules),
            "quizzes": list(course.completion_quizzes),
        },
        "quiz": asdict(course.quiz),
        "validity_months": course.validity_months,
        "sequential": course.sequential,
        "version_note": course.version_note,
        "content_hash": course.content_hash,
        "media": list(course.media),
        "modules": modules,
    }
