"""The interface in Kazakh, Russian and English: language choice, <html lang>, the switcher,
translated pages and messages, content fallback, plural forms, dates and percentages."""

from __future__ import annotations

import re
from datetime import date

import pytest

from learning.accounts.models import User
from learning.extensions import db
from tests.conftest import PASSWORD, csrf_from
from tests.web.test_quizzes import answers_for, start_quiz

# One phrase per language from the layout, the login page and the learner's pages.
LOGIN = {"kk": "Кіру", "ru": "Войти", "en": "Log in"}
NAV = {"kk": "Менің оқуым", "ru": "Моё обучение", "en": "My learning"}
CATALOGUE = {"kk": "Курстар", "ru": "Курсы", "en": "Courses"}
TWO_MODULES = {"kk": "2 модуль", "ru": "2 модуля", "en": "2 modules"}
FALLBACK = {
    "kk": "Бұл модуль әзірге сіздің тіліңізге аударылмаған",
    "ru": "Этот модуль пока не переведён на ваш язык",
}
QUIZ = {"kk": "Жауаптарды жіберу", "ru": "Отправить ответы", "en": "Submit answers"}
TRUE_FALSE = {"kk": ("Дұрыс", "Бұрыс"), "ru": ("Верно", "Неверно"), "en": ("True", "False")}
RESULT = {"kk": "Тест нәтижесі", "ru": "Результат теста", "en": "Quiz result"}
SCORE = {"kk": "Сіздің нәтижеңіз: 100%", "ru": "Ваш результат: 100\xa0%", "en": "Your score: 100%"}


def html_lang(html: str) -> str:
    match = re.search(r'<html lang="([^"]+)"', html)
    assert match, "no <html lang>"
    return match.group(1)


def page(client, url, **headers) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


# --------------------------------------------------------------------------- choosing the language


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_login_page_follows_accept_language(client, language):
    html = page(client, "/login", **{"Accept-Language": f"{language};q=0.9, de;q=0.5"})
    assert html_lang(html) == language
    assert LOGIN[language] in html


@pytest.mark.parametrize(("header", "expected"), [
    ("kk-KZ,kk;q=0.9,ru;q=0.8", "kk"),
    ("ru-RU,ru;q=0.9,en;q=0.5", "ru"),
    ("en-GB,en;q=0.9", "en"),
    ("de-DE,fr;q=0.8", "ru"),  # none offered: the site default
])
def test_accept_language_falls_back_to_the_configured_default(app, client, header, expected):
    app.config["DEFAULT_LANGUAGE"] = "ru"  # production's default (TestConfig reads English)
    assert html_lang(page(client, "/login", **{"Accept-Language": header})) == expected


def test_no_accept_language_gives_the_default(app, client):
    app.config["DEFAULT_LANGUAGE"] = "ru"
    html = page(client, "/login")
    assert html_lang(html) == "ru" and LOGIN["ru"] in html
    app.config["DEFAULT_LANGUAGE"] = "kk"
    assert html_lang(page(client, "/login")) == "kk"


def test_the_profile_language_beats_accept_language(client, login_as):
    login_as("learner", language="kk")
    html = page(client, "/", **{"Accept-Language": "en"})
    assert html_lang(html) == "kk" and NAV["kk"] in html


def test_switcher_is_on_every_page_and_works_without_javascript(app, client, login_as, sample_course):
    user_id, _ = login_as("learner", language="en")
    for url in ("/", "/courses", "/courses/sample", "/courses/sample/01-welcome", "/me/transcript",
                "/me/password"):
        html = page(client, url)
        form = re.search(r'<form method="post" action="/language".*?</form>', html, re.S)
        assert form, url
        assert 'name="language"' in form.group(0) and 'type="submit"' in form.group(0), url
        # no change of context on input (WCAG 3.2.2): the choice is sent by its button only
        assert "data-autosubmit" not in form.group(0), url
        for code, name in (("kk", "Қазақша"), ("ru", "Русский"), ("en", "English")):
            assert f'value="{code}" lang="{code}"' in form.group(0) and name in form.group(0)
    html = page(client, "/courses")
    response = client.post("/language", data={"csrf_token": csrf_from(html), "language": "ru",
                                              "next": "/courses?"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/courses")
    html = page(client, "/courses", **{"Accept-Language": "en"})
    assert html_lang(html) == "ru" and "<h1>Курсы</h1>" in html
    assert 'value="ru" lang="ru" selected' in html
    with app.app_context():
        assert db.session.get(User, user_id).language == "ru"


def test_site_script_does_not_submit_the_switcher_on_change():
    from tests.conftest import REPO_DIR

    script = (REPO_DIR / "learning" / "static" / "js" / "site.js").read_text()
    assert "form.submit()" not in script


def test_anonymous_choice_is_kept_and_becomes_the_profile_language(app, client, make_user):
    user_id, email = make_user("learner")  # no language in the profile yet
    html = page(client, "/login", **{"Accept-Language": "en"})
    client.post("/language", data={"csrf_token": csrf_from(html), "language": "kk", "next": "/login"})
    html = page(client, "/login", **{"Accept-Language": "en"})
    assert html_lang(html) == "kk" and LOGIN["kk"] in html
    response = client.post("/login", data={"csrf_token": csrf_from(html), "email": email,
                                           "password": PASSWORD})
    assert response.status_code == 302
    assert html_lang(page(client, "/", **{"Accept-Language": "en"})) == "kk"
    with app.app_context():
        assert db.session.get(User, user_id).language == "kk"


def test_an_unknown_language_is_refused(client):
    html = page(client, "/login")
    response = client.post("/language", data={"csrf_token": csrf_from(html), "language": "de"})
    assert response.status_code == 400


# --------------------------------------------------------------------------- learner's pages


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_learner_pages_in_each_language(app, client, login_as, sample_course, language):
    login_as("learner", language=language)
    dashboard = page(client, "/")
    assert html_lang(dashboard) == language and NAV[language] in dashboard

    catalogue = page(client, "/courses")
    assert html_lang(catalogue) == language
    assert f"<h1>{CATALOGUE[language]}</h1>" in catalogue
    assert TWO_MODULES[language] in catalogue  # ngettext with the language's plural forms
    if language == "ru":
        assert "Пробный курс" in catalogue  # the course's own title in Russian
    else:
        assert "Sample course" in catalogue  # kk falls back to the course's first language

    module = page(client, "/courses/sample/01-welcome")
    assert html_lang(module) == language
    if language == "ru":
        assert 'lang="ru"' in module and "Вступление." in module and FALLBACK["ru"] not in module
    elif language == "kk":
        assert FALLBACK["kk"] in module and 'class="module" lang="en"' in module

    for position, slug in (("2", "01-welcome"), ("1", "02-check")):
        token = csrf_from(page(client, f"/courses/sample/{slug}"))
        client.post(f"/courses/sample/{slug}/read", data={"csrf_token": token, "position": position})
    url, take = start_quiz(client)
    assert html_lang(take) == language and QUIZ[language] in take
    true_label, false_label = TRUE_FALSE[language]
    assert f">{true_label}</label>" in take and f">{false_label}</label>" in take

    response = client.post(url, data=answers_for(app, url) | {"csrf_token": csrf_from(take)})
    result = page(client, response.headers["Location"])
    assert html_lang(result) == language
    assert RESULT[language] in result and SCORE[language] in result


def test_a_module_missing_in_russian_falls_back_and_says_so(client, login_as, sample_course):
    login_as("learner", language="ru")
    html = page(client, "/courses/sample/02-check")
    assert html_lang(html) == "ru"
    assert 'class="module" lang="en"' in html and "Read this, then answer." in html
    notice = re.search(r'<p class="notice" lang="ru">(.*?)</p>', html, re.S)
    assert notice and FALLBACK["ru"] in notice.group(1) and "English" in notice.group(1)


def test_module_in_the_learners_language_has_no_fallback_notice(client, login_as, sample_course):
    login_as("learner", language="en")
    html = page(client, "/courses/sample/02-check")
    assert 'class="notice" lang="en"' not in html


def test_quiz_messages_are_translated(app, client, login_as, sample_course):
    login_as("learner", language="kk")
    url, take = start_quiz(client)
    response = client.post(url, data={"csrf_token": csrf_from(take), "attempt": "someone-else"})
    assert response.status_code == 400
    assert "Бұл форма осы талпынысқа тиесілі емес." in response.get_data(as_text=True)


@pytest.mark.parametrize(("language", "message"), [
    ("ru", "Пароль должен содержать не менее 12 символов."),
    ("kk", "Құпиясөз кемінде 12 таңбадан тұруы керек."),
    ("en", "Use at least 12 characters."),
])
def test_password_policy_messages_are_translated(client, login_as, language, message):
    login_as("learner", language=language)
    token = csrf_from(page(client, "/me/password"))
    response = client.post("/me/password", data={
        "csrf_token": token, "current_password": PASSWORD, "new_password": "short",
        "confirm_password": "short",
    })
    assert message in response.get_data(as_text=True)


@pytest.mark.parametrize(("language", "required"), [
    ("ru", "Обязательное поле."), ("kk", "Бұл өріс міндетті түрде керек."), ("en", "This field is required."),
])
def test_form_validation_messages_follow_the_language(client, language, required):
    html = page(client, "/login", **{"Accept-Language": language})
    response = client.post("/login", data={"csrf_token": csrf_from(html), "email": "", "password": ""},
                           headers={"Accept-Language": language})
    assert required in response.get_data(as_text=True)


@pytest.mark.parametrize(("language", "title"), [
    ("kk", "Бет табылмады"), ("ru", "Страница не найдена"), ("en", "Page not found"),
])
def test_error_pages_are_translated(client, login_as, language, title):
    login_as("learner", language=language)
    response = client.get("/courses/no-such-course")
    html = response.get_data(as_text=True)
    assert response.status_code == 404 and html_lang(html) == language
    assert f"<h1>{title}</h1>" in html


def test_api_errors_stay_english(client):
    """API clients match on English messages, whatever the caller's Accept-Language."""
    response = client.get("/api/v1/no-such-thing", headers={"Accept-Language": "ru"})
    assert response.status_code == 404
    assert response.get_json()["error"]["message"] == "We could not find that page."


def test_lazy_error_descriptions_follow_pages_but_not_the_api(client):
    page_response = client.get("/login?a=1&a=2", headers={"Accept-Language": "ru"})
    assert page_response.status_code == 400
    assert "Одно из полей отправлено несколько раз." in page_response.get_data(as_text=True)
    api_response = client.get("/api/v1/courses?a=1&a=2", headers={"Accept-Language": "ru"})
    assert api_response.status_code == 400
    assert api_response.get_json()["error"]["message"] == "A field was sent more than once."


# --------------------------------------------------------------------------- dates, numbers


@pytest.mark.parametrize(("language", "percent", "day"), [
    ("ru", "85,5\xa0%", "12 мар. 2025 г."),
    ("kk", "85,5%", "2025 ж. 12 нау."),
    ("en", "85.5%", "Mar 12, 2025"),
])
def test_dates_and_percentages_follow_the_locale(app, language, percent, day):
    from flask_babel import force_locale

    env = app.jinja_env
    with app.test_request_context(), force_locale(language):
        assert env.from_string("{{ 85.5|format_percent_local }}").render() == percent
        assert env.from_string("{{ 80|format_percent_local }}").render() == percent.replace("85,5", "80").replace("85.5", "80")
        shown = env.from_string("{{ d|format_date_local }}").render(d=date(2025, 3, 12))
        assert shown.replace("\u202f", " ").replace("\xa0", " ") == day  # CLDR's (narrow) no-break spaces


def test_pages_print_percentages_the_russian_way(app, client, login_as, sample_course):
    login_as("learner", language="ru")
    token = csrf_from(page(client, "/courses/sample/01-welcome"))
    client.post("/courses/sample/01-welcome/read", data={"csrf_token": token, "position": "2"})
    course = page(client, "/courses/sample")
    assert '<span class="progress-text">33\xa0%</span>' in course  # 1 of 3 requirements met
    assert 'aria-valuenow="33"' in course  # the machine-readable value stays a plain number


def test_module_titles_in_another_language_are_marked(client, login_as, sample_course):
    login_as("learner", language="ru")
    html = page(client, "/courses/sample")
    # 02-check exists only in English: its title is announced as English on a Russian page
    assert re.search(r'lang="en" href="/courses/sample/02-check">Check<', html)
    assert re.search(r'lang="ru" href="/courses/sample/01-welcome">Добро пожаловать<', html)


# --------------------------------------------------------------------------- the studio's course problems

# A module with an unknown front-matter key, a value of the wrong type and a broken quiz block.
BROKEN_FRONT_MATTER = "colour: blue\nduration_minutes: soon\n"
BROKEN_QUIZ = "\n```quiz\n::Bad:: What? {=A ~B\n```\n"
STUDIO_PROBLEMS = {
    "kk": [
        "front matter блогында белгісіз 'colour' кілті бар (рұқсат етілгендері: title, duration_minutes, objectives, quiz, required)",
        "duration_minutes мәні бүтін сан немесе null болуы керек, ал көрсетілгені: мәтін 'soon'",
        "'{' жабылмаған: жауаптар блогында жабатын '}' жоқ",
    ],
    "ru": [
        "неизвестный ключ 'colour' в блоке front matter (допустимые: title, duration_minutes, objectives, quiz, required)",
        "значение duration_minutes должно быть целым числом или null, а указано: текст 'soon'",
        "незакрытая '{': у блока ответов нет закрывающей '}'",
    ],
    "en": [
        "unknown key 'colour' in front matter (allowed: title, duration_minutes, objectives, quiz, required)",
        "duration_minutes must be an integer or null, not text 'soon'",
        "unclosed '{': the answer block has no closing '}'",
    ],
}
PUBLISH_PROBLEM = {  # sample/course.yaml:7 (validity_months: soon), as listed by a refused publish
    "kk": "sample/course.yaml:7: validity_months мәні бүтін сан немесе null болуы керек, ал көрсетілгені: мәтін 'soon'",
    "ru": "sample/course.yaml:7: значение validity_months должно быть целым числом или null, а указано: текст 'soon'",
    "en": "sample/course.yaml:7: validity_months must be an integer or null, not text 'soon'",
}


def _broken_module(text: str) -> str:
    assert "duration_minutes: 5\n" in text
    return text.replace("duration_minutes: 5\n", BROKEN_FRONT_MATTER, 1) + BROKEN_QUIZ


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_studio_shows_course_problems_in_the_trainers_language(app, client, login_as, sample_course, language):
    from html import unescape

    from tests.web.test_authoring import MODULE, edit_url, new_draft, open_editor

    login_as("trainer", language=language)
    draft_id = new_draft(client)
    form = open_editor(client, draft_id)
    broken = _broken_module(form["text"])
    expected, english = STUDIO_PROBLEMS[language], STUDIO_PROBLEMS["en"]

    # the live preview (JSON for studio.js)
    response = client.post(f"/author/sample/drafts/{draft_id}/preview", data={"path": MODULE, "text": broken},
                           headers={"X-CSRFToken": form["csrf_token"]})
    assert response.status_code == 200
    messages = [p["message"] for p in response.get_json()["problems"]]
    for text in expected:
        assert any(text in m for m in messages), (text, messages)

    # saved: the editor's problem list and the draft's list of problems by file
    assert client.post(edit_url(draft_id), data=form | {"text": broken, "save": "1"}).status_code == 302
    for url in (edit_url(draft_id), f"/author/sample/drafts/{draft_id}"):
        html = unescape(page(client, url))
        assert html_lang(html) == language
        for text in expected:
            assert text in html, (url, text)
        if language != "en":
            assert not any(text in html for text in english), url

    # a refused publish lists every error as file:line: message
    form = open_editor(client, draft_id, "course.yaml")
    form["text"] = form["text"].replace("validity_months: 12", "validity_months: soon")
    assert client.post(edit_url(draft_id, "course.yaml"), data=form | {"save": "1"}).status_code == 302
    draft_page = page(client, f"/author/sample/drafts/{draft_id}")
    version = re.search(r'name="version" type="hidden" value="(\d+)"', draft_page).group(1)
    response = client.post(f"/author/sample/drafts/{draft_id}/publish",
                           data={"csrf_token": csrf_from(draft_page), "version": version})
    assert response.status_code == 422
    html = unescape(response.get_data(as_text=True))
    assert PUBLISH_PROBLEM[language] in html, re.findall(r"sample/course.yaml:[^<]*", html)
    assert f"sample/{MODULE}:" in html and expected[0] in html


@pytest.mark.parametrize("language", ["kk", "ru"])
def test_zip_import_lists_course_problems_in_the_trainers_language(app, client, login_as, language):
    import io
    import zipfile
    from html import unescape

    login_as("trainer", language=language)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("broken/course.yaml", 'title: {en: "Broken"}\nlanguages: [en]\nvalidity_months: soon\n')
        archive.writestr("broken/01-intro.en.md", '---\ntitle: "Intro"\n' + BROKEN_FRONT_MATTER + "---\n\nText.\n")
    html = page(client, "/author/_import")
    response = client.post("/author/_import", data={
        "csrf_token": csrf_from(html), "archive": (io.BytesIO(buffer.getvalue()), "broken.zip"), "mode": "publish",
    }, content_type="multipart/form-data")
    assert response.status_code == 422
    html = unescape(response.get_data(as_text=True))
    assert "broken/01-intro.en.md:3: " + STUDIO_PROBLEMS[language][0] in html
    assert "broken/01-intro.en.md:4: " + STUDIO_PROBLEMS[language][1] in html
    assert "validity_months" in html and STUDIO_PROBLEMS["en"][1] not in html


BROKEN_COURSE = {
    "course.yaml": 'title: {en: "Broken"}\nlanguages: [en]\nquiz: {passing_score: 120}\n',
    "01-intro.en.md": '---\ntitle: "Intro"\n' + BROKEN_FRONT_MATTER + "---\n\nText.\n" + BROKEN_QUIZ,
    "notes.txt": "scratch\n",
}
BROKEN_COURSE_ENGLISH = [
    "broken/course.yaml:3: quiz.passing_score must be 0..100, not 120",
    "broken/notes.txt:0: unexpected file is ignored (modules are NN-slug.lang.md, files go in media/) (warning)",
    "broken/01-intro.en.md:3: unknown key 'colour' in front matter "
    "(allowed: title, duration_minutes, objectives, quiz, required)",
    "broken/01-intro.en.md:4: duration_minutes must be an integer or null, not text 'soon'",
    "broken/01-intro.en.md:10: unclosed '{': the answer block has no closing '}' "
    "(a blank line ends a question, so answer blocks cannot contain blank lines)",
]


def test_command_line_course_problems_stay_english(app, runner, tmp_path):
    import json

    from tests.conftest import write_course

    folder = write_course(tmp_path, "broken", BROKEN_COURSE)
    result = runner.invoke(args=["courses", "validate", str(folder)])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == BROKEN_COURSE_ENGLISH
    assert "1 course(s), 1 module(s): 4 error(s), 1 warning(s)" in result.stderr

    result = runner.invoke(args=["courses", "dump", str(folder)])
    assert result.exit_code == 0, result.output
    errors = json.loads(result.stdout)["errors"]
    assert [f"{e['file']}:{e['line']}: {e['message']}" + (" (warning)" if e["severity"] == "warning" else "")
            for e in errors] == BROKEN_COURSE_ENGLISH
    assert all(set(e) >= {"file", "line", "message", "severity"} for e in errors)

    gift = tmp_path / "broken.gift"
    gift.write_text("::Fine:: Yes? {T}\n\n::Broken:: What? {=A ~B\n\n::Num:: How many? {#1,5}\n", encoding="utf-8")
    write_course(tmp_path / "library")
    app.config["COURSES_DIR"] = str(tmp_path / "library")
    result = runner.invoke(args=["quizzes", "import-gift", str(gift), "--course", "sample", "--module", "02-check"])
    assert result.exit_code == 1
    assert [line for line in result.output.splitlines() if line.startswith(str(gift))] == [
        f"{gift}:3: unclosed '{{': the answer block has no closing '}}' "
        "(a blank line ends a question, so answer blocks cannot contain blank lines)",
        f"{gift}:5: numerical answer: value '1,5' is not a number (use a decimal point, not a comma)",
    ]
