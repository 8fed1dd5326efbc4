"""CLI: `flask api-tokens create EMAIL`, `list`, `revoke ID`."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from learning.api import services
from learning.api.models import ApiToken
from learning.audit.services import record_event
from learning.extensions import db

api_tokens_cli = click.Group("api-tokens", help="Bearer tokens of the HR API (/api/v1).")


@api_tokens_cli.command("create")
@click.argument("email")
@click.option("--name", default="", help="What the token is for, e.g. the HR system's name.")
@click.option(
    "--unit",
    "unit_path",
    default=None,
    help='Narrow the token to this unit and below ("Region/Akimat/Department").',
)
@with_appcontext
def create_command(email: str, name: str, unit_path: str | None):
    """Create a token for an hr or admin user. The token is printed once, as the last word."""
    try:
        row, token = services.create_token(email, name=name, unit_path=unit_path)
    except services.TokenError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    record_event(
        "api_token.create",
        f"api_token:{row.id}",
        actor=row.owner,
        name=row.name,
        unit_id=row.org_unit_id,
    )
    db.session.commit()
    click.echo(f"API token {row.id} for {row.owner.email}; it is shown only now, keep it secret:")
    click.echo(token)


@api_tokens_cli.command("list")
@with_appcontext
def list_command():
    """List tokens (never the tokens themselves)."""
    rows = db.session.scalars(sa.select(ApiToken).order_by(ApiToken.id))
    for row in rows:
        state = f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active"
        used = f"{row.last_used_at:%Y-%m-%d %H:%M}" if row.last_used_at else "never"
        click.echo(
            f"{row.id:>5}  {row.prefix}…  {row.owner.email:30}  {state:18}  last used {used}  {row.name}"
        )


@api_tokens_cli.command("revoke")
@click.argument("token_id", type=click.IntRange(1, 2**31 - 1))
@with_appcontext
def revoke_command(token_id: int):
    """Revoke a token at once."""
    row = services.revoke_token(token_id)
    if row is None:
        raise click.ClickException(f"No API token {token_id}.")
    record_event("api_token.revoke", f"api_token:{row.id}")
    db.session.commit()
    click.echo(f"API token {row.id} revoked.")
