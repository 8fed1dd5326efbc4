"""CLI: `flask reminders send [--days N] [--dry-run]`."""

from __future__ import annotations

import logging
import sys

import click
from flask.cli import with_appcontext

from learning.hr import services

reminders_cli = click.Group("reminders", help="E-mail reminders about assigned courses.")


def _ensure_log_output() -> None:
    """Without SMTP the reminders go to this log: make sure it is seen (stderr) at INFO."""
    logger = services.log
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s"))
        logger.addHandler(handler)


@reminders_cli.command("send")
@click.option(
    "--days",
    type=click.IntRange(0, 365),
    default=7,
    show_default=True,
    help="Remind about assignments due within this many days (overdue ones always).",
)
@click.option("--dry-run", is_flag=True, help="Only log what would be sent; record nothing.")
@with_appcontext
def send_command(days: int, dry_run: bool):
    """Remind people whose assigned course is due soon or overdue (once per assignment a day)."""
    _ensure_log_output()
    try:
        report = services.send_reminders(days, dry_run=dry_run)
    except ValueError as error:  # a malformed SMTP_URL
        raise click.ClickException(str(error)) from error
    click.echo(
        f"Reminders: {report.sent} e-mailed, {report.logged} written to the log, "
        f"{report.skipped} skipped (already reminded today or dry run), "
        f"{len(report.failed)} failed."
    )
    for problem in report.failed[:20]:
        click.echo(f"  failed: {problem}", err=True)
    if report.failed:
        sys.exit(1)
