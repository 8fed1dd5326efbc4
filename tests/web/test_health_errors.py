"""Health check, error pages, security headers, and a database that is down."""

from __future__ import annotations

from learning import create_app
from tests.conftest import csrf_from, make_config


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "db": "ok"}


def test_database_down_gives_503_and_recovers_without_restart(tmp_path):
    missing_dir = tmp_path / "not-yet"
    app = create_app(make_config(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{missing_dir}/db.sqlite"))
    client = app.test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["db"] == "unreachable"
    token = csrf_from(client.get("/login").get_data(as_text=True))
    page = client.post("/login", data={"csrf_token": token, "email": "a@b.kz", "password": "x" * 12})
    assert page.status_code == 503
    assert "Traceback" not in page.get_data(as_text=True)
    missing_dir.mkdir()
    assert client.get("/healthz").status_code == 200


def test_unreachable_postgres_gives_503(tmp_path):
    url = "postgresql+psycopg://postgres@127.0.0.1:1/nothing?connect_timeout=2"
    app = create_app(make_config(tmp_path, SQLALCHEMY_DATABASE_URI=url))
    client = app.test_client()
    assert client.get("/healthz").status_code == 503
    token = csrf_from(client.get("/login").get_data(as_text=True))
    assert client.post("/login", data={"csrf_token": token, "email": "a@b.kz", "password": "x"}).status_code == 503


def test_404_page_in_layout(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "Kelisim" in html and "skip-link" in html


def test_unknown_course_and_module_are_404(client, login_as, sample_course):
    login_as("learner")
    assert client.get("/courses/nope").status_code == 404
    assert client.get("/courses/sample/99-nope").status_code == 404
    assert client.get("/courses/" + "x" * 5000).status_code == 404


def test_500_shows_no_traceback(app, client):
    @app.route("/boom")
    def boom():
        raise RuntimeError("secret internals")

    response = client.get("/boom")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "secret internals" not in html and "Traceback" not in html


def test_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"]


def test_static_files_are_fingerprinted_and_cached(client):
    html = client.get("/login").get_data(as_text=True)
    import re

    url = re.search(r'href="(/static/css/main.css\?v=[0-9a-f]{12})"', html).group(1)
    response = client.get(url)
    assert response.status_code == 200
    assert "max-age=31536000" in response.headers["Cache-Control"]
    response.close()


def test_hsts_and_secure_cookies_in_production(tmp_path):
    app = create_app(make_config(tmp_path, SESSION_COOKIE_SECURE=True))
    response = app.test_client().get("/login")
    assert "max-age=31536000" in response.headers["Strict-Transport-Security"]
    assert "Secure" in response.headers["Set-Cookie"]


def test_media_paths_never_leave_the_course(client, login_as, sample_course):
    login_as("learner", language="en")
    for path in ("../../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "media/../course.yaml", "%2e%2e/config.py",
                 "x.png%00.html"):
        assert client.get(f"/courses/sample/media/{path}").status_code == 404, path


def test_nul_characters_are_refused_before_any_view(client, login_as, sample_course):
    login_as("learner", language="en")
    assert client.get("/courses/sample%00").status_code == 404
    assert client.get("/courses", query_string={"q": "a\x00b"}).status_code == 400
