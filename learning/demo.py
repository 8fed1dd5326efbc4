"""CLI: `flask demo seed` — a demo organisation with one user per role (and optional scale data)."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from learning.accounts import services as accounts
from learning.accounts.models import User
from learning.extensions import db

demo_cli = click.Group("demo", help="Demo data.")

DEMO_ORG = "Demo Region/Demo Akimat/Department of Internal Policy"
DEMO_USERS = [
    ("learner@demo.kelisim.kz", "learner", "Aigerim Learner"),
    ("trainer@demo.kelisim.kz", "trainer", "Timur Trainer"),
    ("hr@demo.kelisim.kz", "hr", "Olga HR"),
    ("admin@demo.kelisim.kz", "admin", "Arman Admin"),
]


@demo_cli.command("seed")
@click.option("--learners", type=click.IntRange(0, 1_000_000), default=0,
              help="Also create this many learners (with progress) for scale tests.")
@with_appcontext
def seed_command(learners: int):
    """Create the demo users (printing their passwords once); idempotent."""
    created = []
    for email, role, name in DEMO_USERS:
        if db.session.scalar(sa.select(User.id).where(User.email == email)) is not None:
            continue
        user, password = accounts.create_user(email, role=role, org_path=DEMO_ORG, name=name)
        created.append((user, password))
    db.session.commit()
    if created:
        click.echo("Demo users (the passwords are shown only now):")
        for user, password in created:
            click.echo(f"  {user.role:8} {user.email:28} {password}")
    else:
        click.echo("Demo users already exist (their passwords were printed when they were created).")
    if learners:
        from learning.hr.scale import seed_scale

        seed_scale(learners)
