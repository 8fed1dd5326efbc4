"""`flask users create`, `flask orgs create`, `flask demo seed`."""

from __future__ import annotations

import sqlalchemy as sa

from learning.accounts.models import OrgUnit, User
from learning.accounts.services import verify_password
from learning.extensions import db


def test_users_create_with_password_from_stdin(app, runner):
    result = runner.invoke(args=["users", "create", "Aida@Example.KZ", "--role", "hr",
                                 "--org", "Almaty Region/Konaev Akimat/HR", "--name", "Аида Серікқызы",
                                 "--password-stdin"], input="a long pass phrase here\n")
    assert result.exit_code == 0, result.output
    assert "Password:" not in result.output
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "aida@example.kz"))
        assert user.role == "hr" and user.name == "Аида Серікқызы"
        assert user.language is None
        assert user.org_unit.full_name == "Almaty Region / Konaev Akimat / HR"
        assert verify_password(user, "a long pass phrase here")
        assert user.password_hash.startswith("$argon2id$")


def test_users_create_generates_and_prints_a_password(app, runner):
    result = runner.invoke(args=["users", "create", "b@example.kz", "--org", "R/A"])
    assert result.exit_code == 0, result.output
    password = result.output.strip().split()[-1]
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "b@example.kz"))
        assert user.role == "learner"
        assert verify_password(user, password)


def test_users_create_refuses_duplicates_weak_passwords_and_bad_roles(app, runner):
    assert runner.invoke(args=["users", "create", "c@example.kz", "--org", "R"]).exit_code == 0
    duplicate = runner.invoke(args=["users", "create", "C@example.kz", "--org", "R"])
    assert duplicate.exit_code != 0 and "already exists" in duplicate.output
    weak = runner.invoke(args=["users", "create", "d@example.kz", "--org", "R", "--password-stdin"],
                         input="short\n")
    assert weak.exit_code != 0 and "at least 12" in weak.output
    role = runner.invoke(args=["users", "create", "e@example.kz", "--org", "R", "--role", "boss"])
    assert role.exit_code != 0
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 1
        # the refused user created no stray unit
        assert db.session.scalar(sa.select(sa.func.count(OrgUnit.id))) == 1


def test_orgs_create_builds_the_tree_with_materialised_paths(app, runner):
    assert runner.invoke(args=["orgs", "create", "Region/Akimat/Dept"]).exit_code == 0
    assert runner.invoke(args=["orgs", "create", "Region/Akimat/Other"]).exit_code == 0
    with app.app_context():
        units = {u.name: u for u in db.session.scalars(sa.select(OrgUnit))}
        assert len(units) == 4
        assert units["Dept"].path.startswith(units["Akimat"].path)
        assert units["Other"].path.startswith(units["Region"].path)
        assert not units["Other"].path.startswith(units["Dept"].path)
    assert runner.invoke(args=["orgs", "create", "///"]).exit_code != 0


def test_demo_seed_creates_one_user_per_role_once(app, runner):
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    for role in ("learner", "trainer", "hr", "admin"):
        assert f"{role}@demo.kelisim.kz" in first.output
    second = runner.invoke(args=["demo", "seed"])
    assert second.exit_code == 0 and "already exist" in second.output
    with app.app_context():
        roles = sorted(db.session.scalars(sa.select(User.role)))
        assert roles == ["admin", "hr", "learner", "trainer"]
