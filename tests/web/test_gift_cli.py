"""`flask quizzes import-gift` and `export-gift`: Moodle GIFT files in and out of module files."""

from __future__ import annotations

from pathlib import Path

import pytest

from learning.authoring.files import quiz_blocks
from learning.quizzes.gift import parse_gift, question_to_dict
from tests.conftest import write_course

MOODLE = Path(__file__).resolve().parents[3] / "shared/testdata/gift-moodle"
FIXTURE = MOODLE / "gift_tests_fixtures_questions.gift.txt"


@pytest.fixture
def course_dir(app) -> Path:
    return write_course(Path(app.config["COURSES_DIR"]))


def as_dicts(questions):
    return [question_to_dict(q) for q in questions]


@pytest.mark.parametrize("fixture", [
    "gift_tests_fixtures_questions.gift.txt",
    "gift_tests_fixtures_questions_in_category.gift.txt",
    "gift_examples.txt",
])
def test_moodle_fixture_round_trips_through_a_module(runner, course_dir, tmp_path, fixture):
    source = MOODLE / fixture
    if not source.is_file():
        pytest.skip(f"{source} is not available")
    original, problems = parse_gift(source.read_text(encoding="utf-8"))
    assert original and not problems

    result = runner.invoke(args=["quizzes", "import-gift", str(source), "--course", "sample",
                                 "--module", "02-check", "--language", "en"])
    assert result.exit_code == 0, result.output
    module = (course_dir / "02-check.en.md").read_text(encoding="utf-8")
    assert len(quiz_blocks(module)) == 1  # the module's quiz block was replaced, not added to
    assert "Read this, then answer." in module  # the rest of the module is kept

    out = tmp_path / "exported.gift.txt"
    result = runner.invoke(args=["quizzes", "export-gift", "--course", "sample", "--module", "02-check",
                                 "--language", "en", "--output", str(out)])
    assert result.exit_code == 0, result.output
    exported, problems = parse_gift(out.read_text(encoding="utf-8"))
    assert not problems
    assert len(exported) == len(original)
    for before, after in zip(as_dicts(original), as_dicts(exported), strict=True):
        assert after == before

    # the course stays valid with the imported questions
    result = runner.invoke(args=["courses", "validate", str(course_dir)])
    assert result.exit_code == 0, result.output


def test_import_appends_a_quiz_block_by_module_name_and_default_language(runner, course_dir, tmp_path):
    gift = tmp_path / "bank.gift"
    gift.write_text("// from Moodle\n::Q1:: 2 + 2 = {#4}\n\n::Q2:: Kazakh is a state language. {T}\n",
                    encoding="utf-8")
    result = runner.invoke(args=["quizzes", "import-gift", str(gift), "--course", "sample", "--module", "welcome"])
    assert result.exit_code == 0, result.output
    assert "appended a quiz block with 2 question(s)" in result.output
    module = (course_dir / "01-welcome.en.md").read_text(encoding="utf-8")  # en: the course's first language
    assert module.startswith("---\ntitle: \"Welcome\"")
    assert module.rstrip().endswith("```")
    blocks = quiz_blocks(module)
    assert len(blocks) == 1 and "// from Moodle" in blocks[0][2]
    result = runner.invoke(args=["courses", "validate", str(course_dir)])
    assert result.exit_code == 0, result.output

    result = runner.invoke(args=["quizzes", "export-gift", "--course", "sample", "--module", "01-welcome"])
    assert result.exit_code == 0
    assert as_dicts(parse_gift(result.stdout)[0]) == as_dicts(parse_gift(gift.read_text())[0])


def test_import_keeps_backticks_inside_the_questions(runner, course_dir, tmp_path):
    gift = tmp_path / "code.gift"
    gift.write_text("::Code::[markdown]Which fence?\n```\nprint()\n```\n{=three ~four}\n", encoding="utf-8")
    original = parse_gift(gift.read_text())[0]
    assert runner.invoke(args=["quizzes", "import-gift", str(gift), "--course", "sample",
                               "--module", "02-check"]).exit_code == 0
    module = (course_dir / "02-check.en.md").read_text(encoding="utf-8")
    assert "````quiz" in module
    result = runner.invoke(args=["quizzes", "export-gift", "--course", "sample", "--module", "02-check"])
    assert as_dicts(parse_gift(result.stdout)[0]) == as_dicts(original)


def test_import_refuses_a_gift_file_with_problems_and_writes_nothing(runner, course_dir, tmp_path):
    before = (course_dir / "02-check.en.md").read_bytes()
    gift = tmp_path / "broken.gift"
    gift.write_text("::Fine:: Yes? {T}\n\n::Broken:: What? {=A ~B\n\n::Num:: How many? {#abc}\n", encoding="utf-8")
    result = runner.invoke(args=["quizzes", "import-gift", str(gift), "--course", "sample", "--module", "02-check"])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.startswith(str(gift))]
    assert [line.split(":")[1] for line in lines] == ["3", "5"]
    assert (course_dir / "02-check.en.md").read_bytes() == before


@pytest.mark.parametrize(("args", "message"), [
    (["--course", "nope", "--module", "02-check"], "no course.yaml"),
    (["--course", "sample", "--module", "99-none"], "no module file"),
    (["--course", "sample", "--module", "02-check", "--language", "kk"], "no module file"),
    (["--course", "sample", "--module", "02-check", "--language", "xx"], "--language must be one of"),
    (["--course", "../etc", "--module", "02-check"], "not a course slug"),
])
def test_cli_refuses_unknown_targets(runner, course_dir, tmp_path, args, message):
    gift = tmp_path / "ok.gift"
    gift.write_text("::Q:: Yes? {T}\n", encoding="utf-8")
    for command in (["quizzes", "import-gift", str(gift)], ["quizzes", "export-gift"]):
        result = runner.invoke(args=[*command, *args])
        assert result.exit_code == 1 and message in result.output, result.output


def test_import_refuses_non_utf8_and_empty_files(runner, course_dir, tmp_path):
    latin = tmp_path / "latin.gift"
    latin.write_bytes("::Q:: Café? {T}\n".encode("latin-1"))
    result = runner.invoke(args=["quizzes", "import-gift", str(latin), "--course", "sample", "--module", "02-check"])
    assert result.exit_code == 1 and f"{latin}:1: not UTF-8 text" in result.output
    empty = tmp_path / "empty.gift"
    empty.write_text("// nothing here\n", encoding="utf-8")
    result = runner.invoke(args=["quizzes", "import-gift", str(empty), "--course", "sample", "--module", "02-check"])
    assert result.exit_code == 1 and "no questions" in result.output


def test_export_of_a_module_without_a_quiz_is_refused(runner, course_dir):
    result = runner.invoke(args=["quizzes", "export-gift", "--course", "sample", "--module", "01-welcome"])
    assert result.exit_code == 1 and "has no quiz questions" in result.output
