"""Two application hosts behind one load balancer, on one PostgreSQL database.

Two gunicorn instances (separate processes, ports and instance folders, nothing shared but the
database and the SECRET_KEY / RECORDS_KEY environment) serve one learner whose browser sends the
same cookie to both, as it would behind a load balancer: a login on A is valid on B (signed
cookie sessions, no server-side state in a worker), progress written on A shows on B, a quiz
started on A is submitted on B and its result shown on A, and a replayed or concurrent
submission of one attempt to both hosts is graded exactly once.

Runs only when TEST_DATABASE_URL is a PostgreSQL URL; it uses its own database
`kelisim_multihost` on that server (created and dropped here; the suite's `public` schema is
left alone).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import PASSWORD, REPO_DIR, TEST_DATABASE_URL, write_course

pytestmark = pytest.mark.skipif(
    not TEST_DATABASE_URL.startswith("postgresql"),
    reason="needs TEST_DATABASE_URL pointing at PostgreSQL (several hosts share one database)",
)

DATABASE = "kelisim_multihost"
EMAIL = "multihost@example.kz"
USER_AGENT = "kelisim-multihost-test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def database_url():
    import psycopg

    base = sa.engine.make_url(TEST_DATABASE_URL)
    admin = base.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DATABASE}")
    yield base.set(database=DATABASE).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")


class Browser:
    """One browser: a single cookie jar sent to whichever host the balancer picks."""

    def __init__(self):
        self.cookie = ""
        self.lock = threading.Lock()

    def request(self, port: int, method: str, path: str, data: dict | None = None):
        body = urllib.parse.urlencode(data, doseq=True) if data is not None else None
        headers = {"Cookie": self.cookie, "Accept-Language": "en", "User-Agent": USER_AGENT}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
        finally:
            conn.close()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie" and value.startswith("session="):
                with self.lock:
                    self.cookie = value.split(";", 1)[0]
        return response, text


def csrf(text: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text)
    assert match, "no CSRF token in the page"
    return match.group(1)


def location_path(response) -> str:
    return urllib.parse.urlsplit(response.getheader("Location")).path


class Host:
    """A gunicorn instance of the app: its own port, processes and instance folder."""

    def __init__(self, name: str, env: dict, tmp_path: Path):
        self.name, self.port = name, free_port()
        self.log_path = tmp_path / f"gunicorn-{name}.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        instance = tmp_path / f"instance-{name}"
        instance.mkdir()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
                "wsgi:app",
            ],
            env={
                **env,
                "KELISIM_INSTANCE": str(instance),
                "MEDIA_DIR": str(instance / "media"),
                "SIGNING_KEY_PATH": str(instance / "signing_key.pem"),
            },
            cwd=REPO_DIR,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log_path.read_text()[-3000:]
            probe = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            try:
                probe.request("GET", "/healthz")
                if probe.getresponse().status == 200:
                    return
            except OSError:
                pass
            finally:
                probe.close()
            time.sleep(0.1)
        raise AssertionError(f"host {self.name} not ready: {self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def flask(env: dict, *args: str, stdin: str | None = None) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        env=env,
        cwd=REPO_DIR,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@contextlib.contextmanager
def two_hosts(env: dict, tmp_path: Path):
    hosts = [Host("a", env, tmp_path), Host("b", env, tmp_path)]
    try:
        for host in hosts:
            host.wait_ready()
        yield hosts
    finally:
        for host in hosts:
            host.stop()


def test_two_hosts_share_sessions_progress_and_attempts(database_url, tmp_path):
    write_course(tmp_path / "courses")
    env = {
        **os.environ,
        "KELISIM_ENV": "production",
        "DATABASE_URL": database_url,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "RECORDS_KEY": secrets.token_urlsafe(48),
        "COURSES_DIR": str(tmp_path / "courses"),
        "KELISIM_INSTANCE": str(tmp_path / "instance-cli"),
        "BASE_URL": "http://kelisim.test",
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    env.pop("FLASK_DEBUG", None)
    flask(env, "db", "upgrade")
    flask(env, "courses", "sync")
    flask(
        env,
        "users",
        "create",
        EMAIL,
        "--role",
        "learner",
        "--org",
        "Region M/Akimat M/Dept M",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    engine = sa.create_engine(database_url)
    try:
        with two_hosts(env, tmp_path) as (a, b):
            run_scenario(a.port, b.port, engine)
    finally:
        engine.dispose()


def run_scenario(a: int, b: int, engine) -> None:
    browser = Browser()

    # Log in on A; the same cookie is a live session on B.
    _, page = browser.request(a, "GET", "/login")
    response, _ = browser.request(
        a, "POST", "/login", {"email": EMAIL, "password": PASSWORD, "csrf_token": csrf(page)}
    )
    assert response.status == 302, "login on host A failed"
    response, page = browser.request(b, "GET", "/")
    assert response.status == 200, f"the session from host A is not valid on B ({response.status})"

    # Read a module on A; B shows the progress.
    response, _ = browser.request(a, "GET", "/courses/sample/01-welcome")
    assert response.status == 200
    response, page = browser.request(b, "GET", "/courses/sample")
    assert response.status == 200
    assert "badge-in_progress" in page, "host B does not show the progress written on A"

    # Start a quiz on A, submit it on B, see the result on A.
    response, page = browser.request(a, "GET", "/courses/sample/02-check")
    assert response.status == 200
    response, _ = browser.request(
        a, "POST", "/courses/sample/02-check/quiz/start", {"csrf_token": csrf(page)}
    )
    assert response.status == 302
    quiz_path = location_path(response)
    response, page = browser.request(a, "GET", quiz_path)
    assert response.status == 200
    form = right_answers(page)
    response, _ = browser.request(b, "POST", quiz_path, form)
    assert response.status == 303, f"submission on host B answered {response.status}"
    result_path = location_path(response)
    response, page = browser.request(a, "GET", result_path)
    assert response.status == 200 and "Passed." in page, "host A does not show B's graded attempt"
    first = graded(engine)
    assert first == {"submitted": 1, "attempts_counted": 1, "statements": 1}

    # Replaying the same submission to the other host grades nothing.
    response, _ = browser.request(a, "POST", quiz_path, form)
    assert response.status in (303, 400, 409), response.status
    assert graded(engine) == first

    # A second attempt, submitted to both hosts at the same moment, is graded once.
    response, page = browser.request(b, "GET", "/courses/sample/02-check")
    response, _ = browser.request(
        b, "POST", "/courses/sample/02-check/quiz/start", {"csrf_token": csrf(page)}
    )
    assert response.status == 302
    second_path = location_path(response)
    assert second_path != quiz_path
    response, page = browser.request(b, "GET", second_path)
    form = right_answers(page)
    gate, statuses = threading.Barrier(2), []

    def submit(port: int) -> None:
        gate.wait()
        statuses.append(browser.request(port, "POST", second_path, form)[0].status)

    threads = [threading.Thread(target=submit, args=(port,)) for port in (a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(statuses) and all(s in (303, 400, 409) for s in statuses), statuses
    assert 303 in statuses, statuses
    assert graded(engine) == {"submitted": 2, "attempts_counted": 2, "statements": 2}


def right_answers(page: str) -> dict:
    """The form of the sample quiz (no shuffle): the right choice is the first, the statement true."""
    token = re.search(r'name="attempt" value="([^"]+)"', page).group(1)
    names = set(re.findall(r'name="(q\d+)"', page))
    assert names == {"q0", "q1"}, names
    return {"csrf_token": csrf(page), "attempt": token, "q0": "0", "q1": "true"}


def graded(engine) -> dict:
    with engine.connect() as conn:
        user_id = conn.execute(
            sa.text("SELECT id FROM users WHERE email = :e"), {"e": EMAIL}
        ).scalar_one()
        submitted = conn.execute(
            sa.text(
                "SELECT count(*) FROM quiz_attempts WHERE user_id = :u AND submitted_at IS NOT NULL"
            ),
            {"u": user_id},
        ).scalar_one()
        counted = conn.execute(
            sa.text("SELECT coalesce(sum(attempts), 0) FROM module_progress WHERE user_id = :u"),
            {"u": user_id},
        ).scalar_one()
        statements = conn.execute(
            sa.text(
                "SELECT count(*) FROM statements WHERE user_id = :u AND verb IN ('passed', 'failed')"
            ),
            {"u": user_id},
        ).scalar_one()
    return {"submitted": submitted, "attempts_counted": int(counted), "statements": statements}
