"""XSS corpora through every place users and trainers write: the pages run nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from learning.accounts.models import OrgUnit, User
from learning.content.services import sync_library
from learning.extensions import db
from learning.quizzes.gift import Answer, Question, write_gift
from tests.conftest import csrf_from
from tests.web.test_quizzes import answers_for
from tests.xss import executable_parts, xss_payloads

PAYLOADS = xss_payloads()


def test_the_checker_catches_executable_html():
    assert executable_parts('<p onclick="x()">a</p>')
    assert executable_parts('<a href=" javascript:alert(1)">a</a>')
    assert executable_parts("<script>alert(1)</script>")
    assert executable_parts('<iframe src="https://evil"></iframe>')
    assert not executable_parts('<p><a href="/courses">ok</a></p><script src="/static/js/site.js"></script>')


def write_hostile_course(root: Path) -> None:
    folder = root / "hostile"
    folder.mkdir(parents=True)
    title = PAYLOADS[0]
    (folder / "course.yaml").write_text(
        f"title: {{en: {json.dumps(title)}}}\n"
        f"description: {{en: {json.dumps(PAYLOADS[1])}}}\n"
        "languages: [en]\n"
        "quiz: {passing_score: 0, max_attempts: null, shuffle: false, show_answers: after_submit}\n"
    )
    body = "\n\n".join(PAYLOADS)
    (folder / "01-body.en.md").write_text(f"---\ntitle: {json.dumps(PAYLOADS[2])}\n---\n\n{body}\n")
    questions = [
        Question(type="multiple_choice", title=f"Q{i}", text=payload,
                 answers=[Answer(text=payload, fraction=1.0, feedback=payload),
                          Answer(text="plain", fraction=0.0, feedback=payload)],
                 general_feedback=payload)
        for i, payload in enumerate(PAYLOADS)
    ]
    quiz = write_gift(questions)
    (folder / "02-quiz.en.md").write_text(f"---\ntitle: Quiz\n---\n\nAnswer.\n\n```quiz\n{quiz}\n```\n")


def test_payloads_in_course_content_quiz_and_feedback_run_nothing(app, client, login_as, monkeypatch):
    # The validator already refuses links to missing files and unsafe schemes; let those
    # through here so that the renderer and the templates face every payload.
    from learning.content import parser

    real = parser.course_from_files

    def lenient(files, slug):
        course, problems = real(files, slug)
        return course, [p for p in problems if "link" not in p.message and "image" not in p.message
                        and "scheme" not in p.message]

    monkeypatch.setattr(parser, "course_from_files", lenient)
    root = Path(app.config["COURSES_DIR"])
    write_hostile_course(root)
    with app.app_context():
        outcome = sync_library(root)[0]
    assert outcome.status == "created", [str(p) for p in outcome.problems][:10]
    login_as("learner", language="en")
    pages = {url: client.get(url) for url in ("/courses", "/courses/hostile", "/courses/hostile/01-body",
                                              "/courses/hostile/02-quiz")}
    page = pages["/courses/hostile/02-quiz"].get_data(as_text=True)
    start = client.post("/courses/hostile/02-quiz/quiz/start", data={"csrf_token": csrf_from(page)})
    quiz_url = start.headers["Location"]
    quiz_page = client.get(quiz_url)
    submitted = client.post(quiz_url, data=answers_for(app, quiz_url) | {"csrf_token": csrf_from(page)})
    pages[quiz_url] = quiz_page
    pages["result"] = client.get(submitted.headers["Location"])
    pages["/"] = client.get("/")
    for url, response in pages.items():
        assert response.status_code == 200, url
        problems = executable_parts(response.get_data(as_text=True))
        assert problems == [], (url, problems[:5])


@pytest.mark.parametrize("chunk", range(0, len(PAYLOADS), 60))
def test_payloads_as_user_and_org_names_run_nothing(app, client, login_as, chunk):
    user_id, _ = login_as("learner", language="en")
    for payload in PAYLOADS[chunk:chunk + 60]:
        with app.app_context():
            user = db.session.get(User, user_id)
            user.name = payload[:200]
            db.session.execute(sa.update(OrgUnit).where(OrgUnit.id == user.org_unit_id)
                               .values(full_name=payload[:1000], name=payload[:200]))
            db.session.commit()
        for url in ("/me/transcript", "/me/password"):
            response = client.get(url)
            assert response.status_code == 200
            assert executable_parts(response.get_data(as_text=True)) == [], (url, payload)


def test_validator_refuses_unsafe_links_in_the_first_place(app, tmp_path):
    from learning.content.parser import load_course

    write_hostile_course(tmp_path)
    _course, problems = load_course(tmp_path / "hostile")
    messages = " ".join(p.message for p in problems if p.severity == "error")
    assert "javascript" in messages.lower() or "scheme" in messages.lower()
