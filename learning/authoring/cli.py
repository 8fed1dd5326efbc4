"""CLI: `flask quizzes import-gift FILE --course C --module M` and `flask quizzes export-gift …`.

Both work on the course library folder (COURSES_DIR): import writes a module file's quiz
block, export reads it; `courses sync` (or the studio) publishes.
"""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from learning.authoring.files import quiz_blocks, replace_quiz_blocks
from learning.content import parser
from learning.quizzes.gift import parse_aiken, parse_gift, question_to_dict, write_gift

quizzes_cli = click.Group("quizzes", help="Move quiz questions between Moodle GIFT files and modules.")


def _course_folder(course: str) -> Path:
    if not parser.COURSE_SLUG.fullmatch(course):
        raise click.ClickException(f"{course!r} is not a course slug")
    folder = Path(current_app.config["COURSES_DIR"]) / course
    if not (folder / "course.yaml").is_file():
        raise click.ClickException(f"{folder}: no course.yaml (is --course right?)")
    return folder


def _course_languages(folder: Path) -> list[str]:
    import yaml  # only for this command, not at every start-up

    try:
        data = yaml.safe_load((folder / "course.yaml").read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    languages = data.get("languages") if isinstance(data, dict) else None
    if not isinstance(languages, list):
        return []
    return [lang for lang in languages if lang in parser.SUPPORTED_LANGUAGES]


def _module_file(folder: Path, module: str, language: str | None) -> Path:
    """COURSES_DIR/C/NN-M.L.md; M is `NN-name` or `name`; L defaults to the course's first."""
    if language is not None and language not in parser.SUPPORTED_LANGUAGES:
        raise click.ClickException(f"--language must be one of {', '.join(parser.SUPPORTED_LANGUAGES)}")
    languages = [language] if language else (_course_languages(folder) or [current_app.config["DEFAULT_LANGUAGE"]])
    language = languages[0]
    candidates = []
    for path in sorted(folder.glob(f"*.{language}.md")):
        match = parser.MODULE_FILE.fullmatch(path.name)
        if match and module in (match["slug"], match["name"]):
            candidates.append(path)
    if not candidates:
        raise click.ClickException(
            f"{folder.name}: no module file for {module!r} in {language!r} (expected NN-{module}.{language}.md)"
        )
    if len(candidates) > 1:
        names = ", ".join(p.name for p in candidates)
        raise click.ClickException(f"{module!r} is ambiguous ({names}); give the full slug such as 01-{module}")
    return candidates[0]


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise click.ClickException(f"{path}: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        click.echo(f"{path}:{line}: not UTF-8 text (export it from Moodle as UTF-8)", err=True)
        raise SystemExit(1) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


@quizzes_cli.command("import-gift")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--course", required=True, help="Course slug (its folder under COURSES_DIR).")
@click.option("--module", required=True, help="Module slug: 01-greetings, or greetings.")
@click.option("--language", default=None, help="Module language (default: the course's first).")
@with_appcontext
def import_gift_command(file: Path, course: str, module: str, language: str | None):
    """Write the questions of a Moodle GIFT FILE as the module's ```quiz block.

    The block replaces the module's existing quiz block(s) or is appended. A FILE with
    problems is refused (each printed as FILE:line: message) and nothing is written.
    """
    gift = _read_text(file)
    questions, problems = parse_gift(gift)
    if problems:
        for problem in problems:
            click.echo(f"{file}:{problem.line}: {problem.message}", err=True)
        click.echo(f"{len(problems)} problem(s): nothing was written", err=True)
        raise SystemExit(1)
    if not questions:
        click.echo(f"{file}:1: no questions in the file: nothing was written", err=True)
        raise SystemExit(1)
    folder = _course_folder(course)
    target = _module_file(folder, module, language)
    new_text, replaced = replace_quiz_blocks(_read_text(target), gift)
    _check_module(target, new_text, questions)
    tmp = target.with_name(f".{target.name}.tmp{os.getpid()}")
    tmp.write_text(new_text, encoding="utf-8")
    os.replace(tmp, target)
    action = f"replaced {replaced} quiz block(s)" if replaced else "appended a quiz block"
    click.echo(f"{target}: {action} with {len(questions)} question(s)")


def _read_blocks(name: str, text: str):
    """The questions of every quiz block of a module text, and the problems (FILE:line)."""
    questions, problems = [], []
    for kind, first_line, content in quiz_blocks(text):
        parse = parse_aiken if kind == "aiken" else parse_gift
        found, trouble = parse(content, first_line=first_line)
        questions.extend(found)
        problems.extend(f"{name}:{p.line}: {p.message}" for p in trouble)
    return questions, problems


def _check_module(target: Path, new_text: str, expected: list) -> None:
    """The new module text must read back as exactly the imported questions."""
    found, problems = _read_blocks(str(target), new_text)
    if problems or [question_to_dict(q) for q in found] != [question_to_dict(q) for q in expected]:
        for problem in problems:
            click.echo(problem, err=True)
        click.echo(f"{target}: the module would not read back as the same questions: nothing was written",
                   err=True)
        raise SystemExit(1)


@quizzes_cli.command("export-gift")
@click.option("--course", required=True, help="Course slug (its folder under COURSES_DIR).")
@click.option("--module", required=True, help="Module slug: 01-greetings, or greetings.")
@click.option("--language", default=None, help="Module language (default: the course's first).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of standard output.")
@with_appcontext
def export_gift_command(course: str, module: str, language: str | None, output: Path | None):
    """Write the module's quiz questions as Moodle GIFT (refused when a quiz block has problems)."""
    folder = _course_folder(course)
    target = _module_file(folder, module, language)
    questions, problems = _read_blocks(str(target), _read_text(target))
    if problems:
        for problem in problems:
            click.echo(problem, err=True)
        click.echo(f"{len(problems)} problem(s) in the quiz: nothing was exported", err=True)
        raise SystemExit(1)
    if not questions:
        raise click.ClickException(f"{target}: the module has no quiz questions")
    try:
        gift = write_gift(questions)
    except ValueError as exc:
        raise click.ClickException(f"{target}: {exc}") from None
    if output is None:
        click.echo(gift, nl=False)
    else:
        output.write_text(gift, encoding="utf-8")
        click.echo(f"{output}: {len(questions)} question(s)", err=True)
