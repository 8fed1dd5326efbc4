"""Template helpers that remember work between requests (learning/templating.py) must never
show one person's page parts to another: the navigation per role and language, the CSRF token
per session."""

from __future__ import annotations

import re
import time
from pathlib import Path

from learning.content.services import sync_library
from tests.conftest import SAMPLE_COURSE, csrf_from, write_course


def _nav(html: str) -> str:
    match = re.search(r'<nav aria-label="[^"]*" class="main-nav">(.*?)</nav>', html, re.S)
    assert match, "no main navigation"
    return match.group(1)


def test_navigation_follows_role_and_language_in_one_worker(client, login_as):
    login_as("admin", language="en")
    admin_nav = _nav(client.get("/").get_data(as_text=True))
    assert "Audit log" in admin_nav and "/hr" in admin_nav

    login_as("learner", language="en")
    learner_nav = _nav(client.get("/").get_data(as_text=True))
    assert "Courses" in learner_nav
    assert "Audit log" not in learner_nav and "/hr" not in learner_nav and "/studio" not in learner_nav

    login_as("learner", language="ru")
    russian_nav = _nav(client.get("/").get_data(as_text=True))
    assert "Курсы" in russian_nav and "Courses" not in russian_nav

    client.delete_cookie("session")
    anonymous = client.get("/login").get_data(as_text=True)
    assert "<li>" not in _nav(anonymous)


def test_csrf_token_is_per_session_and_still_accepted_when_reused(client, login_as, app):
    login_as("learner", language="en")
    first = csrf_from(client.get("/").get_data(as_text=True))
    time.sleep(1.1)  # a new signature would carry another timestamp
    second = csrf_from(client.get("/courses").get_data(as_text=True))
    assert first == second  # signed once for this session, then reused
    # The reused signature is accepted by a form post.
    response = client.post("/language", data={"language": "ru", "next": "/", "csrf_token": second})
    assert response.status_code in (302, 303)

    login_as("learner", language="en")  # another session
    other = csrf_from(client.get("/").get_data(as_text=True))
    assert other != first
    # The first session's token is refused in the second session.
    refused = client.post("/language", data={"language": "ru", "next": "/", "csrf_token": first})
    assert refused.status_code == 400


def test_session_cookies_are_flasks_own_and_keys_still_rotate(client, login_as, app):
    from flask.sessions import SecureCookieSessionInterface

    login_as("learner", language="en")
    assert client.get("/").status_code == 200
    cookie = client.get_cookie("session").value
    flask_default = SecureCookieSessionInterface().get_signing_serializer(app)
    ours = app.session_interface.get_signing_serializer(app)
    assert ours is app.session_interface.get_signing_serializer(app)  # built once
    # Flask's own serializer reads our cookie, and ours reads Flask's.
    assert "auth_token" in flask_default.loads(cookie)
    assert ours.loads(flask_default.dumps({"language": "kk"})) == {"language": "kk"}
    # A new secret key (the old one kept as a fallback) signs anew and still reads old cookies;
    # a cookie signed with an unknown key is refused.
    old_key = app.secret_key
    app.config.update(SECRET_KEY="a-new-secret-key-of-reasonable-length", SECRET_KEY_FALLBACKS=[old_key])
    rotated = app.session_interface.get_signing_serializer(app)
    assert rotated is not ours and rotated.loads(cookie)["auth_token"]
    assert client.get("/").status_code == 200
    app.config.update(SECRET_KEY_FALLBACKS=[])
    assert client.get("/", follow_redirects=False).status_code == 302  # the old cookie is refused now


def test_module_heading_and_pager_follow_revision_and_language(app, client, login_as, sample_course):
    # The module's heading and pager are kept per worker, keyed by revision, module and
    # languages: a new revision, another language or a fallback must never show a kept copy.
    def heading(page: str) -> str:
        return re.search(r'<article class="module".*?<div class="module-body">', page, re.S).group(0)

    login_as("learner", language="en")
    first = client.get("/courses/sample/01-welcome").get_data(as_text=True)
    assert "<h1>Welcome</h1>" in heading(first) and "Know the course" in heading(first)
    assert "Next module" in first

    login_as("learner", language="ru")
    russian = client.get("/courses/sample/01-welcome").get_data(as_text=True)
    assert "<h1>Добро пожаловать</h1>" in heading(russian) and "Welcome" not in heading(russian)
    assert "Следующий модуль" in russian and "Next module" not in russian
    fallback = client.get("/courses/sample/02-check").get_data(as_text=True)  # English only
    assert 'class="notice"' in heading(fallback)

    login_as("learner", language="en")
    assert 'class="notice"' not in heading(client.get("/courses/sample/02-check").get_data(as_text=True))
    files = dict(SAMPLE_COURSE)
    files["01-welcome.en.md"] = SAMPLE_COURSE["01-welcome.en.md"].replace('title: "Welcome"', 'title: "Welcome again"')
    write_course(Path(app.config["COURSES_DIR"]), files=files)
    with app.app_context():
        assert sync_library(Path(app.config["COURSES_DIR"]))[0].status == "updated"
    pinned = client.get("/courses/sample/01-welcome").get_data(as_text=True)  # still on revision 1
    assert "<h1>Welcome</h1>" in heading(pinned)
    login_as("learner", language="en")
    newest = client.get("/courses/sample/01-welcome").get_data(as_text=True)
    assert "<h1>Welcome again</h1>" in heading(newest)


def test_lesson_page_shell_keeps_each_learners_parts_their_own(app, client, login_as, sample_course):
    # The lesson page is kept per revision, module, languages, role and read state, with holes
    # for the name, the CSRF token, the path, the reading position, the quiz box and flashes.
    def page() -> str:
        return client.get("/courses/sample/01-welcome?from=test").get_data(as_text=True)

    login_as("learner", language="en", name="Aigerim <b>Seitova</b>")
    first = page()
    token_a = csrf_from(first)
    client.post("/courses/sample/01-welcome/activity", data={"csrf_token": token_a, "seconds": "5", "position": "1"})
    client.post("/courses/sample/01-welcome/read", data={"csrf_token": token_a, "position": "2"})
    mine = page()
    assert "Aigerim &lt;b&gt;Seitova&lt;/b&gt;" in mine and "<b>Seitova" not in mine
    assert "You have read this module." in mine and 'data-position="2"' in mine
    assert 'name="next" value="/courses/sample/01-welcome?from=test"' in mine
    assert "\x00" not in mine

    login_as("learner", language="en", name="Oleg Petrov")
    theirs = page()
    assert "Oleg Petrov" in theirs and "Aigerim" not in theirs
    assert csrf_from(theirs) != token_a and token_a not in theirs
    assert "I have read this module" in theirs and "You have read this module." not in theirs
    assert 'data-position="0"' in theirs
    quiz = client.get("/courses/sample/02-check").get_data(as_text=True)
    assert "Start the quiz" in quiz and "2 attempts left" in quiz
    started = client.post("/courses/sample/02-check/quiz/start", data={"csrf_token": csrf_from(quiz)})
    assert started.status_code == 302
    quiz = client.get("/courses/sample/02-check").get_data(as_text=True)  # the box follows the state
    assert "Continue the quiz" in quiz and "Start the quiz" not in quiz and "1 attempt left" in quiz
    assert started.headers["Location"].rsplit("/", 1)[-1] in quiz  # this learner's attempt
