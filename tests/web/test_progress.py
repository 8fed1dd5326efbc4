"""Reading progress: pings, bounds, resume, sequential courses, renderer never on the warm path."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from learning.content.services import sync_library
from learning.extensions import db
from learning.progress import xapi
from learning.progress.models import ModuleProgress, Statement
from tests.conftest import SAMPLE_COURSE, csrf_from, write_course
from tests.web.test_records import complete_sample


def _progress(app, slug="01-welcome"):
    with app.app_context():
        return db.session.scalar(sa.select(ModuleProgress).where(ModuleProgress.module_slug == slug))


def test_visit_creates_one_progress_row(app, client, login_as, sample_course):
    login_as("learner", language="en")
    for _ in range(3):
        client.get("/courses/sample/01-welcome")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ModuleProgress.id))) == 1
    row = _progress(app)
    assert row.status == "in_progress" and row.read_at is None


def test_activity_ping_adds_bounded_time_and_position(app, client, login_as, sample_course):
    login_as("learner", language="en")
    html = client.get("/courses/sample/01-welcome").get_data(as_text=True)
    token = csrf_from(html)
    response = client.post("/courses/sample/01-welcome/activity",
                           data={"csrf_token": token, "seconds": "30", "position": "1"})
    assert response.status_code == 200
    # a ping claiming a whole hour right after the last one counts only the elapsed time
    client.post("/courses/sample/01-welcome/activity",
                data={"csrf_token": token, "seconds": "3600", "position": "2"})
    row = _progress(app)
    assert row.position == 2
    assert 0 < row.seconds_spent <= 30 + 10


@pytest.mark.parametrize("data", [
    {"seconds": "-5", "position": "1"},
    {"seconds": "999999", "position": "1"},
    {"seconds": "ten", "position": "1"},
    {"seconds": "5", "position": "-1"},
    {"seconds": "5"},
])
def test_bad_activity_pings_are_refused(app, client, login_as, sample_course, data):
    login_as("learner", language="en")
    token = csrf_from(client.get("/courses/sample/01-welcome").get_data(as_text=True))
    response = client.post("/courses/sample/01-welcome/activity", data={"csrf_token": token, **data})
    assert response.status_code == 400
    assert response.is_json
    row = _progress(app)
    assert row.seconds_spent == 0 and row.position == 0


def test_ping_for_a_forged_or_foreign_module_is_refused(app, client, login_as, sample_course):
    root = Path(app.config["COURSES_DIR"])
    write_course(root, "other", SAMPLE_COURSE | {"course.yaml": SAMPLE_COURSE["course.yaml"]})
    with app.app_context():
        sync_library(root)
    login_as("learner", language="en")
    token = csrf_from(client.get("/courses/sample/01-welcome").get_data(as_text=True))
    forged = client.post("/courses/sample/99-forged/activity",
                         data={"csrf_token": token, "seconds": "5", "position": "1"})
    assert forged.status_code == 400
    # enrolled in "sample" only: a ping for "other" is refused
    foreign = client.post("/courses/other/01-welcome/activity",
                          data={"csrf_token": token, "seconds": "5", "position": "1"})
    assert foreign.status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ModuleProgress.id))) == 1


def test_module_counts_as_read_only_at_its_end(app, client, login_as, sample_course):
    login_as("learner", language="en")
    token = csrf_from(client.get("/courses/sample/01-welcome").get_data(as_text=True))
    early = client.post("/courses/sample/01-welcome/read", data={"csrf_token": token, "position": "1"})
    assert early.status_code == 400
    assert _progress(app).read_at is None
    done = client.post("/courses/sample/01-welcome/read", data={"csrf_token": token, "position": "2"})
    assert done.status_code == 302
    assert _progress(app).status == "completed"


def test_continue_resumes_at_the_first_unfinished_module_and_position(app, client, login_as, sample_course):
    login_as("learner", language="en")
    token = csrf_from(client.get("/courses/sample/01-welcome").get_data(as_text=True))
    client.post("/courses/sample/01-welcome/activity", data={"csrf_token": token, "seconds": "5", "position": "2"})
    html = client.get("/courses/sample").get_data(as_text=True)
    assert 'href="/courses/sample/01-welcome#h-second-section"' in html
    client.post("/courses/sample/01-welcome/read", data={"csrf_token": token, "position": "2"})
    html = client.get("/courses/sample").get_data(as_text=True)
    assert 'href="/courses/sample/02-check"' in html


def test_sequential_course_locks_later_modules(app, client, login_as):
    root = Path(app.config["COURSES_DIR"])
    yaml = SAMPLE_COURSE["course.yaml"] + "\n        sequential: true\n"
    write_course(root, "seq", SAMPLE_COURSE | {"course.yaml": yaml})
    with app.app_context():
        assert sync_library(root)[0].status == "created"
    login_as("learner", language="en")
    locked = client.get("/courses/seq/02-check")
    assert locked.status_code == 403
    assert "opens when you have read the previous module" in locked.get_data(as_text=True)
    token = csrf_from(client.get("/courses/seq/01-welcome").get_data(as_text=True))
    client.post("/courses/seq/01-welcome/read", data={"csrf_token": token, "position": "2"})
    assert client.get("/courses/seq/02-check").status_code == 200


def test_module_page_never_runs_markdown(app, client, login_as, sample_course, monkeypatch):
    login_as("learner", language="en")

    def forbidden(*args, **kwargs):
        raise AssertionError("Markdown rendered on the request path")

    monkeypatch.setattr("learning.content.render.render_markdown", forbidden)
    monkeypatch.setattr("learning.content.services.render_markdown", forbidden)
    for _ in range(2):
        response = client.get("/courses/sample/01-welcome")
        assert response.status_code == 200 and "First section" in response.get_data(as_text=True)


def test_fallback_language_is_announced(app, client, login_as, sample_course):
    login_as("learner", language="ru")
    html = client.get("/courses/sample/02-check").get_data(as_text=True)  # 02 exists only in English
    assert 'lang="en"' in html and "Read this, then answer." in html
    assert '<span lang="en">English</span>' in html  # the language's name, marked as such


def test_every_written_statement_is_valid_xapi(app, client, login_as, sample_course):
    login_as("learner", language="en")
    complete_sample(app, client)
    with app.app_context():
        statements = list(db.session.scalars(sa.select(Statement)))
    assert len(statements) >= 5
    for statement in statements:
        assert xapi.validate_statement(statement.data) == [], statement.data


def test_transcript_pdf_download(app, client, login_as, sample_course):
    login_as("learner", language="kk", name="Нұрлан Әбілқасымұлы")
    complete_sample(app, client)
    response = client.get("/me/transcript.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    assert "Нұрлан Әбілқасымұлы" in text and "Оқу транскрипті" in text
