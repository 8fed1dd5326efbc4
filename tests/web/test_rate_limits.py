"""Login rate limits: per account and address, per address, and shared across workers via Redis."""

from __future__ import annotations

import http.client
import os
import re
import subprocess
import sys
import time
import urllib.parse
import uuid

import pytest

from tests.conftest import PASSWORD, REPO_DIR, csrf_from
from tests.reliability.test_load import free_port


def _attempt(client, email, password="wrong password here", address="10.0.0.1"):
    client.delete_cookie("session")
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address}, headers={"Accept-Language": "en"})


def test_account_is_limited_per_address_and_others_are_not(client, make_user):
    _, email = make_user("learner")
    statuses = [_attempt(client, email).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    assert "Too many attempts" in _attempt(client, email).get_data(as_text=True)
    # the real user, from their own address, can still log in
    assert _attempt(client, email, PASSWORD, address="10.0.0.99").status_code == 302
    # another account from the attacker's address is not blocked yet
    _, other = make_user("learner")
    assert _attempt(client, other).status_code == 200


def test_certificate_checks_are_limited_per_address(client, app):
    # The limit is a decorator on its view: it holds without Flask-Limiter's before-request
    # hook, which the app drops because it sets no default or application-wide limits.
    assert not any("_check_request_limit" in getattr(hook, "__qualname__", "")
                   for hook in app.before_request_funcs.get(None, []))
    statuses = [client.get("/verify/NO-SUCH-CODE", environ_base={"REMOTE_ADDR": "10.0.0.7"}).status_code
                for _ in range(31)]
    assert statuses == [404] * 30 + [429]
    assert client.get("/verify/NO-SUCH-CODE", environ_base={"REMOTE_ADDR": "10.0.0.8"}).status_code == 404


def test_limited_responses_carry_rate_limit_headers_and_others_none(client, app):
    # The after-request hook that writes them runs only when a limit was checked (the app
    # wraps it); the headers of a limited view are Flask-Limiter's as before.
    checked = client.get("/verify/NO-SUCH-CODE", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert checked.status_code == 404
    assert checked.headers["X-RateLimit-Limit"] == "30"
    assert checked.headers["X-RateLimit-Remaining"] == "29"
    assert "X-RateLimit-Reset" in checked.headers
    unlimited = client.get("/login")
    assert unlimited.status_code == 200 and "X-RateLimit-Limit" not in unlimited.headers


def test_unknown_and_known_accounts_are_limited_alike(client, make_user):
    _, email = make_user("learner")
    known = [_attempt(client, email, address="10.0.0.2").status_code for _ in range(6)]
    unknown = [_attempt(client, "ghost@example.kz", address="10.0.0.3").status_code for _ in range(6)]
    assert known == unknown


def test_address_limit_covers_many_accounts(client):
    statuses = [_attempt(client, f"user{i}@example.kz", address="10.0.0.4").status_code for i in range(21)]
    assert statuses[:20] == [200] * 20 and statuses[20] == 429


def _redis_available() -> bool:
    try:
        import redis

        return bool(redis.Redis(host="127.0.0.1", port=6379, socket_timeout=1).ping())
    except Exception:  # noqa: BLE001
        return False


@pytest.mark.skipif(not _redis_available(), reason="Redis is not running on 127.0.0.1:6379")
def test_limit_holds_across_two_workers_with_redis(tmp_path):
    """With in-memory counters each worker would allow its own 5; Redis shares them."""
    instance = tmp_path / "instance"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'rl.db'}",
           "KELISIM_INSTANCE": str(instance), "COURSES_DIR": str(tmp_path),
           "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379", "RATELIMIT_KEY_PREFIX": f"t{uuid.uuid4().hex}",
           "SECRET_KEY": "s" * 40}
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], env=env,
                   cwd=REPO_DIR, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "2", "--bind",
                               f"127.0.0.1:{port}", "wsgi:app"], env=env, cwd=REPO_DIR,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        statuses: list[int] = []
        deadline = time.time() + 20
        while len(statuses) < 8 and time.time() < deadline:
            # a new connection for every attempt, so both workers take turns
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                conn.request("GET", "/login")
                page = conn.getresponse()
                html = page.read().decode()
                cookie = page.getheader("Set-Cookie", "").split(";")[0]
            except OSError:
                conn.close()
                time.sleep(0.2)
                continue
            conn.close()
            body = urllib.parse.urlencode({"email": "victim@example.kz", "password": "wrong password 1",
                                           "csrf_token": re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                                                                   html).group(1)})
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("POST", "/login", body=body, headers={
                "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
            response = conn.getresponse()
            response.read()
            statuses.append(response.status)
            conn.close()
        assert statuses[:5] == [200] * 5
        assert statuses[5:] == [429] * 3
    finally:
        server.terminate()
        server.wait(timeout=20)
