"""Finds user-visible text that bypasses the gettext catalogues (used by tests/unit/test_i18n.py).

Templates: every Jinja template is parsed with the app's own environment (so `{% trans %}` and
the i18n extension parse as they render). The template's output is rebuilt in source order:
literal template text stays as it is, string constants printed by `{{ ... }}` are kept too, and
every other expression (a `_()` call, a variable) becomes an opaque placeholder. That HTML is
then read with html.parser: text between tags and the attributes people see or hear (title,
alt, placeholder, aria-label, ..., the value of a button) must contain no letters once the
placeholders and the allow-listed technical words are removed. String constants with prose in
them that feed a macro call or a `{% set %}` (labels built in the template) are flagged as well,
and so is `_()` called on a variable (pybabel cannot extract it).

Python: the AST of every module in learning/ is walked for the places that put a string in
front of a person: flash(), abort(..., description=), form field labels, descriptions and
validator messages, ValidationError(), `.errors.append()`, `choices=`, and raising one of the
UserError classes. A string literal or f-string there must be wrapped in a gettext call
(_, gettext, _l, lazy_gettext, N_, ngettext, ...). Passing str(exception) there is flagged too
(an English diagnostic shown to the user) unless that exception class is only ever raised with a
translated message, and so is a gettext call on a non-literal.

Exempt by design:
- learning/api/: JSON API errors are English, machine-oriented messages that clients match on.
- CLI code (cli.py modules, demo.py, backup.py, click.ClickException / click.echo): operators'
  tools, English like the logs.
- Pure modules that never reach a page through these calls (parsers, graders, xAPI). The course
  and GIFT parsers mark their problem messages with N_ and the studio translates them;
  tests/unit/test_i18n.py checks that every one of them is marked and translated.
- JSON answers to the site's own scripts (content.activity), which nobody reads.
- A line carrying the comment `noqa: i18n` (say why next to it), and `noqa: i18n-dynamic`
  for a gettext call on a msgid that is marked elsewhere with N_.

Not caught: prose kept in plain Python data and shown later (a dict of labels), and text
built in JavaScript.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from jinja2 import Environment, nodes

LEARNING_DIR = Path(__file__).resolve().parent.parent / "learning"
TEMPLATES_DIR = LEARNING_DIR / "templates"

# Words that are the same in every language: the product, formats, standards, the language
# switcher's self-names (each language names itself), and symbols.
ALLOWED_WORDS = (
    "Kelisim", "PDF", "CSV", "XLSX", "Excel", "ZIP", "JSON", "YAML", "Markdown", "Moodle", "GIFT",
    "Aiken", "Open Badges", "Open Badge", "xAPI", "UTC", "URL", "HTML", "SVG", "PNG", "JPEG", "GIF",
    "WebP",
    "Қазақша", "Русский", "English",
)
PLACEHOLDER = "\x00"
LETTER = re.compile(r"[^\W\d_]")
GETTEXT_NAMES = {
    "_", "gettext", "ngettext", "pgettext", "npgettext", "_l", "lazy_gettext", "lazy_ngettext",
    "lazy_pgettext", "N_",
}
VISIBLE_ATTRIBUTES = {
    "title", "alt", "placeholder", "aria-label", "aria-description", "aria-roledescription",
    "aria-valuetext", "aria-placeholder", "label", "summary", "data-confirm",
}
BUTTON_INPUT_TYPES = {"submit", "button", "reset"}
NOT_TEXT_ELEMENTS = {"script", "style"}
TECHNICAL_CALLS = {
    "url_for", "static_url", "has_endpoint", "csrf_token", "get_locale", "language_name", "range",
    "config", "get_flashed_messages", "dict", "super", "self",
}


@dataclass(frozen=True)
class Finding:
    where: str  # file:line
    text: str
    why: str

    def __str__(self) -> str:
        return f"{self.where}: {self.why}: {self.text!r}"


def has_words(text: str) -> bool:
    """Whether `text` still has letters once placeholders and allowed words are removed."""
    text = text.replace(PLACEHOLDER, " ")
    for word in sorted(ALLOWED_WORDS, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", " ", text)
    return bool(LETTER.search(text))


def looks_like_prose(text: str) -> bool:
    """A string constant that reads as words for people rather than an identifier or a class list.

    "Course progress", "Not started", "Сәлем" are prose; "button button-secondary", "locked",
    "current-password", "%Y-%m-%d" are not.
    """
    if not has_words(text):
        return False
    if re.fullmatch(r"[a-z0-9_./:#%-]+( [a-z0-9_./:#%-]+)*", text):
        return False  # identifiers, endpoint names, CSS classes, paths, formats
    return bool(re.search(r"[^\W\d_]{2,}", text))


# --------------------------------------------------------------------------- templates


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str]] = []  # (what, text)
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in NOT_TEXT_ELEMENTS:
            self._skip += 1
        values = dict(attrs)
        for name, value in attrs:
            if value is None:
                continue
            visible = name in VISIBLE_ATTRIBUTES or (
                name == "value" and tag in ("input", "button")
                and (values.get("type") or "").lower() in BUTTON_INPUT_TYPES
            )
            if visible and has_words(value):
                self.found.append((f"<{tag} {name}>", value))

    def handle_endtag(self, tag):
        if tag in NOT_TEXT_ELEMENTS and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and has_words(data):
            self.found.append(("text", data.strip()))


def _printed(node: nodes.Node) -> str:
    """What an expression inside {{ }} contributes to the rebuilt HTML."""
    if isinstance(node, nodes.TemplateData):
        return node.data
    if isinstance(node, nodes.Const) and isinstance(node.value, str):
        return node.value
    if isinstance(node, nodes.CondExpr):
        return " ".join(_printed(n) for n in (node.expr1, node.expr2) if n is not None)
    if isinstance(node, nodes.Concat):
        return "".join(_printed(n) for n in node.nodes)
    if isinstance(node, nodes.Filter) and node.name in ("e", "escape", "safe", "string", "trim"):
        return _printed(node.node) if node.node is not None else PLACEHOLDER
    return PLACEHOLDER


def _callee(call: nodes.Call) -> str:
    node = call.node
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        return node.attr
    return ""


def _constant_findings(tree: nodes.Template, name: str) -> list[Finding]:
    findings = []
    msgids = {id(arg) for call in tree.find_all(nodes.Call) if _callee(call) in GETTEXT_NAMES
              for arg in call.args}
    for call in tree.find_all(nodes.Call):
        callee = _callee(call)
        if callee in GETTEXT_NAMES:
            if not call.args or not isinstance(call.args[0], nodes.Const):
                findings.append(Finding(f"{name}:{call.lineno}", callee + "(…)",
                                        "gettext on a variable cannot be extracted"))
            continue
        if callee in TECHNICAL_CALLS:
            continue
        for arg in call.args:
            if isinstance(arg, nodes.Const) and isinstance(arg.value, str) and looks_like_prose(arg.value):
                findings.append(Finding(f"{name}:{arg.lineno}", arg.value, "prose passed to a call"))
    for assign in tree.find_all((nodes.Assign,)):
        for const in assign.node.find_all(nodes.Const):
            if id(const) not in msgids and isinstance(const.value, str) and looks_like_prose(const.value):
                findings.append(Finding(f"{name}:{const.lineno}", const.value, "prose in {% set %}"))
    for pair in tree.find_all(nodes.Pair):  # dict literals, e.g. labels = {'x': 'Not started'}
        if isinstance(pair.value, nodes.Const) and isinstance(pair.value.value, str) \
                and looks_like_prose(pair.value.value):
            findings.append(Finding(f"{name}:{pair.lineno}", pair.value.value, "prose in a dict literal"))
    return _dedupe(findings)


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen, unique = set(), []
    for f in findings:
        if (f.where, f.text) not in seen:
            seen.add((f.where, f.text))
            unique.append(f)
    return unique


def scan_template_source(source: str, name: str = "<string>", env: Environment | None = None) -> list[Finding]:
    """Untranslated visible text in one template's source."""
    env = env or Environment(extensions=["jinja2.ext.i18n"])
    tree = env.parse(source, name=name)
    html = "".join(_printed(child) for output in tree.find_all(nodes.Output) for child in output.nodes)
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    findings = []
    for what, text in parser.found:
        shown = text.replace(PLACEHOLDER, "…")
        probe = max(text.split(PLACEHOLDER), key=len).strip().split("\n")[0]  # to find its line
        line = next((i for i, row in enumerate(source.splitlines(), 1) if probe and probe in row), 0)
        findings.append(Finding(f"{name}:{line}", shown, f"untranslated {what}"))
    return findings + _constant_findings(tree, name)


def scan_templates(env: Environment, root: Path = TEMPLATES_DIR) -> list[Finding]:
    findings = []
    for path in sorted(root.rglob("*.html")):
        name = path.relative_to(root).as_posix()
        findings += scan_template_source(path.read_text(encoding="utf-8"), name, env)
    return findings


# --------------------------------------------------------------------------- python

EXEMPT_PARTS = ("api",)  # learning/api/: English JSON errors by design
EXEMPT_FILES = {"cli.py", "demo.py", "backup.py"}  # operators' command line, English like the logs
FIELD_CALL = re.compile(r".*Field$")
MESSAGE_KEYWORDS = {"message", "description", "label"}


def _name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _literal_text(node: ast.AST) -> str | None:
    """The text of a string literal, f-string or literal-built string (None if it is not one)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else PLACEHOLDER for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        left, right = _literal_text(node.left), _literal_text(node.right)
        if left is not None or right is not None:
            return (left or PLACEHOLDER) + (right or PLACEHOLDER)
    return None


def _is_str_of_something(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and _name(node.func) == "str" and len(node.args) == 1


def _user_error_names(root: Path = LEARNING_DIR) -> set[str]:
    """Names of the UserError subclasses (their messages must be msgids marked with N_)."""
    import importlib

    from learning.i18n import UserError

    for path in sorted(root.rglob("services.py")):  # where the domain errors live
        importlib.import_module(".".join(path.relative_to(root.parent).with_suffix("").parts))
    names, todo = set(), [UserError]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            names.add(sub.__name__)
            todo.append(sub)
    return names


TRANSLATING_CALLS = GETTEXT_NAMES - {"N_"}  # N_ only marks: str() of such an error is English


def translated_error_classes(sources: list[str]) -> set[str]:
    """Exception classes that are only ever raised with a gettext-translated first argument.

    `str(error)` of one of them is already in the interface language (e.g. raise
    AssignmentError(_l("Choose a unit."))), so showing it is fine.
    """
    verdicts: dict[str, bool] = {}
    for source in sources:
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and node.exc.args:
                cls = _name(node.exc.func)
                first = node.exc.args[0]
                wrapped = isinstance(first, ast.Call) and _name(first.func) in TRANSLATING_CALLS
                verdicts[cls] = verdicts.get(cls, True) and wrapped
    return {cls for cls, ok in verdicts.items() if ok}


def _exception_names(tree: ast.AST) -> dict[int, str]:
    """id(node) -> the class name bound by the `except Class as name` around it, for `str(name)`."""
    bound: dict[int, str] = {}
    for handler in ast.walk(tree):
        if isinstance(handler, ast.ExceptHandler) and handler.name and handler.type is not None:
            for statement in handler.body:
                for node in ast.walk(statement):
                    if _is_str_of_something(node) and isinstance(node.args[0], ast.Name) \
                            and node.args[0].id == handler.name:
                        bound[id(node)] = _name(handler.type)
    return bound


def scan_python_source(source: str, name: str = "<string>", user_errors: set[str] = frozenset(),
                       translated_errors: set[str] = frozenset()) -> list[Finding]:
    """Untranslated user-facing literals in one Python module's source."""
    tree = ast.parse(source, filename=name)
    lines = source.splitlines()
    findings: list[Finding] = []
    caught = _exception_names(tree)

    def noqa(node: ast.AST, tag: str = "noqa: i18n") -> bool:
        end = getattr(node, "end_lineno", node.lineno)
        return any(tag in lines[i - 1] for i in range(node.lineno, end + 1) if i - 1 < len(lines))

    def check(node: ast.AST | None, why: str) -> None:
        if node is None or noqa(node):
            return
        text = _literal_text(node)
        if text is not None and has_words(text):
            findings.append(Finding(f"{name}:{node.lineno}", text.replace(PLACEHOLDER, "…"), why))
        elif _is_str_of_something(node) and caught.get(id(node)) not in translated_errors:
            findings.append(Finding(f"{name}:{node.lineno}", ast.unparse(node),
                                    why + " (an exception's English text; use error.translated())"))
        elif isinstance(node, (ast.List, ast.Tuple)):  # choices=[("kk", "Label"), ...]
            for element in node.elts:
                if isinstance(element, (ast.List, ast.Tuple)) and len(element.elts) >= 2:
                    check(element.elts[1], why)

    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        callee = _name(node.func)
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        if callee in GETTEXT_NAMES:
            if node.args and _literal_text(node.args[0]) is None and not noqa(node, "noqa: i18n-dynamic"):
                findings.append(Finding(f"{name}:{node.lineno}", ast.unparse(node),
                                        "gettext on a variable cannot be extracted"))
            continue
        if callee == "flash" and node.args:
            check(node.args[0], "flash() without gettext")
        elif callee == "abort":
            check(keywords.get("description"), "abort(description=) without gettext")
            if len(node.args) > 1:
                check(node.args[1], "abort() message without gettext")
        elif callee == "append" and isinstance(node.func, ast.Attribute) and _name(node.func.value) == "errors":
            check(node.args[0] if node.args else None, "form error without gettext")
        elif callee in {"ValidationError", "StopValidation"} and node.args:
            check(node.args[0], "validation message without gettext")
        elif callee == "SelectChoice" and len(node.args) >= 2:
            check(node.args[1], "choice label without gettext")
        elif callee in user_errors and node.args:
            check(node.args[0], f"{callee} message not marked with N_()")
        elif FIELD_CALL.fullmatch(callee) and node.args:
            check(node.args[0], "form label without gettext")
        if callee not in GETTEXT_NAMES:
            for keyword in MESSAGE_KEYWORDS & keywords.keys():
                if callee in {"abort", "Response", "send_file", "render_template"}:
                    continue
                check(keywords[keyword], f"{keyword}= without gettext")
            if "choices" in keywords and FIELD_CALL.fullmatch(callee):
                check(keywords["choices"], "choice label without gettext")
        if callee == "render_template":
            for key, value in keywords.items():
                if key in {"message", "title"}:
                    check(value, f"render_template({key}=) without gettext")
    return _dedupe(findings)


def python_files(root: Path = LEARNING_DIR) -> list[Path]:
    return [
        path for path in sorted(root.rglob("*.py"))
        if not (set(path.relative_to(root).parts[:-1]) & set(EXEMPT_PARTS)) and path.name not in EXEMPT_FILES
    ]


def scan_python(root: Path = LEARNING_DIR) -> list[Finding]:
    user_errors = _user_error_names()
    sources = {path: path.read_text(encoding="utf-8") for path in sorted(root.rglob("*.py"))}
    translated = translated_error_classes(list(sources.values()))
    findings = []
    for path in python_files(root):
        name = path.relative_to(root.parent).as_posix()
        findings += scan_python_source(sources[path], name, user_errors, translated)
    return findings
