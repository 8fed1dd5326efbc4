"""Login, logout, sessions, passwords, CSRF and redirects."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD, csrf_from


def _login(client, email, password, next_url=""):
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token,
                                       "next": next_url})


def test_wrong_password_and_unknown_email_give_the_same_message(client, make_user):
    _, email = make_user("learner")
    wrong_password = _login(client, email, "not the password at all")
    unknown_email = _login(client, "nobody@example.kz", "not the password at all")
    assert wrong_password.status_code == unknown_email.status_code == 200
    message = "Wrong e-mail or password."
    assert message in wrong_password.get_data(as_text=True)
    assert message in unknown_email.get_data(as_text=True)
    assert "unknown" not in unknown_email.get_data(as_text=True).lower()


def test_login_is_case_insensitive_on_email(client, make_user):
    _, email = make_user("learner")
    assert _login(client, email.upper(), PASSWORD).status_code == 302


def test_missing_or_bad_csrf_token_gives_friendly_400(client, make_user):
    _, email = make_user("learner")
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 400
    assert "reload the page" in response.get_data(as_text=True)
    assert "<html" in response.get_data(as_text=True)
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 400


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example",
                                    "javascript:alert(1)", "http:/evil", " //evil.example"])
def test_next_never_leaves_the_site(client, make_user, target):
    _, email = make_user("learner")
    response = _login(client, email, PASSWORD, next_url=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_next_within_the_site_is_followed(client, make_user):
    _, email = make_user("learner")
    response = _login(client, email, PASSWORD, next_url="/courses")
    assert response.headers["Location"] == "/courses"


def test_anonymous_is_sent_to_login_with_next(client):
    response = client.get("/courses")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_session_cookie_copied_before_logout_is_refused_after(app, client, make_user):
    _, email = make_user("learner")
    _login(client, email, PASSWORD)
    assert client.get("/").status_code == 200
    stolen = client.get_cookie("session").value
    token = csrf_from(client.get("/").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    response = thief.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_session_is_rotated_at_login(client, make_user):
    _, email = make_user("learner")
    client.get("/login")
    before = client.get_cookie("session").value
    _login(client, email, PASSWORD)
    assert client.get_cookie("session").value != before


def test_password_change_ends_other_sessions_and_keeps_this_one(app, make_user):
    _, email = make_user("learner")
    first, second = app.test_client(), app.test_client()
    _login(first, email, PASSWORD)
    _login(second, email, PASSWORD)
    token = csrf_from(first.get("/me/password").get_data(as_text=True))
    new_password = "a quiet river at dawn 42"
    response = first.post("/me/password", data={
        "csrf_token": token, "current_password": PASSWORD,
        "new_password": new_password, "confirm_password": new_password,
    })
    assert response.status_code == 302
    assert first.get("/").status_code == 200
    assert second.get("/").status_code == 302
    fresh = app.test_client()
    assert _login(fresh, email, PASSWORD).status_code == 200  # old password no longer works
    assert _login(fresh, email, new_password).status_code == 302


@pytest.mark.parametrize(("new", "message"), [
    ("short", "at least 12"),
    ("qwertyuiop123", "too common"),
    ("aaaaaaaaaaaaaaaa", "too common"),
])
def test_password_policy(client, login_as, new, message):
    login_as("learner")
    token = csrf_from(client.get("/me/password").get_data(as_text=True))
    response = client.post("/me/password", data={
        "csrf_token": token, "current_password": PASSWORD, "new_password": new, "confirm_password": new,
    })
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


def test_wrong_current_password_is_a_form_error(client, login_as):
    login_as("learner")
    token = csrf_from(client.get("/me/password").get_data(as_text=True))
    new = "a quiet river at dawn 42"
    response = client.post("/me/password", data={
        "csrf_token": token, "current_password": "wrong wrong wrong", "new_password": new,
        "confirm_password": new,
    })
    assert response.status_code == 200
    assert "current password is not correct" in response.get_data(as_text=True)


def test_logout_everywhere_ends_other_sessions(app, make_user):
    _, email = make_user("learner")
    first, second = app.test_client(), app.test_client()
    _login(first, email, PASSWORD)
    _login(second, email, PASSWORD)
    token = csrf_from(first.get("/me/password").get_data(as_text=True))
    assert first.post("/me/logout-everywhere", data={"csrf_token": token}).status_code == 302
    assert first.get("/").status_code == 200
    assert second.get("/").status_code == 302


def test_language_choice_is_kept_in_the_profile(app, client, login_as):
    user_id, email = login_as("learner")
    token = csrf_from(client.get("/").get_data(as_text=True))
    client.post("/language", data={"csrf_token": token, "language": "kk"})
    assert '<html lang="kk">' in client.get("/").get_data(as_text=True)
    from learning.accounts.models import User
    from learning.extensions import db

    with app.app_context():
        assert db.session.get(User, user_id).language == "kk"


def test_session_cookie_flags(client, make_user):
    _, email = make_user("learner")
    response = _login(client, email, PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


@pytest.mark.parametrize("key", ["seen_at", "auth_at"])
def test_idle_and_absolute_timeouts(client, make_user, key):
    _, email = make_user("learner")
    _login(client, email, PASSWORD)
    assert client.get("/").status_code == 200
    with client.session_transaction() as session:
        session[key] = session[key] - 13 * 3600
    assert client.get("/").status_code == 302
