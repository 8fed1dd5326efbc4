"""CLI: `flask records verify`."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from learning.progress.records import verify_chain

records_cli = click.Group("records", help="Completion records.")


@records_cli.command("verify")
@with_appcontext
def verify_command():
    """Re-check the whole chain of completion records; exit 1 if anything was tampered with."""
    report = verify_chain(current_app.config["RECORDS_KEY"])
    for problem in report.problems:
        click.echo(problem)
    click.echo(f"{report.records} record(s) checked; chain head: sequence {report.head_sequence} "
               f"hmac {report.head_hmac}")
    if report.problems:
        click.echo(f"{len(report.problems)} problem(s) found.", err=True)
        raise SystemExit(1)
    click.echo("The chain is intact.")
