"""Benchmark set-up that needs the app in-process; run by bench/run.py as a subprocess with the
environment of one benchmark instance (DATABASE_URL, KELISIM_INSTANCE, COURSES_DIR, keys):

    python -m bench.prepare learners SPEC.json OUT.json   users, logins, enrolments, quiz attempts
    python -m bench.prepare hr OUT.json                   an HR user at the top unit, logged in
    python -m bench.prepare probe                         which optional routes exist (JSON)

Logins go through the real `POST /login` (Flask test client, so the per-IP login rate limit
does not stop the set-up); the session cookies it returns are then used against gunicorn.
The client sends the same User-Agent as the wrk scripts, from 127.0.0.1 like them, so
Flask-Login's session protection sees the same identifier and the cookie is not rewritten.
"""

from __future__ import annotations

import json
import random
import re
import sys
import time
from pathlib import Path

import sqlalchemy as sa

USER_AGENT = "kelisim-bench/1"
PASSWORD = "bench correct horse battery staple"
ORG = "Bench Region/Bench Akimat/Bench Department"


def _app():
    from learning import create_app

    # The limiter is per process and keyed by IP: every login of the set-up comes from one
    # address, so it is off in this process only (the gunicorn workers keep it on).
    return create_app({"RATELIMIT_ENABLED": False})


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    if not match:
        raise RuntimeError("no CSRF token in the page")
    return match.group(1)


def _client(app):
    client = app.test_client()
    client.environ_base.update(
        {"HTTP_USER_AGENT": USER_AGENT, "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "https"}
    )
    return client


def login(app, email: str, password: str = PASSWORD):
    """Log in through the login form; returns the test client holding the session."""
    client = _client(app)
    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "email": email,
            "password": password,
            "csrf_token": _csrf(page.get_data(as_text=True)),
        },
    )
    if response.status_code != 302:
        raise RuntimeError(f"login of {email} failed: {response.status_code}")
    return client


def cookie_of(client) -> str:
    cookie = client.get_cookie("session")
    if cookie is None:
        raise RuntimeError("no session cookie")
    return f"session={cookie.value}"


def _create_users(
    emails: list[str], role: str = "learner", org: str = ORG, language: str | None = "en"
) -> None:
    from learning.accounts import services as accounts
    from learning.extensions import db

    # One argon2 hash for all bench users (each ~0.1 s); logins still verify it for real.
    shared = accounts.hash_password(PASSWORD)
    original = accounts.hash_password
    accounts.hash_password = lambda _password: shared
    try:
        for email in emails:
            accounts.create_user(
                email,
                role=role,
                org_path=org,
                name=email.split("@")[0],
                password=PASSWORD,
                language=language,
            )
        db.session.commit()
    finally:
        accounts.hash_password = original


def choose_answers(
    questions: list[dict], rng: random.Random, p_right: float = 0.8
) -> dict[str, object]:
    """Form fields for an attempt's questions, as a learner would fill the quiz page:
    the right answer with probability `p_right`, else a wrong one (about half pass at 80%)."""
    fields: dict[str, object] = {}
    for i, q in enumerate(questions):
        name, right = f"q{i}", rng.random() < p_right
        answers = q["answers"]
        if q["type"] in ("multiple_choice", "missing_word"):
            best = max(range(len(answers)), key=lambda k: answers[k]["fraction"])
            others = [k for k in range(len(answers)) if k != best] or [best]
            fields[name] = str(best if right else rng.choice(others))
        elif q["type"] == "multiple_response":
            good = [str(k) for k, a in enumerate(answers) if a["fraction"] > 0]
            fields[name] = good if right else [str(rng.randrange(len(answers)))]
        elif q["type"] == "true_false":
            truth = next(a["text"] for a in answers if a["fraction"] > 0)
            fields[name] = truth if right else ("false" if truth == "true" else "true")
        elif q["type"] in ("short_answer", "numerical"):
            fields[name] = answers[0]["text"] if right else "no idea"
        elif q["type"] == "essay":
            fields[name] = "An answer for the trainer."
        elif q["type"] == "matching":
            for k, a in enumerate(answers):
                if a.get("text"):
                    fields[f"{name}_{k}"] = a["match"] if right else rng.choice(q["match_options"])
    return fields


def _form_names(html: str) -> set[str]:
    return set(re.findall(r'name="(q\d+(?:_\d+)?)"', html))


def prepare_learners(spec: dict) -> dict:
    """Users for the wrk scenarios (warmed: enrolled, csrf in the session) and quiz takers with
    pre-started attempts (one open attempt per user and course, the rule of the quiz engine)."""
    from learning.accounts.models import User
    from learning.content import queries
    from learning.extensions import db
    from learning.progress import services as progress
    from learning.quizzes import services as quizzes

    app = _app()
    course, reading, quiz_module = spec["course"], spec["reading_module"], spec["quiz_module"]
    out: dict = {"learners": [], "quiz": [], "timings": {}}
    started = time.perf_counter()
    with app.app_context():
        learners = [f"bench-learner-{i:03d}@bench.kelisim.kz" for i in range(spec["learners"])]
        takers = [f"bench-taker-{i:03d}@bench.kelisim.kz" for i in range(spec["quiz_users"])]
        _create_users(learners + takers)
    out["timings"]["create_users_s"] = round(time.perf_counter() - started, 2)

    started = time.perf_counter()
    for email in learners:
        client = login(app, email)
        for path in (
            f"/courses/{course}/{reading}",
            f"/courses/{course}",
            "/",
            *spec.get("warm", []),
        ):
            response = client.get(path)
            if response.status_code != 200:
                raise RuntimeError(f"GET {path} as {email}: {response.status_code}")
        out["learners"].append(cookie_of(client))
    out["timings"]["learner_logins_s"] = round(time.perf_counter() - started, 2)

    # Attempts are started in-process with the service the start view calls (an HTTP start is
    # a separate request type, not part of what the quiz-submission scenario measures).
    started = time.perf_counter()
    rng = random.Random(30)
    attempts_by_user: dict[str, list] = {}
    with app.app_context():
        courses = [queries.course_by_slug(slug) for slug in spec["quiz_courses"]]
        for email in takers:
            user = db.session.scalar(sa.select(User).where(User.email == email))
            for quiz_course in courses:
                enrollment, _new = progress.enroll(user, quiz_course)
                view = queries.revision_view(enrollment.revision_id)  # as the start view does
                attempt = quizzes.start_attempt(user, enrollment, view, quiz_module, "en")
                attempts_by_user.setdefault(email, []).append(
                    (quiz_course.slug, attempt.token, choose_answers(attempt.questions, rng))
                )
            db.session.commit()
    out["timings"]["start_attempts_s"] = round(time.perf_counter() - started, 2)

    started = time.perf_counter()
    for email in takers:
        client = login(app, email)
        slug, token, fields = attempts_by_user[email][0]
        page = client.get(f"/courses/{slug}/{quiz_module}/quiz/{token}")
        if page.status_code != 200:
            raise RuntimeError(f"quiz page: {page.status_code}")
        html = page.get_data(as_text=True)
        expected = {k for k in fields}
        if not expected <= _form_names(html):  # the form we send is the one the page offers
            raise RuntimeError(f"quiz form fields differ: {sorted(expected - _form_names(html))}")
        csrf, cookie = _csrf(html), cookie_of(client)
        for slug, token, fields in attempts_by_user[email]:
            out["quiz"].append(
                {
                    "path": f"/courses/{slug}/{quiz_module}/quiz/{token}",
                    "cookie": cookie,
                    "fields": {**fields, "csrf_token": csrf, "attempt": token, "submit": "1"},
                }
            )
    out["timings"]["taker_logins_s"] = round(time.perf_counter() - started, 2)
    random.Random(1).shuffle(out["quiz"])
    return out


def prepare_hr() -> dict:
    """An HR user at the top unit holding the most people (the scale seed's root), logged in."""
    from learning.accounts.models import OrgUnit, User
    from learning.extensions import db

    app = _app()
    with app.app_context():
        roots = db.session.scalars(sa.select(OrgUnit).where(OrgUnit.parent_id.is_(None))).all()
        best, best_count = None, -1
        for root in roots:
            count = db.session.scalar(
                sa.select(sa.func.count(User.id))
                .join(OrgUnit, User.org_unit_id == OrgUnit.id)
                .where(OrgUnit.path.startswith(root.path))
            )
            if count > best_count:
                best, best_count = root, count
        org = best.full_name.replace(" / ", "/") if best else ORG
        email = "bench-hr@bench.kelisim.kz"
        if db.session.scalar(sa.select(User.id).where(User.email == email)) is None:
            _create_users([email], role="hr", org=org)
    client = login(app, email)
    response = client.get("/hr")
    return {
        "cookie": cookie_of(client),
        "unit": org,
        "people": best_count,
        "hr_status": response.status_code,
    }


def probe() -> dict:
    app = _app()
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    try:
        import learning.hr.scale  # noqa: F401

        has_scale = True
    except ImportError:
        has_scale = False
    return {
        "hr": "/hr" in rules,
        "hr_report": "/hr/report" in rules,
        "hr_csv": "/hr/report.csv" in rules,
        "scale_seed": has_scale,
    }


def main(argv: list[str]) -> int:
    command = argv[0]
    if command == "learners":
        spec = json.loads(Path(argv[1]).read_text())
        result = prepare_learners(spec)
        with open(argv[2], "w") as fh:
            json.dump(result, fh)
    elif command == "hr":
        with open(argv[1], "w") as fh:
            json.dump(prepare_hr(), fh)
    elif command == "probe":
        print(json.dumps(probe()))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
