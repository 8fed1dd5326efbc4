"""Catalogues and the untranslated-text scanner: every visible string goes through gettext, every
msgid is translated in kk and ru with the same placeholders, and the catalogues compile."""

from __future__ import annotations

import io
import re
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from tests.conftest import REPO_DIR, TRANSLATIONS_DIR
from tests.i18n_scan import (
    has_words,
    python_files,
    scan_python,
    scan_python_source,
    scan_template_source,
    scan_templates,
    translated_error_classes,
)

LANGUAGES = ("kk", "ru", "en")
PLURAL_FORMS = {
    "kk": "nplurals=2; plural=(n != 1);",
    "ru": "nplurals=3; plural=(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2);",
    "en": "nplurals=2; plural=(n != 1);",
}
CYRILLIC = re.compile(r"[\u0400-\u04FF]")
KAZAKH_LETTERS = re.compile(r"[әғқңөұүһіӘҒҚҢӨҰҮҺІ]")
# %(name)s, %%, a lone % (Python strings without parameters), and {name} for the page scripts.
PLACEHOLDER = re.compile(r"%\(\w+\)[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]|%%|%|\{\w+\}")


def _read(path: Path, locale: str | None = None):
    with path.open("rb") as handle:
        return read_po(handle, locale=locale)


def _catalogue(language: str):
    return _read(TRANSLATIONS_DIR / language / "LC_MESSAGES" / "messages.po", language)


def _template():
    return _read(TRANSLATIONS_DIR / "messages.pot")


def _messages(catalog):
    return [m for m in catalog if m.id]


def _key(message):
    return message.context, message.id if isinstance(message.id, str) else tuple(message.id)


# --------------------------------------------------------------------------- the scanner itself


@pytest.mark.parametrize("source", [
    "<p>Hello</p>",
    "<h1>{{ title }}</h1><p>Welcome back, {{ name }}!</p>",
    '<img src="x.png" alt="A map of the region">',
    '<button type="button" title="Close the panel">×</button>',
    '<input type="submit" value="Send">',
    '<nav aria-label="Main menu"></nav>',
    "<p>{{ 'Hard-coded sentence' }}</p>",
    "{% set labels = {'done': 'Not started'} %}{{ labels.done }}",
    "{{ progress_bar(50, 'Course progress') }}",
    "<p>Сәлеметсіз бе</p>",
    "<td>{% if x %}Yes{% else %}—{% endif %}</td>",
    "{{ _(message) }}",
])
def test_scanner_flags_visible_text_outside_gettext(source):
    assert scan_template_source(source), source


@pytest.mark.parametrize("source", [
    '<p>{{ _("Hello") }}</p>',
    '<p class="lead meta">{{ view.description(language) }}</p>',
    '<input type="hidden" name="next" value="dashboard">',
    '<a href="{{ url_for(\'content.course\', course_slug=c.slug) }}">{{ c.title }}</a>',
    "<title>{% block title %}{% endblock %} · Kelisim</title>",
    "<th>#</th><td>{{ a }} — {{ b }}</td><td>{{ n }}%</td>",
    '<option lang="kk">Қазақша</option><option lang="ru">Русский</option><option lang="en">English</option>',
    "<a>{{ _('PDF') }}</a> · <span>PDF</span> · CSV · XLSX · Open Badge",
    "<p class=\"{{ 'due-overdue' if late else 'due' }}\">{{ ngettext('%(num)d day', '%(num)d days', n) }}</p>",
    "{% set labels = {'done': _('Done')} %}{{ labels.done }}",
    "{% trans name=user.name %}Hello {{ name }}{% endtrans %}",
    "<script>var greeting = 'hello world';</script>",
    "{{ field(form.email, autocomplete='current-password') }}",
])
def test_scanner_accepts_translated_or_technical_text(source):
    assert scan_template_source(source) == [], source


@pytest.mark.parametrize("source", [
    'flash("Saved.")',
    'flash(f"Saved {count} rows.", "success")',
    'abort(400, description="The form is incomplete.")',
    'name = StringField("Name", validators=[DataRequired()])',
    'code = StringField(_l("Code"), validators=[Length(max=5, message="Too long")])',
    'raise ValidationError("Choose a unit.")',
    'form.email.errors.append("Unknown e-mail.")',
    "form.email.errors.append(str(error))",
    'raise QuizError("This module has no quiz.")',
    'role = SelectField(_l("Role"), choices=[("learner", "Learner")])',
    "flash(_(str(error)))",
])
def test_scanner_flags_python_messages_outside_gettext(source):
    assert scan_python_source(source, user_errors={"QuizError"}), source


@pytest.mark.parametrize("source", [
    'flash(_("Saved."), "success")',
    'abort(400, description=_("The form is incomplete."))',
    'name = StringField(_l("Name"), validators=[DataRequired(message=_l("Enter a name."))])',
    'raise QuizError(N_("This module has no quiz."))',
    'raise QuizError(N_("Question %(number)d is unreadable."), number=3)',
    'flash(error.translated(), "error")',
    'language = SelectField(_l("Language"), choices=[("kk", "Қазақша"), ("en", "English")])',
    'return {"error": "not enrolled"}, 400',
    'flash("Debug only")  # noqa: i18n (never shown: test fixture)',
])
def test_scanner_accepts_python_messages_in_gettext(source):
    assert scan_python_source(source, user_errors={"QuizError"}) == [], source


def test_str_of_an_error_is_fine_only_when_its_class_is_raised_translated():
    raising = [
        'raise AssignmentError(_l("Choose a unit."), "unit")',
        'raise AccountError(N_("Wrong."))',
        'raise MixedError(_("Fine."))\nraise MixedError("Not fine.")',
    ]
    translated = translated_error_classes(raising)
    assert translated == {"AssignmentError"}
    showing = "try:\n    act()\nexcept services.{cls} as error:\n    form.x.errors.append(str(error))\n"
    assert scan_python_source(showing.format(cls="AssignmentError"), translated_errors=translated) == []
    for cls in ("AccountError", "MixedError", "ValueError"):
        assert scan_python_source(showing.format(cls=cls), translated_errors=translated), cls


def test_scanner_covers_the_code_and_exempts_the_api_and_cli():
    files = {path.relative_to(REPO_DIR).as_posix() for path in python_files()}
    assert {"learning/accounts/views.py", "learning/quizzes/services.py", "learning/errors.py"} <= files
    assert not any(f.startswith("learning/api/") for f in files)
    assert not any(f.endswith("/cli.py") for f in files)


def test_allowed_words_are_only_technical():
    assert not has_words("Kelisim · PDF — CSV # Қазақша")
    assert has_words("Kelisim Studio")


# --------------------------------------------------------------------------- the code base


def test_templates_have_no_untranslated_text(app):
    findings = scan_templates(app.jinja_env)
    assert findings == [], "\n".join(map(str, findings))


def test_python_has_no_untranslated_messages():
    findings = scan_python()
    assert findings == [], "\n".join(map(str, findings))


# --------------------------------------------------------------------------- the catalogues


def test_messages_pot_is_up_to_date_with_the_sources(tmp_path):
    """`make update` was run after the last change to a user-visible string."""
    fresh = tmp_path / "fresh.pot"
    CommandLineInterface().run([
        "pybabel", "-q", "extract", "-F", str(REPO_DIR / "babel.cfg"),
        "-k", "_l", "-k", "lazy_gettext", "-k", "lazy_ngettext:1,2", "-k", "lazy_pgettext:1c,2",
        "-o", str(fresh), str(REPO_DIR / "learning"),
    ])
    extracted = {_key(m) for m in _messages(_read(fresh))}
    stored = {_key(m) for m in _messages(_template())}
    assert extracted - stored == set(), "new strings: run `make update` and translate them"
    assert stored - extracted == set(), "strings no longer used: run `make update`"


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_has_every_msgid_translated(language):
    catalog = _catalogue(language)
    assert catalog.plural_forms == PLURAL_FORMS[language]
    wanted = {_key(m) for m in _messages(_template())}
    translated = {}
    for message in _messages(catalog):
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        assert not message.fuzzy, f"{language}: fuzzy: {message.id!r}"
        assert all(form.strip() for form in forms), f"{language}: untranslated: {message.id!r}"
        if not isinstance(message.id, str):
            assert len(forms) == catalog.num_plurals, f"{language}: plural forms of {message.id!r}"
        translated[_key(message)] = forms
    missing = wanted - translated.keys()
    assert not missing, f"{language}: missing {sorted(map(str, missing))[:20]}"
    assert len(wanted) > 100


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_match_the_msgid(language):
    problems = []
    for message in _messages(_catalogue(language)):
        if isinstance(message.id, str):
            pairs = [(message.id, message.string)]
        else:  # every form says the number: compare them with the plural msgid
            pairs = [(message.id[1], form) for form in message.string]
        for msgid, msgstr in pairs:
            expected = Counter(PLACEHOLDER.findall(msgid))
            if Counter(PLACEHOLDER.findall(msgstr)) != expected:
                problems.append(f"{msgid!r} -> {msgstr!r}")
    assert problems == [], "\n".join(problems)


def _has_english_words(message) -> bool:
    """Whether the msgid has words to translate (not only placeholders and technical names)."""
    msgid = message.id if isinstance(message.id, str) else message.id[0]
    return has_words(PLACEHOLDER.sub(" ", msgid))


def test_kazakh_is_cyrillic_with_its_own_letters():
    catalog = _catalogue("kk")
    russian = {_key(m): m.string for m in _messages(_catalogue("ru"))}
    entries = _messages(catalog)
    for message in entries:
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        if _has_english_words(message):
            assert all(CYRILLIC.search(form) for form in forms), f"not Cyrillic: {message.string!r}"
    with_own_letters = sum(1 for m in entries if KAZAKH_LETTERS.search(str(m.string)))
    assert with_own_letters / len(entries) > 0.5, "Kazakh should use ә ғ қ ң ө ұ ү һ і"
    same_as_russian = sum(1 for m in entries if russian.get(_key(m)) == m.string)
    assert same_as_russian / len(entries) < 0.1, "too many Kazakh entries are the Russian text"


def test_russian_is_cyrillic_without_kazakh_letters():
    for message in _messages(_catalogue("ru")):
        text = str(message.string)
        assert not KAZAKH_LETTERS.search(text), f"Kazakh letter in Russian: {text!r}"
        if _has_english_words(message):
            assert CYRILLIC.search(text), f"not Cyrillic: {text!r}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_compiles_without_errors(language):
    catalog = _catalogue(language)
    errors = [(message.id, [str(e) for e in found]) for message, found in catalog.check()]
    assert errors == []
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    assert len(buffer.getvalue()) > 1000
    compiled = TRANSLATIONS_DIR / language / "LC_MESSAGES" / "messages.mo"
    assert compiled.exists(), "tests/conftest.py compiles the catalogues before the tests"


def test_plural_forms_per_language(app):
    from flask_babel import force_locale, ngettext

    expected = {
        "ru": {1: "1 модуль", 2: "2 модуля", 5: "5 модулей", 21: "21 модуль", 11: "11 модулей", 22: "22 модуля"},
        "kk": {1: "1 модуль", 5: "5 модуль"},
        "en": {1: "1 module", 2: "2 modules"},
    }
    with app.test_request_context():
        for language, cases in expected.items():
            with force_locale(language):
                for n, text in cases.items():
                    assert ngettext("%(num)d module", "%(num)d modules", n) == text


# --------------------------------------------------------------------------- course and quiz problems

PARSER_SOURCES = ("learning/content/parser.py", "learning/quizzes/gift.py")
# The calls that take a problem's msgid, and which argument it is.
PROBLEM_CALLS = {"error": 1, "warning": 1, "_problem": 2, "_Bad": 0, "of": 1}


def _parser_msgids() -> set[str]:
    from babel.messages.extract import extract_from_file

    msgids = set()
    for source in PARSER_SOURCES:
        for _line, message, _comments, _context in extract_from_file("python", REPO_DIR / source):
            msgids.add(message)
    return msgids


def test_parser_messages_are_marked_for_extraction():
    """Every problem the course parser and the GIFT/Aiken reader report is a msgid marked with
    N_ (directly or through a name bound to N_ msgids), never an f-string or a bare literal."""
    import ast

    for source in PARSER_SOURCES:
        tree = ast.parse((REPO_DIR / source).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            index = PROBLEM_CALLS.get(name)
            if index is None or len(node.args) <= index:
                continue
            msgid = node.args[index]
            where = f"{source}:{node.lineno}"
            assert not isinstance(msgid, (ast.JoinedStr, ast.Constant, ast.BinOp)), f"{where}: not marked with N_"
            if isinstance(msgid, ast.Call):
                assert getattr(msgid.func, "id", "") == "N_", where
    assert len(_parser_msgids()) > 100


@pytest.mark.parametrize("language", LANGUAGES)
def test_parser_messages_are_translated_and_format(language):
    catalog = _catalogue(language)
    placeholder = re.compile(r"%\((\w+)\)[#0 +-]*\d*(?:\.\d+)?([diouxXeEfFgGcrsa])")
    for msgid in sorted(_parser_msgids()):
        message = catalog.get(msgid)
        assert message is not None, f"{language}: missing {msgid!r}"
        assert not message.fuzzy and message.string.strip(), f"{language}: untranslated {msgid!r}"
        if language == "en":
            assert message.string == msgid
        params = {name: 7 if kind in "di" else "'x'" for name, kind in placeholder.findall(msgid)}
        assert isinstance(message.string % params, str)  # named %-placeholders, %% for a percent sign
        assert isinstance(msgid % params, str)


def test_parser_messages_follow_the_interface_language(app):
    from flask_babel import force_locale, gettext

    from learning.content.parser import course_from_files

    files = {"course.yaml": b"title: {en: T}\nlanguages: [en]\nsequential: [1]\nvalidity_months: true\n",
             "01-a.en.md": b"---\ntitle: A\n---\n![map](media/map.png)\n"}
    _course, problems = course_from_files(files, "c")
    expected = {
        "en": ["validity_months must be an integer or null, not boolean True",
               "sequential must be true or false, not [1]",
               "broken image: 'media/map.png' does not exist in the course folder"],
        "ru": ["значение validity_months должно быть целым числом или null, а указано: логическое значение True",
               "значение sequential должно быть true или false, а указано: [1]",
               "изображение не найдено: 'media/map.png' нет в папке курса"],
        "kk": ["validity_months мәні бүтін сан немесе null болуы керек, ал көрсетілгені: логикалық мән True",
               "sequential мәні true немесе false болуы керек, ал көрсетілгені: [1]",
               "сурет табылмады: курс қалтасында 'media/map.png' жоқ"],
    }
    with app.test_request_context():
        for language, messages in expected.items():
            with force_locale(language):
                assert [p.translated(gettext) for p in problems] == messages
    assert [p.message for p in problems] == expected["en"]
