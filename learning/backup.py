"""CLI: `flask backup create PATH` and `flask backup restore PATH`.

SQLite uses the online backup API (consistent while the app runs). PostgreSQL uses
pg_dump/pg_restore in custom format; they must be on PATH and match the server's version.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.engine import make_url

from learning.extensions import db

backup_cli = click.Group("backup", help="Back up and restore the database.")


def _postgres_args(url) -> tuple[list[str], dict]:
    args = ["--host", url.host or "127.0.0.1", "--port", str(url.port or 5432),
            "--username", url.username or "postgres", "--dbname", url.database]
    env = {}
    if url.password:
        env["PGPASSWORD"] = url.password
    return args, env


def _copy_sqlite(source_path: str, target_path: str) -> None:
    """Copy one SQLite database onto another with the online backup API (consistent while in use)."""
    source = sqlite3.connect(source_path)
    target = sqlite3.connect(target_path)
    try:
        with target:
            source.backup(target)
    finally:
        target.close()
        source.close()


def _run(command: list[str], env: dict) -> None:
    import os

    tool = command[0]
    if shutil.which(tool) is None:
        raise click.ClickException(f"{tool} is not installed; install the PostgreSQL client tools.")
    result = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True)
    if result.returncode != 0:
        raise click.ClickException(f"{tool} failed: {result.stderr.strip()[:2000]}")


@backup_cli.command("create")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def create_command(path):
    """Write a consistent copy of the database to PATH."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    target = Path(path)
    if url.get_backend_name() == "sqlite":
        _copy_sqlite(url.database, str(target))
    else:
        args, env = _postgres_args(url)
        _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(target), *args], env)
    click.echo(f"Backup written to {target} ({target.stat().st_size} bytes).")


@backup_cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def restore_command(path, yes):
    """Replace the database with the backup at PATH, then verify the record chain."""
    if not yes:
        click.confirm("This replaces every row of the current database. Continue?", abort=True)
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    db.session.remove()
    db.engine.dispose()
    if url.get_backend_name() == "sqlite":
        try:
            with sqlite3.connect(path) as check:
                sound = check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            check.close()
        except sqlite3.DatabaseError:
            sound = False
        if not sound:
            raise click.ClickException(f"{path} is not a sound SQLite database.")
        _copy_sqlite(path, url.database)
    else:
        args, env = _postgres_args(url)
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", *args,
              str(path)], env)
    from learning.progress.records import verify_chain

    report = verify_chain(current_app.config["RECORDS_KEY"])
    click.echo(f"Restored from {path}; {report.records} completion record(s), chain head "
               f"{report.head_sequence} {report.head_hmac}.")
    if report.problems:
        for problem in report.problems:
            click.echo(problem)
        raise SystemExit(1)
