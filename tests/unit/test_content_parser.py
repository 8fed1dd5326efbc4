"""learning.content.parser: course folder → Course + problems."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from learning.content.parser import (
    Problem,
    QuizSettings,
    course_from_files,
    course_to_dict,
    load_course,
    load_library,
)

ATTACKS = Path(__file__).resolve().parents[3] / "shared/testdata/attacks"
SLUG = "intercultural-basics"

COURSE_YAML = """\
title: {ru: "Основы межкультурной коммуникации", kk: "Мәдениетаралық коммуникация негіздері", en: "Intercultural basics"}
description: {ru: "Для государственных служащих", en: "For civil servants"}
languages: [ru, kk, en]
audience: {ru: "Государственные служащие"}
duration_minutes: 120
completion: {modules: all, quizzes: all}
quiz: {passing_score: 80, max_attempts: 3, time_limit_minutes: null, shuffle: true, show_answers: after_pass}
validity_months: 24
"""

QUIZ = """\
```quiz
::Elder at the desk:: An elderly citizen addresses you in Kazakh. What do you do? {
  =Answer in Kazakh as well as you can #Choosing the citizen's language shows respect.
  ~Reply in Russian #Legal, but it puts the burden on the citizen.
  ~Ask a colleague to take over without explaining #The citizen may feel dismissed.
}

::Greeting:: Greeting an elder first is a sign of respect. {T}
```
"""


def module_file(title: str, body: str = "Текст.\n", extra: str = "") -> str:
    return f"---\ntitle: {title}\nduration_minutes: 15\nobjectives: [Понять, Применить]\n{extra}---\n{body}"


def base_files() -> dict[str, str | bytes]:
    return {
        "course.yaml": COURSE_YAML,
        "01-why-it-matters.ru.md": module_file(
            "Почему это важно",
            "# Почему это важно\n\n![Приветствие](media/greeting.png)\n\n"
            "См. [приветствия](02-greetings.ru.md) и [источник](https://example.kz).\n\n" + QUIZ,
        ),
        "01-why-it-matters.kk.md": module_file("Неліктен маңызды", "Мәтін.\n\n" + QUIZ),
        "01-why-it-matters.en.md": module_file("Why it matters", "Text.\n\n" + QUIZ),
        "02-greetings.ru.md": module_file("Приветствия", "Back to [start](01-why-it-matters).\n"),
        "02-greetings.kk.md": module_file("Сәлемдесу"),
        "media/greeting.png": b"\x89PNG\r\n\x1a\nfake",
        "SOURCES.md": "# Sources\n",
    }


def write(folder: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
    return folder


def make(tmp_path: Path, files: dict[str, str | bytes] | None = None, slug: str = SLUG) -> Path:
    return write(tmp_path / slug, base_files() if files is None else files)


def with_files(tmp_path: Path, changes: dict[str, str | bytes | None]):
    files = base_files()
    for name, content in changes.items():
        if content is None:
            files.pop(name, None)
        else:
            files[name] = content
    return load_course(make(tmp_path, files))


def strs(problems: list[Problem], severity: str | None = None) -> list[str]:
    return [str(p) for p in problems if severity is None or p.severity == severity]


def errors(problems: list[Problem]) -> list[str]:
    return strs(problems, "error")


def warnings(problems: list[Problem]) -> list[str]:
    return strs(problems, "warning")


# --------------------------------------------------------------------------- the good course


def test_good_course_parses_without_problems(tmp_path):
    course, problems = load_course(make(tmp_path))
    assert problems == []
    assert course is not None
    assert course.slug == SLUG
    assert course.title["kk"] == "Мәдениетаралық коммуникация негіздері"
    assert course.languages == ["ru", "kk", "en"]
    assert course.audience == {"ru": "Государственные служащие"}
    assert course.duration_minutes == 120
    assert course.validity_months == 24
    assert course.sequential is False
    assert course.quiz == QuizSettings()
    assert [m.slug for m in course.modules] == ["01-why-it-matters", "02-greetings"]
    assert [m.position for m in course.modules] == [1, 2]
    assert course.media == ["greeting.png"]
    assert course.completion_modules == ["01-why-it-matters", "02-greetings"]
    assert course.completion_quizzes == ["01-why-it-matters"]
    first = course.module("01-why-it-matters")
    assert first is not None and first.has_quiz
    assert not course.module("02-greetings").has_quiz
    assert course.module("nope") is None
    ru = first.texts["ru"]
    assert ru.title == "Почему это важно"
    assert ru.duration_minutes == 15
    assert ru.objectives == ["Понять", "Применить"]
    assert ru.required is True
    assert ru.source_file == "01-why-it-matters.ru.md"
    assert len(ru.questions) == 2
    assert "```" not in ru.body and "Elder at the desk" not in ru.body
    assert ru.body.startswith("# Почему это важно\n")
    assert "media/greeting.png" in ru.body


def test_quiz_questions_carry_real_file_lines(tmp_path):
    course, _ = load_course(make(tmp_path))
    ru = course.module("01-why-it-matters").texts["ru"]
    lines = (tmp_path / SLUG / "01-why-it-matters.ru.md").read_text(encoding="utf-8").split("\n")
    first_question = next(i for i, line in enumerate(lines, 1) if "::Elder at the desk::" in line)
    assert ru.questions[0].line == first_question
    assert ru.questions[0].title == "Elder at the desk"


def test_aiken_block_and_non_quiz_fences(tmp_path):
    body = (
        "````markdown\n```quiz\nnot a quiz, just an example\n```\n````\n\n"
        "```quiz aiken\nWhich language should you answer in?\nA. The citizen's\nB. Yours\nANSWER: A\n```\n"
    )
    course, problems = with_files(tmp_path, {"02-greetings.ru.md": module_file("Приветствия", body)})
    assert errors(problems) == []
    text = course.module("02-greetings").texts["ru"]
    assert len(text.questions) == 1
    assert "not a quiz, just an example" in text.body
    assert "ANSWER" not in text.body


def test_problem_str():
    assert str(Problem("a/b.ru.md", 3, "oops")) == "a/b.ru.md:3: oops"
    assert Problem("a", 0, "m").severity == "error"


# --------------------------------------------------------------------------- one test per problem


def test_missing_course_yaml(tmp_path):
    course, problems = with_files(tmp_path, {"course.yaml": None})
    assert course is None
    assert strs(problems) == [f"{SLUG}/course.yaml:0: course.yaml is missing"]


def test_bad_yaml_in_course_yaml_reports_its_line(tmp_path):
    broken = COURSE_YAML.replace("duration_minutes: 120", "duration_minutes: [120")
    course, problems = with_files(tmp_path, {"course.yaml": broken})
    assert course is None
    assert len(problems) == 1
    assert problems[0].file == f"{SLUG}/course.yaml"
    assert problems[0].line in (5, 6)
    assert problems[0].message.startswith("invalid YAML")


def test_course_yaml_not_a_mapping(tmp_path):
    course, problems = with_files(tmp_path, {"course.yaml": "- just\n- a list\n"})
    assert course is None
    assert strs(problems) == [f"{SLUG}/course.yaml:1: course.yaml must be a mapping of keys, not list"]


def test_course_yaml_not_utf8(tmp_path):
    course, problems = with_files(tmp_path, {"course.yaml": b"title: {ru: x}\nlanguages: [ru]\n\xff\n"})
    assert course is None
    assert strs(problems) == [f"{SLUG}/course.yaml:3: file is not valid UTF-8 text"]


def test_unknown_key_in_course_yaml(tmp_path):
    _, problems = with_files(tmp_path, {"course.yaml": COURSE_YAML + "colour: red\n"})
    assert errors(problems) == [
        f"{SLUG}/course.yaml:9: unknown key 'colour' in course.yaml (allowed: title, description, "
        "languages, audience, duration_minutes, completion, quiz, validity_months, sequential, "
        "modules, version_note)"
    ]


def test_unknown_key_in_quiz_settings(tmp_path):
    yaml_text = COURSE_YAML.replace("show_answers: after_pass}", "show_answers: after_pass, retries: 2}")
    _, problems = with_files(tmp_path, {"course.yaml": yaml_text})
    assert len(errors(problems)) == 1
    assert errors(problems)[0].startswith(f"{SLUG}/course.yaml:7: unknown key 'retries' in course quiz")


def test_duplicate_key_in_course_yaml(tmp_path):
    _, problems = with_files(tmp_path, {"course.yaml": COURSE_YAML + "duration_minutes: 90\n"})
    assert errors(problems) == [f"{SLUG}/course.yaml:9: duplicate key 'duration_minutes'"]


def test_missing_course_title(tmp_path):
    yaml_text = "\n".join(line for line in COURSE_YAML.split("\n") if not line.startswith("title"))
    course, problems = with_files(tmp_path, {"course.yaml": yaml_text})
    assert course is not None
    assert errors(problems) == [f"{SLUG}/course.yaml:1: missing title (a mapping of language to text)"]


def test_course_title_without_fallback_language(tmp_path):
    yaml_text = COURSE_YAML.replace('title: {ru: "Основы межкультурной коммуникации", ', "title: {")
    _, problems = with_files(tmp_path, {"course.yaml": yaml_text})
    assert errors(problems) == [
        f"{SLUG}/course.yaml:1: title has no text in the first (fallback) language 'ru'"
    ]


def test_title_in_unsupported_language(tmp_path):
    yaml_text = COURSE_YAML.replace('en: "Intercultural basics"}', 'de: "Grundlagen"}')
    _, problems = with_files(tmp_path, {"course.yaml": yaml_text})
    assert errors(problems) == [f"{SLUG}/course.yaml:1: title: unsupported language 'de' (use kk, ru, en)"]


def test_missing_front_matter(tmp_path):
    course, problems = with_files(tmp_path, {"02-greetings.ru.md": "# Приветствия\n\nТекст.\n"})
    assert errors(problems) == [
        f"{SLUG}/02-greetings.ru.md:1: missing front matter: the file must start with a '---' "
        "line, then YAML with at least 'title', then '---'"
    ]
    text = course.module("02-greetings").texts["ru"]
    assert text.title == "02-greetings"  # best effort
    assert text.body.startswith("# Приветствия")


def test_unclosed_front_matter(tmp_path):
    _, problems = with_files(tmp_path, {"02-greetings.ru.md": "---\ntitle: x\n\nТекст.\n"})
    assert errors(problems) == [
        f"{SLUG}/02-greetings.ru.md:1: front matter is not closed: add a '---' line after it"
    ]


def test_missing_module_title(tmp_path):
    _, problems = with_files(tmp_path, {"02-greetings.kk.md": "---\nduration_minutes: 5\n---\nМәтін.\n"})
    assert errors(problems) == [f"{SLUG}/02-greetings.kk.md:1: missing title in front matter"]


def test_bad_yaml_in_front_matter_reports_the_file_line(tmp_path):
    text = "---\ntitle: Сәлемдесу\nobjectives: [a, b\nduration_minutes: 5\n---\nМәтін.\n"
    _, problems = with_files(tmp_path, {"02-greetings.kk.md": text})
    assert len(problems) == 1  # and no "missing title" on top
    problem = problems[0]
    assert problem.message.startswith("invalid YAML")
    assert problem.file == f"{SLUG}/02-greetings.kk.md"
    assert problem.line in (3, 4, 5)


def test_unknown_key_in_front_matter(tmp_path):
    text = "---\ntitle: Сәлемдесу\nauthor: me\n---\nМәтін.\n"
    _, problems = with_files(tmp_path, {"02-greetings.kk.md": text})
    assert errors(problems) == [
        f"{SLUG}/02-greetings.kk.md:3: unknown key 'author' in front matter "
        "(allowed: title, duration_minutes, objectives, quiz, required)"
    ]


def test_module_listed_but_no_file(tmp_path):
    yaml_text = COURSE_YAML + "modules:\n  - 01-why-it-matters\n  - 03-conflicts\n  - 02-greetings\n"
    course, problems = with_files(tmp_path, {"course.yaml": yaml_text})
    assert errors(problems) == [
        f"{SLUG}/course.yaml:11: module '03-conflicts' is listed in modules: but has no file"
    ]
    assert [m.slug for m in course.modules] == ["01-why-it-matters", "02-greetings"]


def test_module_listed_without_number_gets_a_hint(tmp_path):
    yaml_text = COURSE_YAML + "modules: [01-why-it-matters, greetings]\n"
    _, problems = with_files(tmp_path, {"course.yaml": yaml_text})
    assert f"{SLUG}/course.yaml:9: module 'greetings' is listed in modules: but has no file (did you mean '02-greetings'?)" in errors(problems)


def test_duplicate_in_modules_list(tmp_path):
    yaml_text = COURSE_YAML + "modules:\n  - 02-greetings\n  - 01-why-it-matters\n  - 02-greetings\n"
    course, problems = with_files(tmp_path, {"course.yaml": yaml_text})
    assert errors(problems) == [f"{SLUG}/course.yaml:12: duplicate module '02-greetings' in modules:"]
    assert [m.slug for m in course.modules] == ["02-greetings", "01-why-it-matters"]


def test_duplicate_slug_and_language_from_two_paths():
    files = {k: v.encode() if isinstance(v, str) else v for k, v in base_files().items()}
    files["./02-greetings.kk.md"] = files["02-greetings.kk.md"]
    _, problems = course_from_files(files, SLUG)
    assert errors(problems) == [
        f"{SLUG}/02-greetings.kk.md:0: duplicate file: './02-greetings.kk.md' and "
        "'02-greetings.kk.md' are the same path"
    ]


def test_same_module_name_with_two_numbers_is_a_warning(tmp_path):
    course, problems = with_files(tmp_path, {"03-greetings.ru.md": module_file("Копия")})
    assert warnings(problems) == [
        f"{SLUG}/03-greetings.ru.md:0: module '03-greetings' has the same name as '02-greetings' "
        "(only the number differs): a renumbered copy?"
    ]
    assert [m.slug for m in course.modules][-1] == "03-greetings"


def test_language_listed_but_no_files(tmp_path):
    yaml_text = COURSE_YAML.replace("languages: [ru, kk, en]", "languages: [ru, kk]")
    files = {"01-why-it-matters.kk.md": None, "02-greetings.kk.md": None}
    _, problems = with_files(tmp_path, {"course.yaml": yaml_text, **files})
    assert f"{SLUG}/course.yaml:3: language 'kk' is listed but no module file is in it" in errors(problems)


def test_module_file_in_unlisted_language_is_a_warning(tmp_path):
    yaml_text = COURSE_YAML.replace("languages: [ru, kk, en]", "languages: [ru, kk]")
    course, problems = with_files(tmp_path, {"course.yaml": yaml_text})
    assert errors(problems) == []
    assert warnings(problems) == [
        f"{SLUG}/01-why-it-matters.en.md:0: language 'en' is not in the course's languages "
        "(ru, kk); the file is ignored"
    ]
    assert "en" not in course.module("01-why-it-matters").texts


def test_unsupported_language(tmp_path):
    yaml_text = COURSE_YAML.replace("languages: [ru, kk, en]", "languages: [ru, kk, en, de]")
    _, problems = with_files(tmp_path, {"course.yaml": yaml_text, "02-greetings.de.md": module_file("Grüße")})
    assert errors(problems) == [
        f"{SLUG}/course.yaml:3: unsupported language 'de' (use kk, ru, en)",
        f"{SLUG}/02-greetings.de.md:0: unsupported language 'de' in the file name (use kk, ru, en)",
    ]


@pytest.mark.parametrize("name", ["greetings.ru.md", "02_greetings.ru.md", "02-Greetings.ru.md", "02-greetings.md"])
def test_bad_module_file_name(tmp_path, name):
    _, problems = with_files(tmp_path, {name: module_file("x")})
    assert errors(problems) == [
        f"{SLUG}/{name}:0: file name does not match NN-slug.lang.md (e.g. 01-why-it-matters.ru.md; "
        "lowercase a-z, 0-9 and '-')"
    ]


def test_unexpected_files_are_warnings_and_hidden_files_are_skipped(tmp_path):
    _, problems = with_files(tmp_path, {"notes.txt": "x", "drafts/a.md": "x", ".DS_Store": b"\0"})
    assert errors(problems) == []
    assert warnings(problems) == [
        f"{SLUG}/drafts/a.md:0: unexpected file outside media/ is ignored",
        f"{SLUG}/notes.txt:0: unexpected file is ignored (modules are NN-slug.lang.md, files go in media/)",
    ]


def test_broken_links_and_images(tmp_path):
    body = (
        "# Title\n"  # line 6
        "\n"
        "![missing](media/missing.png) and ![ok](media/greeting.png)\n"  # 8
        "[gone](05-nowhere.ru.md) [ok](02-greetings) [ok too](02-greetings.kk.md#h-x)\n"  # 9
        '<img src="media/nope.jpg" alt=""> [web](https://example.kz) [mail](mailto:a@b.kz) [top](#h-a)\n'  # 10
        "`[not a link](nowhere.md)` [sources](SOURCES.md)\n"  # 11
        "[ref]: media/also-missing.pdf\n"  # 12
        "[esc](../other-course/media/x.png) [js](javascript:alert(1))\n"  # 13
        "```\n[in code](nowhere)\n```\n"
        "[pct](media/%D0%BD%D0%B5%D1%82.png)\n"  # 17
    )
    _, problems = with_files(tmp_path, {"02-greetings.ru.md": module_file("Приветствия", body)})
    file = f"{SLUG}/02-greetings.ru.md"
    assert errors(problems) == [
        f"{file}:8: broken image: 'media/missing.png' does not exist in the course folder",
        f"{file}:9: broken link: '05-nowhere.ru.md' does not exist in the course folder",
        f"{file}:10: broken image: 'media/nope.jpg' does not exist in the course folder",
        f"{file}:12: broken link: 'media/also-missing.pdf' does not exist in the course folder",
        f"{file}:13: link '../other-course/media/x.png' points outside the course folder",
        f"{file}:13: link 'javascript:alert(1)' uses a scheme that is not allowed (only http, https, mailto and relative paths)",
        f"{file}:17: broken link: 'media/%D0%BD%D0%B5%D1%82.png' does not exist in the course folder",
    ]


def test_link_to_percent_encoded_existing_media_is_fine(tmp_path):
    body = "![фото](media/%D1%84%D0%BE%D1%82%D0%BE.png) ![фото](<media/фото.png>)\n"
    _, problems = with_files(
        tmp_path, {"02-greetings.ru.md": module_file("П", body), "media/фото.png": b"x"}
    )
    assert problems == []


def test_unparsable_quiz_block_reports_file_lines(tmp_path):
    body = "Текст.\n\n```quiz\n::Q1:: Fine question {T}\n\n::Q2:: Broken question {\n=a\n~b\n"  # no '}'
    body += "```\n"
    _, problems = with_files(tmp_path, {"02-greetings.ru.md": module_file("Приветствия", body)})
    quiz_problems = [p for p in problems if p.severity == "error"]
    assert quiz_problems, problems
    # front matter is lines 1-5, body starts at 6; fence at 8, questions at 9..13
    for problem in quiz_problems:
        assert problem.file == f"{SLUG}/02-greetings.ru.md"
        assert 9 <= problem.line <= 14, problem


def test_unclosed_quiz_block(tmp_path):
    body = "Текст.\n\n```quiz\n::Q1:: Fine question {T}\n"
    _, problems = with_files(tmp_path, {"02-greetings.ru.md": module_file("Приветствия", body)})
    assert errors(problems) == [f"{SLUG}/02-greetings.ru.md:8: quiz block is not closed: add a closing ``` line"]


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("passing_score: 120", "quiz.passing_score must be 0..100, not 120"),
        ("passing_score: '80'", "quiz.passing_score must be an integer, not text '80'"),
        ("passing_score: true", "quiz.passing_score must be an integer, not boolean True"),
        ("max_attempts: 0", "quiz.max_attempts must be >= 1, not 0"),
        ("max_attempts: 2.5", "quiz.max_attempts must be an integer or null, not number 2.5"),
        ("time_limit_minutes: ten", "quiz.time_limit_minutes must be an integer or null, not text 'ten'"),
        ("shuffle: 'yes'", "quiz.shuffle must be true or false, not 'yes'"),
        ("show_answers: always", "quiz.show_answers must be one of never, after_submit, after_pass, not 'always'"),
        ("draw: -1", "quiz.draw must be >= 1, not -1"),
        ("categories: Basics", "quiz.categories must be a list of texts, not 'Basics'"),
    ],
)
def test_wrong_types_in_course_quiz(tmp_path, setting, message):
    yaml_text = COURSE_YAML.replace(
        "quiz: {passing_score: 80, max_attempts: 3, time_limit_minutes: null, shuffle: true, show_answers: after_pass}",
        f"quiz:\n  {setting}",
    )
    course, problems = with_files(tmp_path, {"course.yaml": yaml_text})
    assert errors(problems) == [f"{SLUG}/course.yaml:8: {message}"]
    assert course.quiz == QuizSettings()  # the bad value is not used


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("duration_minutes: long", "duration_minutes must be an integer or null, not text 'long'"),
        ("validity_months: 0", "validity_months must be >= 1, not 0"),
        ("sequential: maybe", "sequential must be true or false, not 'maybe'"),
        ("languages: ru", "languages must be a non-empty list such as [ru, kk, en], not 'ru'"),
        ("description: Просто текст", 'description must be a mapping of language to text, e.g. {ru: "…"}'),
        ("completion: all", "completion must be a mapping {modules: …, quizzes: …}, not text"),
        ("version_note: [1]", "version_note must be a text, not list"),
        ("modules: 01-why-it-matters", "modules must be a list of module slugs, not text"),
    ],
)
def test_wrong_types_in_course_yaml(tmp_path, line, message):
    key = line.split(":")[0]
    kept = [x for x in COURSE_YAML.split("\n") if x and not x.startswith(key + ":")]
    course, problems = with_files(tmp_path, {"course.yaml": "\n".join(kept) + "\n" + line + "\n"})
    assert course is not None
    assert errors(problems) == [f"{SLUG}/course.yaml:{len(kept) + 1}: {message}"]


def test_wrong_types_in_front_matter(tmp_path):
    text = (
        "---\ntitle: [not, text]\nduration_minutes: '5'\nobjectives: just one\nrequired: yes please\n"
        "quiz: {passing_score: -5, draw: 1}\n---\nТекст.\n"
    )
    course, problems = with_files(tmp_path, {"02-greetings.kk.md": text})
    file = f"{SLUG}/02-greetings.kk.md"
    assert errors(problems) == [
        f"{file}:2: title must be a non-empty text, not ['not', 'text']",
        f"{file}:3: duration_minutes must be an integer or null, not text '5'",
        f"{file}:4: objectives must be a list of texts, not 'just one'",
        f"{file}:6: quiz.passing_score must be 0..100, not -5",
        f"{file}:5: required must be true or false, not 'yes please'",
    ]
    text = course.module("02-greetings").texts["kk"]
    assert text.quiz_settings_overrides == {"draw": 1}
    assert text.objectives == [] and text.duration_minutes is None and text.required is True


def test_completion_lists_naming_unknown_modules(tmp_path):
    yaml_text = COURSE_YAML.replace(
        "completion: {modules: all, quizzes: all}",
        "completion:\n  modules: [01-why-it-matters, 09-missing]\n  quizzes: [02-greetings, 07-gone]",
    )
    course, problems = with_files(tmp_path, {"course.yaml": yaml_text})
    assert errors(problems) == [
        f"{SLUG}/course.yaml:7: completion.modules names unknown module '09-missing'",
        f"{SLUG}/course.yaml:8: completion.quizzes names module '02-greetings', which has no quiz",
        f"{SLUG}/course.yaml:8: completion.quizzes names unknown module '07-gone'",
    ]
    assert course.completion_modules == ["01-why-it-matters"]
    assert course.completion_quizzes == []


def test_completion_all_skips_optional_modules(tmp_path):
    optional = module_file("Дополнительно", extra="required: false\n")
    course, problems = with_files(tmp_path, {"03-extra.ru.md": optional})
    assert errors(problems) == []
    assert course.module("03-extra").texts["ru"].required is False
    assert course.completion_modules == ["01-why-it-matters", "02-greetings"]


def test_draw_larger_than_pool_is_a_warning(tmp_path):
    text = module_file("Почему это важно", "Текст.\n\n" + QUIZ, extra="quiz: {draw: 5, passing_score: 50}\n")
    course, problems = with_files(tmp_path, {"01-why-it-matters.ru.md": text})
    assert errors(problems) == []
    assert warnings(problems) == [
        f"{SLUG}/01-why-it-matters.ru.md:0: quiz draws 5 questions but only 2 are available; all will be used"
    ]
    settings = course.quiz_settings_for(course.module("01-why-it-matters"))
    assert settings.draw == 5 and settings.passing_score == 50 and settings.max_attempts == 3
    assert course.quiz.draw is None  # the course's own settings are untouched


def test_different_question_counts_per_language_is_a_warning(tmp_path):
    text = module_file("Неліктен маңызды", "Мәтін.\n\n```quiz\n::Q:: Иә ма? {T}\n```\n")
    _, problems = with_files(tmp_path, {"01-why-it-matters.kk.md": text})
    assert warnings(problems) == [
        f"{SLUG}/01-why-it-matters.ru.md:0: languages have different numbers of quiz questions (ru: 2, kk: 1, en: 2)"
    ]


def test_module_without_fallback_text(tmp_path):
    course, problems = with_files(tmp_path, {"02-greetings.ru.md": None, "01-why-it-matters.ru.md": None})
    assert errors(problems) == [
        f"{SLUG}/01-why-it-matters.kk.md:0: module '01-why-it-matters' has no 'ru' text (ru is the "
        "fallback language): add 01-why-it-matters.ru.md",
        f"{SLUG}/02-greetings.kk.md:0: module '02-greetings' has no 'ru' text (ru is the fallback "
        "language): add 02-greetings.ru.md",
        f"{SLUG}/course.yaml:3: language 'ru' is listed but no module file is in it",
    ]
    assert course is not None and len(course.modules) == 2


def test_all_problems_are_reported_at_once(tmp_path):
    _, problems = with_files(
        tmp_path,
        {
            "course.yaml": COURSE_YAML + "colour: red\nsequential: 3\n",
            "02-greetings.kk.md": "no front matter\n",
            "bad-name.md": "x",
            "02-greetings.ru.md": module_file("П", "![x](media/none.png)\n"),
        },
    )
    assert len(errors(problems)) == 5


# --------------------------------------------------------------------------- behaviour


def test_text_for_falls_back(tmp_path):
    course, _ = load_course(make(tmp_path))
    greetings = course.module("02-greetings")
    text, is_fallback = greetings.text_for("kk", "ru")
    assert (text.language, is_fallback) == ("kk", False)
    text, is_fallback = greetings.text_for("en", "ru")
    assert (text.language, is_fallback) == ("ru", True)
    text, is_fallback = greetings.text_for("en", "en")
    assert (text.language, is_fallback) == ("ru", True)  # some text rather than none
    assert course.title_for("de") == course.title["ru"]
    assert course.localized(course.description, "kk") == "Для государственных служащих"


def test_order_follows_modules_list(tmp_path):
    yaml_text = COURSE_YAML + "modules: [02-greetings, 01-why-it-matters]\n"
    course, problems = with_files(tmp_path, {"course.yaml": yaml_text})
    assert problems == []
    assert [(m.slug, m.position) for m in course.modules] == [("02-greetings", 1), ("01-why-it-matters", 2)]


def test_order_defaults_to_numeric_file_order(tmp_path):
    course, _ = with_files(tmp_path, {"10-later.ru.md": module_file("Позже"), "3-middle.ru.md": module_file("Середина")})
    assert [m.slug for m in course.modules] == ["01-why-it-matters", "02-greetings", "3-middle", "10-later"]


def test_unlisted_module_is_left_out_with_a_warning(tmp_path):
    yaml_text = COURSE_YAML + "modules: [01-why-it-matters]\n"
    course, problems = with_files(tmp_path, {"course.yaml": yaml_text, "01-why-it-matters.ru.md": module_file("П", QUIZ)})
    assert warnings(problems) == [
        f"{SLUG}/02-greetings.kk.md:0: module '02-greetings' is not listed in course.yaml modules: "
        "and is not part of the course"
    ]
    assert [m.slug for m in course.modules] == ["01-why-it-matters"]


def test_content_hash_is_stable_and_changes_with_any_byte(tmp_path):
    first, _ = load_course(make(tmp_path / "a"))
    again, _ = load_course(make(tmp_path / "b"))
    assert first.content_hash == again.content_hash
    assert len(first.content_hash) == 64
    png = bytearray(base_files()["media/greeting.png"])
    png[-1] ^= 1
    changed, _ = with_files(tmp_path / "c", {"media/greeting.png": bytes(png)})
    assert changed.content_hash != first.content_hash
    renamed, _ = with_files(tmp_path / "d", {"media/greeting.png": None, "media/greeting2.png": base_files()["media/greeting.png"]})
    assert renamed.content_hash != first.content_hash
    sources, _ = with_files(tmp_path / "e", {"SOURCES.md": "# Sources\n\n- one more\n"})
    assert sources.content_hash != first.content_hash


def test_course_from_files_equals_load_course(tmp_path):
    folder = make(tmp_path)
    from_folder, folder_problems = load_course(folder)
    files = {k: v.encode() if isinstance(v, str) else v for k, v in base_files().items()}
    from_memory, memory_problems = course_from_files(files, SLUG)
    assert from_memory == from_folder
    assert course_to_dict(from_memory) == course_to_dict(from_folder)
    assert memory_problems == folder_problems


def test_course_from_files_accepts_text_and_rejects_escaping_paths():
    files = dict(base_files())
    files["../escape.md"] = b"x"
    files["/etc/passwd"] = b"x"
    course, problems = course_from_files(files, SLUG)
    assert course is not None
    assert sorted(errors(problems)) == [
        f"{SLUG}/../escape.md:0: unsafe path outside the course folder is ignored",
        f"{SLUG}//etc/passwd:0: unsafe path outside the course folder is ignored",
    ]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symlinks")
def test_symlinks_are_skipped(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    folder = make(tmp_path)
    (folder / "media" / "link.txt").symlink_to(secret)
    (folder / "linked-dir").symlink_to(tmp_path, target_is_directory=True)
    course, problems = load_course(folder)
    assert "link.txt" not in course.media
    assert sorted(warnings(problems)) == [
        f"{SLUG}/linked-dir:0: symbolic link is ignored",
        f"{SLUG}/media/link.txt:0: symbolic link is ignored",
    ]


def test_dump_dict_shape(tmp_path):
    course, _ = load_course(make(tmp_path))
    data = course_to_dict(course)
    assert json.loads(json.dumps(data)) == data
    assert list(data) == [
        "slug", "title", "description", "languages", "audience", "duration_minutes", "completion",
        "quiz", "validity_months", "sequential", "version_note", "content_hash", "media", "modules",
    ]  # fmt: skip
    assert data["completion"] == {"modules": ["01-why-it-matters", "02-greetings"], "quizzes": ["01-why-it-matters"]}
    assert data["quiz"] == {
        "passing_score": 80, "max_attempts": 3, "time_limit_minutes": None, "shuffle": True,
        "show_answers": "after_pass", "draw": None, "categories": None,
    }  # fmt: skip
    first = data["modules"][0]
    assert first["slug"] == "01-why-it-matters" and first["position"] == 1
    assert first["languages"] == ["ru", "kk", "en"]
    assert list(first["texts"]["ru"]) == [
        "title", "duration_minutes", "objectives", "required", "source_file", "quiz_overrides", "questions",
    ]  # fmt: skip
    assert len(first["texts"]["ru"]["questions"]) == 2
    assert data["modules"][1]["languages"] == ["ru", "kk"]
    assert json.dumps(data, sort_keys=True) == json.dumps(course_to_dict(load_course(make(tmp_path / "x"))[0]), sort_keys=True)


def test_load_library(tmp_path):
    library = tmp_path / "courses"
    make(library, slug="b-course")
    make(library, slug="a-course")
    write(library / "not-a-course", {"README.md": "x"})
    results = load_library(library)
    assert [(path.name, course.slug, problems) for path, course, problems in results] == [
        ("a-course", "a-course", []),
        ("b-course", "b-course", []),
    ]
    single = load_library(library / "a-course")
    assert [(p.name, c.slug) for p, c, _ in single] == [("a-course", "a-course")]
    assert load_library(tmp_path / "missing") == []


def test_bad_course_folder_name(tmp_path):
    _, problems = load_course(make(tmp_path, slug="Bad Name"))
    assert errors(problems) == [
        "Bad Name/course.yaml:0: course folder name 'Bad Name' is not a valid slug (lowercase a-z, 0-9, '-', '_')"
    ]


def test_load_course_on_missing_folder(tmp_path):
    course, problems = load_course(tmp_path / "nope")
    assert course is None
    assert problems and problems[0].file == "nope/course.yaml"


# --------------------------------------------------------------------------- fuzz


def _naughty() -> list[str]:
    lines = (ATTACKS / "blns.txt").read_text(encoding="utf-8", errors="replace").splitlines()
    return [line for line in lines if line and not line.startswith("#")]


@pytest.mark.parametrize("chunk", range(8))
def test_naughty_strings_never_raise(chunk):
    base = {k: v.encode() if isinstance(v, str) else v for k, v in base_files().items()}
    for value in _naughty()[chunk::8]:
        variants = [
            {"course.yaml": f"title: {{ru: {value}}}\nlanguages: [ru]\n".encode()},
            {"course.yaml": f"title: {value}\nlanguages: [{value}]\nquiz: {{draw: {value}}}\nmodules: [{value}]\n".encode()},
            {"course.yaml": value.encode("utf-8", "surrogatepass")},
            {"02-greetings.ru.md": f"---\ntitle: {value}\nquiz: {value}\n---\n{value}\n[{value}]({value})\n".encode()},
            {"02-greetings.ru.md": f"---\ntitle: x\n---\n```quiz\n{value}\n```\n```quiz aiken\n{value}\n```\n".encode()},
            {value.encode("utf-8", "surrogatepass").decode("utf-8", "replace"): b"x"},
        ]
        for change in variants:
            course, problems = course_from_files({**base, **change}, SLUG)
            assert all(isinstance(p, Problem) for p in problems)
            if course is not None:
                json.dumps(course_to_dict(course))


def test_hostile_yaml_never_raises():
    base = {k: v.encode() if isinstance(v, str) else v for k, v in base_files().items()}
    hostile = [
        b"a: &a [*a]\ntitle: *a\n",
        b"title: &t {ru: *t}\nlanguages: [ru]\n",
        b"[" * 5000,
        b"duration_minutes: " + b"9" * 6000 + b"\n",
        b"title: !!python/object/apply:os.system ['echo hi']\n",
        b"? [1, 2]\n: x\n",
        b"1: x\n~: y\n",
        b"languages: [ru, ru, {a: b}]\ntitle: {ru: x}\ncompletion: {modules: [[1]], quizzes: 7}\n",
        b"\x00\x01\x02",
        b"",
    ]
    for text in hostile:
        course, problems = course_from_files({**base, "course.yaml": text}, SLUG)
        if course is not None:
            json.dumps(course_to_dict(course))
        course, problems = course_from_files(
            {**base, "02-greetings.ru.md": b"---\n" + text + b"\n---\nbody\n"}, SLUG
        )
        assert course is not None
        json.dumps(course_to_dict(course))


# --------------------------------------------------------------------------- translatable messages

BROKEN_FILES = {
    "course.yaml": (
        "title: {ru: x, de: y}\nlanguages: [ru, ru, fr]\nsequential: maybe\nversion_note: [1]\n"
        "quiz: {passing_score: 120, shuffle: 2, show_answers: soon, draw: 0, extra: 1}\n"
        "completion: {modules: [nope, 01-a, 01-a], quizzes: [01-a], other: 1}\nmodules: [01-a, 02-b, a, 1]\n"
        "validity_months: soon\n"
    ),
    "01-a.ru.md": "---\ntitle: ''\ncolour: blue\nrequired: 3\nobjectives: 5\nquiz: [1]\n---\n"
                  "[x](javascript:alert(1)) ![y](../up.png) [z](gone.md)\n\n```quiz\nQ {=a ~b\n```\n```quiz aiken\nQ?\nA) x\nANSWER: A\n```\n",
    "02-b.ru.md": "no front matter\n",
    "03-a.ru.md": "---\ntitle: Copy\n---\n",
    "Bad Name.md": "x",
    "01-a.xx.md": "x",
    "notes.txt": "x",
    "sub/x.md": "x",
}


def test_every_problem_carries_a_msgid_and_its_parameters():
    course, problems = course_from_files({k: v.encode() for k, v in BROKEN_FILES.items()}, "broken")
    assert len(problems) > 25
    for problem in problems:
        assert problem.msgid, problem
        assert set(re.findall(r"%\((\w+)\)", problem.msgid)) == set(problem.params), problem
        assert problem.translated(lambda text: text) == problem.message  # English is msgid % params


def test_problems_translate_the_msgid_and_fixed_words_but_not_the_authors_values():
    files = dict(base_files())
    files["02-greetings.kk.md"] = module_file("Сәлемдесу", extra="duration_minutes: soon\n").replace(
        "duration_minutes: 15\n", "", 1)
    course, problems = course_from_files(files, SLUG)
    [problem] = problems
    assert problem.message == "duration_minutes must be an integer or null, not text 'soon'"
    catalogue = {
        "%(name)s must be an integer or null, not %(type)s %(value)s": "%(name)s: нужно число, а не %(type)s %(value)s",
        "text": "текст",
    }
    assert problem.translated(lambda text: catalogue.get(text, text)) == "duration_minutes: нужно число, а не текст 'soon'"
    # a translation that does not format falls back to English rather than failing the page
    assert problem.translated(lambda text: "%(missing)s") == problem.message


def test_problems_compare_and_print_as_before():
    made = Problem("a/b.ru.md", 3, "file is not valid UTF-8 text", "error", "file is not valid UTF-8 text", {})
    assert made == Problem("a/b.ru.md", 3, "file is not valid UTF-8 text")
    assert str(made) == "a/b.ru.md:3: file is not valid UTF-8 text"
    bare = Problem("slug", 0, "changed in the studio: use --force")  # no msgid: shown as it is
    assert bare.translated(lambda text: "ПЕРЕВОД") == "changed in the studio: use --force"
