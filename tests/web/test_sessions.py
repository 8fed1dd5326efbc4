"""The session cookie: verified cookies remembered per worker (learning/sessions.py)."""

from __future__ import annotations

import time

from flask.sessions import SecureCookieSessionInterface

import learning.sessions as sessions
from tests.conftest import csrf_from


def _open(app, cookie: str | None):
    headers = {"Cookie": f"session={cookie}"} if cookie else {}
    with app.test_request_context("/", headers=headers) as context:
        return app.session_interface.open_session(app, context.request)


def test_a_remembered_cookie_reads_the_same_and_each_request_gets_its_own_copy(app):
    cookie = SecureCookieSessionInterface().get_signing_serializer(app).dumps(
        {"_user_id": "7", "seen_at": 100, "language": "kk"})
    first = _open(app, cookie)
    assert dict(first) == {"_user_id": "7", "seen_at": 100, "language": "kk"}
    assert cookie in app.session_interface._verified
    first["seen_at"] = 200  # a request changing its session...
    first["extra"] = True
    second = _open(app, cookie)
    assert dict(second) == {"_user_id": "7", "seen_at": 100, "language": "kk"}  # ...changes no other
    assert not second.modified


def test_a_session_holding_a_list_is_decoded_afresh_every_time(app):
    cookie = SecureCookieSessionInterface().get_signing_serializer(app).dumps(
        {"_flashes": [["info", "Saved"]]})
    first = _open(app, cookie)
    first["_flashes"].append(["info", "changed in place"])
    assert cookie not in app.session_interface._verified
    assert _open(app, cookie)["_flashes"] == [["info", "Saved"]]


def test_a_remembered_cookie_still_expires_and_a_tampered_one_is_refused(app, monkeypatch):
    cookie = SecureCookieSessionInterface().get_signing_serializer(app).dumps({"_user_id": "7"})
    assert _open(app, cookie)["_user_id"] == "7"
    lifetime = app.permanent_session_lifetime.total_seconds()
    later = time.time() + lifetime + 5
    monkeypatch.setattr(sessions.time, "time", lambda: later)
    assert dict(_open(app, cookie)) == {}  # too old, remembered or not
    assert cookie not in app.session_interface._verified
    monkeypatch.undo()
    body, _dot, signature = cookie.rpartition(".")
    forged = f"{body}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    assert dict(_open(app, forged)) == {}
    assert forged not in app.session_interface._verified


def test_remembered_cookies_are_forgotten_when_the_keys_change(app):
    cookie = SecureCookieSessionInterface().get_signing_serializer(app).dumps({"_user_id": "7"})
    assert _open(app, cookie)["_user_id"] == "7"
    app.config.update(SECRET_KEY="another-secret-key-of-reasonable-length", SECRET_KEY_FALLBACKS=[])
    assert dict(_open(app, cookie)) == {}
    assert cookie not in app.session_interface._verified


def test_the_store_is_bounded(app, monkeypatch):
    monkeypatch.setattr(sessions, "VERIFIED_COOKIES_KEPT", 3)
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    for n in range(7):
        assert _open(app, serializer.dumps({"n": n}))["n"] == n
        assert len(app.session_interface._verified) <= 3


def test_a_page_that_reads_the_session_varies_on_the_cookie_and_sets_none(client, login_as, sample_course):
    login_as("learner", language="en")
    assert client.get("/courses/sample/01-welcome").status_code == 200
    page = client.get("/courses/sample/01-welcome")
    assert page.status_code == 200
    assert [value.strip() for value in page.headers["Vary"].split(",")].count("Cookie") == 1
    assert "Set-Cookie" not in page.headers  # unchanged: no cookie written
    # A change writes the cookie (Flask's own path), still with one Vary: Cookie.
    token = csrf_from(page.get_data(as_text=True))
    changed = client.post("/language", data={"language": "kk", "next": "/", "csrf_token": token})
    assert changed.status_code == 302
    assert "session=" in changed.headers.get("Set-Cookie", "")
    assert [value.strip() for value in changed.headers["Vary"].split(",")].count("Cookie") == 1


def test_vary_keeps_what_the_view_set_and_adds_the_cookie_once(app):
    from flask import Response, session

    with app.test_request_context("/"):
        session["language"] = "kk"
        session.modified = False  # read, not changed: the fast path
        response = Response("x", headers={"Vary": "Accept-Language"})
        app.session_interface.save_session(app, session, response)
        assert response.headers["Vary"] == "Accept-Language, Cookie"
        app.session_interface.save_session(app, session, response)
        assert response.headers["Vary"] == "Accept-Language, Cookie"


def test_the_session_identifier_is_flask_logins_remembered_per_client(app):
    from flask_login.utils import _create_identifier

    from learning.security import session_identifier

    assert app.login_manager._session_identifier_generator is session_identifier
    clients = (("Browser A", "10.0.0.1"), ("Browser B", "10.0.0.1"), ("Browser A", "10.0.0.2"))
    for agent, address in clients:
        for _ in range(2):  # computed, then remembered
            with app.test_request_context("/", headers={"User-Agent": agent},
                                          environ_base={"REMOTE_ADDR": address}):
                assert session_identifier() == _create_identifier()
    forwarded_headers = {"User-Agent": "Browser A", "X-Forwarded-For": "10.9.9.9"}
    with app.test_request_context("/", headers=forwarded_headers,
                                  environ_base={"REMOTE_ADDR": "10.0.0.1"}):
        assert session_identifier() == _create_identifier()
        forwarded = session_identifier()
    with app.test_request_context("/", headers={"User-Agent": "Browser A"},
                                  environ_base={"REMOTE_ADDR": "10.0.0.1"}):
        assert session_identifier() != forwarded


def test_every_security_header_is_sent_once(client):
    response = client.get("/login")
    for name in ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy",
                 "X-Frame-Options", "Cross-Origin-Opener-Policy", "Permissions-Policy"):
        assert len(response.headers.getlist(name)) == 1, name
