"""Fixtures: a fresh app and database per test (SQLite file, or PostgreSQL when
TEST_DATABASE_URL is set), client, runner, login_as, and factories."""

from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa

from config import TestConfig
from learning import create_app
from learning.extensions import db

REPO_DIR = Path(__file__).resolve().parent.parent
SHARED_DIR = REPO_DIR.parent / "shared"
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
PASSWORD = "correct horse battery staple"
TRANSLATIONS_DIR = REPO_DIR / "learning" / "translations"


def compile_catalogues(root: Path = TRANSLATIONS_DIR) -> None:
    """Compile each messages.po whose .mo is missing or older (the .mo files are build products,
    not committed; `make translations` does the same). Fuzzy entries are left out, as pybabel does."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in sorted(root.glob("*/LC_MESSAGES/messages.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as handle:
            catalog = read_po(handle, locale=po.parent.parent.name)
        partial = mo.with_name(f".{mo.name}.{os.getpid()}")
        with partial.open("wb") as handle:
            write_mo(handle, catalog)
        os.replace(partial, mo)  # atomic: a concurrent test run never reads half a catalogue


compile_catalogues()


def pytest_report_header(config):
    return f"database: {TEST_DATABASE_URL or 'SQLite (a fresh file per test)'}"


@pytest.fixture(scope="session")
def postgres_schema():
    """Create the schema once per session on PostgreSQL; tests truncate between them."""
    if not TEST_DATABASE_URL:
        yield None
        return
    import learning.models  # noqa: F401

    engine = sa.create_engine(TEST_DATABASE_URL)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    db.metadata.create_all(engine)
    yield engine
    engine.dispose()


def make_config(tmp_path: Path, **overrides) -> TestConfig:
    config = TestConfig()
    config.SQLALCHEMY_DATABASE_URI = TEST_DATABASE_URL or f"sqlite:///{tmp_path / 'test.db'}"
    config.COURSES_DIR = str(tmp_path / "courses")
    config.MEDIA_DIR = str(tmp_path / "media")
    config.SIGNING_KEY_PATH = str(tmp_path / "signing_key.pem")
    config.BASE_URL = "http://localhost"
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


def truncate_all(engine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture
def app(tmp_path, postgres_schema):
    (tmp_path / "courses").mkdir()
    application = create_app(make_config(tmp_path))
    with application.app_context():
        if not TEST_DATABASE_URL:
            db.create_all()
        else:
            truncate_all(db.engine)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    """Create a user: make_user(role="learner", org="Region/Akimat/Dept", email=None, name=None)."""
    from learning.accounts.services import create_user

    counter = {"n": 0}

    def factory(role="learner", org="Region A/Akimat A/Dept A", email=None, name=None, language=None):
        counter["n"] += 1
        with app.app_context():
            user, _ = create_user(
                email or f"{role}{counter['n']}@example.kz", role=role, org_path=org,
                name=name or f"{role.title()} {counter['n']}", password=PASSWORD, language=language,
            )
            db.session.commit()
            return user.id, user.email

    return factory


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "no CSRF token in the page"
    return match.group(1)


@pytest.fixture
def login_as(client, make_user):
    """Log the test client in as a new user of `role`; returns (user_id, email)."""

    def do_login(role="learner", **kwargs):
        user_id, email = make_user(role, **kwargs)
        client.delete_cookie("session")  # a fresh visitor, even if someone was logged in
        page = client.get("/login")
        response = client.post(
            "/login",
            data={"email": email, "password": PASSWORD, "csrf_token": csrf_from(page.get_data(as_text=True))},
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        return user_id, email

    return do_login


SAMPLE_COURSE = {
    "course.yaml": """
        title: {en: "Sample course", ru: "Пробный курс"}
        description: {en: "A course for tests.", ru: "Курс для тестов."}
        languages: [en, ru]
        duration_minutes: 20
        completion: {modules: all, quizzes: all}
        quiz: {passing_score: 50, max_attempts: 2, shuffle: false, show_answers: after_submit}
        validity_months: 12
        """,
    "01-welcome.en.md": """
        ---
        title: "Welcome"
        duration_minutes: 5
        objectives: ["Know the course"]
        ---

        Intro paragraph.

        ## First section

        Some text.

        ## Second section

        More text.
        """,
    "01-welcome.ru.md": """
        ---
        title: "Добро пожаловать"
        duration_minutes: 5
        ---

        Вступление.

        ## Раздел

        Текст.
        """,
    "02-check.en.md": """
        ---
        title: "Check"
        duration_minutes: 5
        ---

        Read this, then answer.

        ```quiz
        ::Language:: A citizen speaks Kazakh. What do you do? {
          =Answer in Kazakh #Right.
          ~Switch to English #No.
        }

        ::Sky:: The sky is blue. {T}
        ```
        """,
}


@pytest.fixture
def statements(monkeypatch):
    """The SQL of every prepared statement (learning.prepared) run, in order."""
    import learning.prepared as prepared

    ran: list[str] = []
    run = prepared._Plan.run

    def recording(plan, connection, params):
        ran.append(plan.sql)
        return run(plan, connection, params)

    monkeypatch.setattr(prepared._Plan, "run", recording)
    return ran


def write_course(root: Path, slug: str = "sample", files: dict[str, str] | None = None) -> Path:
    folder = root / slug
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (files or SAMPLE_COURSE).items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return folder


@pytest.fixture
def sample_course(app):
    """The sample course written under COURSES_DIR and synced; returns its slug."""
    from learning.content.services import sync_library

    root = Path(app.config["COURSES_DIR"])
    write_course(root)
    with app.app_context():
        outcomes = sync_library(root)
        assert [o.status for o in outcomes] == ["created"], [(o.status, o.problems) for o in outcomes]
    return "sample"
