"""CLI: `flask users create`, `flask orgs create`."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from learning.accounts import services
from learning.accounts.models import ROLES
from learning.extensions import db

users_cli = click.Group("users", help="Manage user accounts.")
orgs_cli = click.Group("orgs", help="Manage organisation units.")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), default="learner", show_default=True)
@click.option("--org", "org_path", required=True, help='Unit path, e.g. "Region/Akimat/Department".')
@click.option("--name", default=None, help="Full name (default: the e-mail's local part).")
@click.option("--language", type=click.Choice(["kk", "ru", "en"]), default=None)
@click.option("--password-stdin", is_flag=True, help="Read the password from one line of stdin.")
@with_appcontext
def create_user_command(email, role, org_path, name, language, password_stdin):
    """Create a user; prints a generated password unless --password-stdin is given."""
    password = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        user, generated = services.create_user(
            email, role=role, org_path=org_path, name=name, password=password, language=language
        )
    except services.AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Created {user.role} {user.email} in {user.org_unit.full_name}.")
    if generated:
        click.echo(f"Password: {generated}")


@orgs_cli.command("create")
@click.argument("path")
@with_appcontext
def create_org_command(path):
    """Create the unit at PATH ("Region/Akimat/Department"), with any missing parents."""
    try:
        unit = services.ensure_org_path(path)
    except services.AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Unit {unit.full_name} (id {unit.id}).")
