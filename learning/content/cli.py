"""CLI: `flask courses validate|sync|dump`."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from learning.content import parser, services

courses_cli = click.Group("courses", help="Validate, sync and inspect the course library.")


def _root(path: str | None) -> Path:
    return Path(path or current_app.config["COURSES_DIR"])


@courses_cli.command("validate")
@click.argument("path", required=False)
@with_appcontext
def validate_command(path):
    """Check PATH (the library, default COURSES_DIR, or one course folder); exit 1 on errors."""
    root = _root(path)
    if not root.is_dir():
        raise click.ClickException(f"{root}: not a folder")
    results = parser.load_library(root)
    if not results:
        raise click.ClickException(f"{root}: no course folders (no course.yaml found)")
    errors = warnings = modules = 0
    for _folder, course, problems in results:
        modules += len(course.modules) if course else 0
        for problem in problems:
            click.echo(str(problem) if problem.severity == "error" else f"{problem} (warning)")
            if problem.severity == "error":
                errors += 1
            else:
                warnings += 1
    summary = f"{len(results)} course(s), {modules} module(s): {errors} error(s), {warnings} warning(s)"
    if errors:
        click.echo(summary, err=True)
        raise SystemExit(1)
    click.echo(summary)


@courses_cli.command("sync")
@click.argument("path", required=False)
@click.option("--force", is_flag=True, help="Replace courses that were changed in the studio.")
@with_appcontext
def sync_command(path, force):
    """Store a new revision of every course under PATH whose files changed."""
    root = _root(path)
    if not root.is_dir():
        raise click.ClickException(f"{root}: not a folder")
    failed = False
    for outcome in services.sync_library(root, force=force):
        if outcome.status in {"invalid", "diverged"}:
            failed = True
            click.echo(f"{outcome.slug}: {outcome.status}", err=True)
            for problem in outcome.problems:
                click.echo(f"  {problem}", err=True)
        else:
            click.echo(f"{outcome.slug}: {outcome.status} (revision {outcome.revision})")
    if failed:
        raise SystemExit(1)


@courses_cli.command("dump")
@click.argument("path")
@with_appcontext
def dump_command(path):
    """Print one course folder, parsed, as JSON (errors included)."""
    folder = Path(path)
    course, problems = parser.load_course(folder)
    data = parser.course_to_dict(course) if course else {"slug": folder.name}
    data["errors"] = [
        {"file": p.file, "line": p.line, "message": p.message, "severity": p.severity}
        for p in problems
    ]
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))
