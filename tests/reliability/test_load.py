"""32 simulated learners against gunicorn with several workers, on SQLite and PostgreSQL.

Afterwards every successful answer has its row, nothing is duplicated, no request got a 500,
and killing a worker mid-request leaves the data consistent.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter

import pytest
import sqlalchemy as sa

from tests.conftest import PASSWORD, REPO_DIR, SAMPLE_COURSE, TEST_DATABASE_URL, write_course

LEARNERS = 32
DURATION = 12.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def database_url(tmp_path):
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path / 'load.db'}"
        return
    import psycopg

    base = sa.engine.make_url(TEST_DATABASE_URL)
    admin = f"host={base.host} port={base.port or 5432} user={base.username} dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS kelisim_load WITH (FORCE)")
        conn.execute("CREATE DATABASE kelisim_load")
    yield str(base.set(database="kelisim_load"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute("DROP DATABASE IF EXISTS kelisim_load WITH (FORCE)")


class Browser:
    """A tiny cookie-keeping HTTP client (one connection per learner)."""

    def __init__(self, port: int):
        self.port = port
        self.cookie = ""
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method: str, path: str, data: dict | None = None):
        body = urllib.parse.urlencode(data or {}, doseq=True) if data is not None else None
        headers = {"Cookie": self.cookie, "Accept-Language": "en"}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in range(2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                text = response.read().decode("utf-8", "replace")
                break
            except (ConnectionError, http.client.HTTPException, OSError):
                # a killed worker drops its connections: reconnect (not a server error)
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt:
                    return None, ""
        for header, value in response.getheaders():
            if header.lower() == "set-cookie" and value.startswith("session="):
                self.cookie = value.split(";", 1)[0]
        return response, text


def csrf(text: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text)
    return match.group(1) if match else ""


def learner_session(port, email, app, stop, log):
    from tests.web.test_quizzes import answers_for

    browser = Browser(port)
    response, text = browser.request("GET", "/login")
    response, text = browser.request("POST", "/login", {"email": email, "password": PASSWORD,
                                                        "csrf_token": csrf(text)})
    log.append(("login", response.status if response else None))
    while not stop.is_set():
        response, text = browser.request("GET", "/courses/sample/01-welcome")
        log.append(("module", response.status if response else None))
        token = csrf(text)
        response, _ = browser.request("POST", "/courses/sample/01-welcome/activity",
                                      {"csrf_token": token, "seconds": "5", "position": "1"})
        log.append(("activity", response.status if response else None))
        response, _ = browser.request("POST", "/courses/sample/02-check/quiz/start", {"csrf_token": token})
        log.append(("start", response.status if response else None))
        if response is None or response.status != 302:
            continue
        path = urllib.parse.urlsplit(response.getheader("Location")).path
        if "/quiz/" not in path:
            continue
        response, text = browser.request("GET", path)
        if response is None or response.status != 200:
            log.append(("take", response.status if response else None))
            continue
        response, _ = browser.request("POST", path, answers_for(app, path, correct=False)
                                      | {"csrf_token": csrf(text)})
        log.append(("submit", response.status if response else None, email))
    browser.conn.close()


def run_load(app, database_url, tmp_path, kill_worker: bool):
    env = {**os.environ, "DATABASE_URL": database_url, "KELISIM_INSTANCE": str(tmp_path / "instance"),
           "COURSES_DIR": str(tmp_path / "courses"), "SECRET_KEY": "load-test-secret-" + "s" * 32,
           "RECORDS_KEY": app.config["RECORDS_KEY"], "MEDIA_DIR": str(tmp_path / "media")}
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], env=env, cwd=REPO_DIR, check=True, capture_output=True)
    synced = subprocess.run([*flask, "courses", "sync"], env=env, cwd=REPO_DIR, capture_output=True, text=True)
    assert synced.returncode == 0, synced.stdout + synced.stderr
    emails = [f"load{i}@example.kz" for i in range(LEARNERS)]
    from learning.accounts.services import create_user
    from learning.extensions import db

    with app.app_context():
        for email in emails:
            create_user(email, role="learner", org_path="R/A", password=PASSWORD)
        db.session.commit()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "4", "--threads", "1", "--bind",
         f"127.0.0.1:{port}", "--timeout", "60", "--graceful-timeout", "5", "wsgi:app"],
        env=env, cwd=REPO_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            try:
                probe.request("GET", "/healthz")
                probe.getresponse().read()
                break
            except OSError:
                time.sleep(0.1)
            finally:
                probe.close()
        stop = threading.Event()
        log: list[tuple] = []
        threads = [threading.Thread(target=learner_session, args=(port, e, app, stop, log)) for e in emails]
        for thread in threads:
            thread.start()
        if kill_worker:
            time.sleep(DURATION / 2)
            workers = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True)
            victim = int(workers.stdout.split()[0])
            os.kill(victim, signal.SIGKILL)
            time.sleep(DURATION / 2)
        else:
            time.sleep(DURATION)
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return log


@pytest.mark.parametrize("kill_worker", [False, True], ids=["steady", "worker-killed"])
def test_concurrent_learners_lose_nothing(app, database_url, tmp_path, kill_worker):
    from learning import create_app
    from learning.extensions import db
    from learning.progress.models import ModuleProgress
    from learning.progress.records import verify_chain
    from learning.quizzes.models import QuizAttempt
    from tests.conftest import make_config

    unlimited = SAMPLE_COURSE["course.yaml"].replace("max_attempts: 2", "max_attempts: null")
    write_course(tmp_path / "courses", files=SAMPLE_COURSE | {"course.yaml": unlimited})
    # answers_for() reads attempts from the same database the servers use
    reader = create_app(make_config(tmp_path, SQLALCHEMY_DATABASE_URI=database_url))
    log = run_load(reader, database_url, tmp_path, kill_worker)
    statuses = Counter(entry[1] for entry in log)
    assert statuses[500] == 0 and statuses[503] == 0, statuses
    submitted = Counter(entry[2] for entry in log if entry[0] == "submit" and entry[1] == 303)
    assert sum(submitted.values()) > 0, statuses
    with reader.app_context():
        for email, count in submitted.items():
            stored = db.session.scalar(
                sa.select(sa.func.count(QuizAttempt.id))
                .where(QuizAttempt.submitted_at.is_not(None), QuizAttempt.user_id.in_(
                    sa.text(f"(SELECT id FROM users WHERE email = '{email}')"))))
            assert stored >= count, (email, stored, count)
        # one progress row per learner and module, never duplicated
        rows = db.session.execute(sa.select(ModuleProgress.user_id, ModuleProgress.module_slug)).all()
        assert len(rows) == len(set(rows))
        # a submitted attempt is always fully graded
        half = db.session.scalar(sa.select(sa.func.count(QuizAttempt.id)).where(
            QuizAttempt.submitted_at.is_not(None), QuizAttempt.score.is_(None)))
        assert half == 0
        assert verify_chain(reader.config["RECORDS_KEY"]).problems == []
    with reader.app_context():
        db.session.remove()
        db.engine.dispose()
