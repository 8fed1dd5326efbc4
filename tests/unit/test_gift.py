"""Tests for learning.quizzes.gift (GIFT and Aiken reader/writer).

Expected results for Moodle's fixture files come from Moodle's own tests:
question/format/gift/tests/giftformat_test.php and question/format/aiken/tests/aikenformat_test.php.
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
from pathlib import Path

import pytest

from learning.quizzes.gift import (
    QUESTION_TYPES,
    Answer,
    GiftProblem,
    Question,
    parse_aiken,
    parse_gift,
    question_from_dict,
    question_to_dict,
    write_gift,
)

SHARED = Path(__file__).resolve().parents[3] / "shared/testdata"
MOODLE = SHARED / "gift-moodle"
BLNS = SHARED / "attacks/blns.txt"
GIFT_FIXTURES = (
    "gift_tests_fixtures_questions.gift.txt",
    "gift_tests_fixtures_questions_in_category.gift.txt",
    "gift_examples.txt",
)


def _read(name: str) -> str:
    path = MOODLE / name
    if not path.is_file():
        pytest.skip(f"Moodle fixtures not found at {MOODLE}")
    return path.read_text(encoding="utf-8")


def _parse_file(name: str) -> list[Question]:
    questions, problems = parse_gift(_read(name))
    assert problems == []
    return questions


def _one(text: str) -> Question:
    questions, problems = parse_gift(text)
    assert problems == [], problems
    assert len(questions) == 1, questions
    return questions[0]


def _problem(text: str) -> GiftProblem:
    questions, problems = parse_gift(text)
    assert questions == [], questions
    assert len(problems) == 1, problems
    return problems[0]


def _shape(q: Question) -> list[tuple]:
    return [(a.text, a.fraction, a.feedback) for a in q.answers]


def _no_line(q: Question) -> Question:
    return dataclasses.replace(q, line=0)


def _round_trip(questions: list[Question]) -> list[Question]:
    again, problems = parse_gift(write_gift(questions))
    assert problems == []
    return again


# --------------------------------------------------------------------------- Moodle fixtures


class TestMoodleQuestionsFixture:
    """fixtures/questions.gift.txt: the cases of giftformat_test.php in one file (Moodle's
    behat test imports it as 9 questions)."""

    @pytest.fixture(scope="class")
    @classmethod
    def qs(cls) -> list[Question]:
        return _parse_file("gift_tests_fixtures_questions.gift.txt")

    def test_count_and_types(self, qs):
        assert [q.type for q in qs] == [
            "essay",
            "matching",
            "multiple_choice",
            "multiple_response",
            "numerical",
            "short_answer",
            "true_false",
            "true_false",
            "true_false",
        ]
        assert [q.line for q in qs] == [2, 5, 14, 22, 31, 34, 41, 46, 49]
        assert all(q.category is None for q in qs)

    def test_import_essay(self, qs):
        q = qs[0]
        assert (q.title, q.text, q.text_format, q.general_feedback) == (
            "Q8",
            "How are you?",
            "moodle",
            "",
        )
        assert q.answers == []

    def test_import_match(self, qs):
        q = qs[1]
        assert q.title == "Moodle activities"
        assert q.text == "Match the <b>activity</b> to the description."
        assert q.text_format == "html"
        assert [(a.text, a.match) for a in q.answers] == [
            ("An activity supporting asynchronous discussions.", "Forum"),
            ("A teacher asks a question and specifies a choice of multiple responses.", "Choice"),
            ("A bank of record entries which participants can add to.", "Database"),
            ("A collection of web pages that anyone can add to or edit.", "Wiki"),
            ("", "Chat"),  # a distractor: an answer with no question
        ]
        assert [a.fraction for a in q.answers] == [1.0, 1.0, 1.0, 1.0, 0.0]

    def test_import_multichoice(self, qs):
        q = qs[2]
        assert q.title == "Q2"
        assert q.text == "What's between orange and green in the spectrum?"
        assert _shape(q) == [
            ("yellow", 1.0, "right; good!"),
            ("red", 0.0, "wrong, it's yellow"),  # "[html]" format prefix removed
            ("blue", 0.0, "wrong, it's yellow"),  # "[plain]" format prefix removed
        ]

    def test_import_multichoice_multi(self, qs):
        q = qs[3]
        assert q.title == "colours"
        assert q.type == "multiple_response"  # Moodle: single = 0 (no '=' answer)
        assert _shape(q) == [
            ("yellow", 0.5, "right; good!"),
            ("red", -1.0, "wrong"),
            ("off-beige", 0.5, "right; good!"),
            ("blue", -1.0, "wrong"),
        ]

    def test_import_numerical(self, qs):
        q = qs[4]
        assert q.title == "Q5"
        # The fixture line ends in `}";` (text after the answers), so like Moodle the
        # answers' place is marked with a blank.
        assert q.text == 'What is a number from 1 to 5? _____";'
        first, other = q.answers
        assert (first.value, first.tolerance, first.fraction, first.feedback) == (3.0, 2.0, 1.0, "")
        assert (other.text, other.fraction, other.feedback) == ("*", 0.0, "Completely wrong")
        assert other.value is None and other.min is None

    def test_import_shortanswer(self, qs):
        q = qs[5]
        assert q.title == "Shortanswer"
        assert q.text == "Which is the best animal?"
        assert _shape(q) == [
            ("Frog", 1.0, "Good!"),
            ("Cat", 0.5, "What is it with Moodlers and cats?"),
            ("*", 0.0, "Completely wrong"),
        ]

    def test_import_truefalse_with_general_feedback(self, qs):
        q = qs[6]
        assert q.title == "Q1"
        assert q.text == '42 is the Absolute Answer to everything._____";'
        # {FALSE#wrong-feedback#right-feedback}: Moodle's feedbacktrue is the first text.
        assert _shape(q) == [
            ("true", 0.0, "42 is the Ultimate Answer."),
            ("false", 1.0, "You gave the right answer."),
        ]
        assert q.general_feedback == (
            "This is, of course, a Hitchiker's Guide to the Galaxy reference."
        )

    @pytest.mark.parametrize("i", [7, 8])
    def test_import_truefalse_true_answer(self, qs, i):
        q = qs[i]
        assert (q.title, q.text) == ("2-08 TSL", "TSL is blablabla.")
        assert _shape(q) == [("true", 1.0, ""), ("false", 0.0, "")]


class TestMoodleCategoryFixture:
    @pytest.fixture(scope="class")
    @classmethod
    def qs(cls) -> list[Question]:
        return _parse_file("gift_tests_fixtures_questions_in_category.gift.txt")

    def test_category_applies_to_all(self, qs):
        assert [q.title for q in qs] == [
            "Moodle activities",
            "Greeting",
            "Moodle user",
            "Moodle acronym",
        ]
        assert {q.category for q in qs} == {"$course$/Default for New Features"}
        assert [q.type for q in qs] == [
            "matching",
            "multiple_choice",
            "short_answer",
            "true_false",
        ]
        assert all(q.text_format == "html" for q in qs)

    def test_escapes_in_html(self, qs):
        q = qs[1]
        assert q.text == (
            '<a href="http://demo.moodle.net/file.php/5/media/bonjour.mp3">Listen to this '
            "greeting:</a><br /><br />What language is being spoken?"
        )
        assert _shape(q) == [
            ("English", 0.0, "Sorry, listen again."),
            ("French", 1.0, "Yes, well done!"),
            ("German", 0.0, "Sorry, listen again."),
            ("Spanish", 0.0, "Sorry, listen again."),
        ]

    def test_weight_and_empty_feedback(self, qs):
        assert _shape(qs[2]) == [("Moodler", 1.0, "")]
        assert qs[2].text == "Anyone who uses Moodle is a ..."

    def test_span_with_escaped_colon(self, qs):
        q = qs[3]
        assert q.text == (
            'Moodle is an acronym for <span style="font-style: italic;">Modular '
            "Object-Oriented Dynamic Learning Environment</span>."
        )
        assert _shape(q) == [("true", 1.0, ""), ("false", 0.0, "")]

    def test_matching_with_tabs(self, qs):
        assert [(a.text, a.match) for a in qs[0].answers][-1] == ("", "Chat")
        assert len(qs[0].answers) == 5


class TestMoodleExamples:
    """examples.txt, Moodle's copy of the examples on docs.moodle.org "GIFT format"."""

    @pytest.fixture(scope="class")
    @classmethod
    def qs(cls) -> list[Question]:
        return _parse_file("gift_examples.txt")

    def _by_line(self, qs, line):
        (q,) = [q for q in qs if q.line == line]
        return q

    def test_all_read(self, qs):
        assert len(qs) == 43
        counts = {t: sum(q.type == t for q in qs) for t in QUESTION_TYPES}
        assert counts == {
            "multiple_choice": 9,
            "multiple_response": 2,
            "true_false": 5,
            "short_answer": 9,
            "matching": 3,
            "numerical": 8,
            "missing_word": 7,
            "essay": 0,
            "description": 0,
        }

    def test_multiple_choice(self, qs):
        q = self._by_line(qs, 8)
        assert (q.type, q.title, q.text) == ("multiple_choice", "", "Who's buried in Grant's tomb?")
        assert _shape(q) == [("Grant", 0.0, ""), ("Jefferson", 0.0, ""), ("no one", 1.0, "")]

    def test_missing_word(self, qs):
        q = self._by_line(qs, 10)
        assert q.type == "missing_word"
        assert q.text == "Grant is _____ in Grant's tomb."
        assert [a.text for a in q.answers] == ["buried", "entombed", "living"]
        assert [a.fraction for a in q.answers] == [0.0, 1.0, 0.0]

    def test_missing_word_over_several_lines(self, qs):
        q = self._by_line(qs, 29)
        assert q.type == "missing_word"
        assert q.text == (
            "The American holiday of Thanksgiving is celebrated on the _____ Thursday of November."
        )
        assert [a.text for a in q.answers] == ["second", "third", "fourth"]

    def test_true_false_and_short_answer(self, qs):
        assert _shape(self._by_line(qs, 12)) == [("true", 0.0, ""), ("false", 1.0, "")]
        assert _shape(self._by_line(qs, 51)) == [("true", 1.0, ""), ("false", 0.0, "")]
        q = self._by_line(qs, 14)
        assert q.type == "short_answer"
        assert _shape(q) == [("no one", 1.0, ""), ("nobody", 1.0, "")]

    def test_short_answer_in_sentence(self, qs):
        q = self._by_line(qs, 45)
        assert (q.type, q.text) == ("short_answer", "Two plus two equals _____.")
        assert [a.text for a in q.answers] == ["four", "4"]

    def test_numerical_forms(self, qs):
        q = self._by_line(qs, 16)
        assert [(a.value, a.tolerance) for a in q.answers] == [(1822.0, 1.0)]
        q = self._by_line(qs, 70)
        assert [(a.value, a.tolerance, a.fraction) for a in q.answers] == [(1822.0, 0.0, 1.0)]
        q = self._by_line(qs, 72)
        assert q.text == "What is the value of pi (to 3 decimal places)? _____."
        assert [(a.value, a.tolerance) for a in q.answers] == [(3.1415, 0.0005)]
        q = self._by_line(qs, 74)
        assert [(a.min, a.max, a.value) for a in q.answers] == [(3.141, 3.142, None)]
        q = self._by_line(qs, 76)
        assert [(a.value, a.tolerance, a.fraction) for a in q.answers] == [
            (1822.0, 0.0, 1.0),
            (1822.0, 2.0, 0.5),
        ]
        q = self._by_line(qs, 85)  # after a line comment
        assert (q.text, q.answers[0].value) == ("What's 2 plus 2?", 4.0)

    def test_numerical_feedback_over_lines(self, qs):
        q = self._by_line(qs, 202)
        assert q.title == "Numerical example"
        assert [(a.value, a.tolerance, a.fraction) for a in q.answers] == [
            (1822.0, 0.0, 1.0),
            (1822.0, 2.0, 0.5),
        ]
        assert q.answers[0].feedback == "Correct! 100% credit"
        assert q.answers[1].feedback.startswith("He was born in 1822.\n")
        assert q.answers[1].feedback.endswith("You get 50% credit for being close.")

    def test_matching(self, qs):
        q = self._by_line(qs, 61)
        assert [(a.text, a.match) for a in q.answers] == [
            ("Canada", "Ottawa"),
            ("Italy", "Rome"),
            ("Japan", "Tokyo"),
            ("India", "New Delhi"),
        ]
        q = self._by_line(qs, 177)  # =Canada->Ottawa without spaces
        assert [(a.text, a.match) for a in q.answers] == [
            ("Canada", "Ottawa"),
            ("Italy", "Rome"),
            ("Japan", "Tokyo"),
        ]
        assert q.text == "Match the following countries with their corresponding\ncapitals."

    def test_titles(self, qs):
        q = self._by_line(qs, 90)
        assert (q.type, q.title) == ("short_answer", "Kanji Origins")
        assert q.text == "Japanese characters originally\ncame from what country?"
        assert _shape(q) == [("China", 1.0, "")]
        q = self._by_line(qs, 93)
        assert (q.type, q.title) == ("missing_word", "Thanksgiving Date")

    def test_feedback(self, qs):
        q = self._by_line(qs, 98)
        assert _shape(q) == [
            ("wrong answer", 0.0, "feedback comment on the wrong answer"),
            ("another wrong answer", 0.0, "feedback comment on this wrong answer"),
            ("right answer", 1.0, "Very good!"),
        ]

    def test_markdown(self, qs):
        q = self._by_line(qs, 108)
        assert (q.text_format, q.text) == ("markdown", "Who's buried in **Grant's tomb**?")
        assert _shape(q) == [
            ("no one", 1.0, "excellent answer!"),
            ("nobody", 1.0, "excellent answer!"),
        ]

    def test_true_false_feedback(self, qs):
        q = self._by_line(qs, 113)
        # {FALSE#feedback}: the one feedback is for the wrong answer, i.e. for "true".
        assert _shape(q) == [("true", 0.0, "No one is buried in Grant's tomb."), ("false", 1.0, "")]

    def test_weights(self, qs):
        q = self._by_line(qs, 115)
        assert q.type == "multiple_choice"
        assert [a.fraction for a in q.answers] == [0.0, 0.5, 1.0]
        q = self._by_line(qs, 117)
        assert (q.type, q.title) == ("missing_word", "Jesus' hometown")
        assert q.text == "Jesus Christ was from _____."
        assert [(a.text, a.fraction) for a in q.answers] == [
            ("Jerusalem", 0.0),
            ("Bethlehem", 0.25),
            ("Galilee", 0.5),
            ("Nazareth", 1.0),
        ]
        q = self._by_line(qs, 123)
        assert (q.type, q.text) == ("short_answer", "Jesus Christ was from")
        assert _shape(q) == [
            ("Nazareth", 1.0, "Yes! That's right!"),
            ("Nazereth", 0.75, "Right, but misspelled."),
            ("Bethlehem", 0.25, "He was born here, but not raised here."),
        ]

    def test_multiple_answers(self, qs):
        q = self._by_line(qs, 130)
        assert q.type == "multiple_response"
        assert [a.fraction for a in q.answers] == [0.0, 0.5, 0.5, 0.0]
        q = self._by_line(qs, 136)
        assert q.type == "multiple_response"
        assert [a.fraction for a in q.answers] == [-0.5, 0.5, 0.5, -0.5]

    def test_special_characters(self, qs):
        q = self._by_line(qs, 143)
        assert _shape(q) == [("= 2 + 2", 0.0, ""), ("= 2 + 3", 1.0, ""), ("= 2 + 4", 0.0, "")]
        q = self._by_line(qs, 148)
        assert q.title == "GIFT Control Characters"
        assert [(a.text, a.fraction) for a in q.answers] == [
            ("~", 0.0),
            ("=", 0.0),
            ("#", 0.0),
            ("{", 0.0),
            ("}", 0.0),
            ("\\", 1.0),
        ]
        assert q.answers[0].feedback == "~ is a control character."
        assert q.answers[5].feedback.startswith("Correct! \\ (backslash) is not a control")
        assert "\n" in q.answers[5].feedback

    def test_embedded_short_answer_with_feedback(self, qs):
        q = self._by_line(qs, 195)
        assert (q.type, q.text) == ("short_answer", "Jesus Christ was from _____.")
        assert q.title == "Jesus' hometown (Short answer ex.)"

    def test_missing_word_with_feedback(self, qs):
        q = self._by_line(qs, 184)
        assert (q.type, q.title) == ("missing_word", "Grant's Tomb")
        assert q.text == "Grant is _____ in Grant's tomb."
        assert _shape(q) == [
            ("buried", 0.0, "No one is buried there."),
            ("entombed", 1.0, "Right answer!"),
            ("living", 0.0, "We hope not!"),
        ]


@pytest.mark.parametrize("name", GIFT_FIXTURES)
def test_fixture_round_trip(name):
    qs = _parse_file(name)
    again = _round_trip(qs)
    assert [_no_line(q) for q in again] == [_no_line(q) for q in qs]


@pytest.mark.parametrize("name", GIFT_FIXTURES)
def test_fixture_round_trip_one_by_one(name):
    for q in _parse_file(name):
        (again,) = _round_trip([q])
        assert _no_line(again) == _no_line(q)


@pytest.mark.parametrize("name", GIFT_FIXTURES)
def test_fixture_dict_round_trip(name):
    for q in _parse_file(name):
        d = question_to_dict(q)
        assert json.loads(json.dumps(d)) == d
        assert question_from_dict(json.loads(json.dumps(d))) == _no_line(q)


# --------------------------------------------------------------------------- Moodle's unit tests


def test_moodle_import_backslash():
    q = _one("// essay\n::double backslash:: A \\\\ B \\\\\\\\ C{}")
    assert (q.type, q.title, q.text) == ("essay", "double backslash", "A \\ B \\\\ C")


def test_moodle_export_backslash():
    q = Question("essay", "backslash", "A \\ B \\\\ C", [])
    assert write_gift([q]) == "::backslash::A \\\\ B \\\\\\\\ C{}\n"


def test_moodle_import_pre_content():
    q = _one(
        "::Q001::[html]<p>What would running the test method print?</p>\n"
        "<pre>\n"
        "    public void test() \\{\n"
        "        method1();\n"
        "    \\}\n"
        "</pre>\n"
        "{}"
    )
    assert (q.type, q.text_format) == ("essay", "html")
    assert q.text == (
        "<p>What would running the test method print?</p>\n<pre>\n    public void test() {\n"
        "        method1();\n    }\n</pre>"
    )


def test_moodle_import_with_tag_comments():
    q = _one(
        "// This question is to test importing tags: [tag:tag] [tag:other-tag].\n"
        "// And an idnumber: [id:myid].\n"
        "::Question name:: How are you? {}"
    )
    assert (q.type, q.title, q.text, q.line) == ("essay", "Question name", "How are you?", 3)


def test_moodle_export_shapes():
    mc = Question(
        "multiple_choice",
        "Q8",
        "What's between orange and green in the spectrum?",
        [
            Answer("yellow", 1.0, "right; good!"),
            Answer("red", 0.0, "wrong, it's yellow"),
            Answer("blue", 0.0, "wrong, it's yellow"),
        ],
    )
    assert write_gift([mc]) == (
        "::Q8::What's between orange and green in the spectrum?{\n"
        "\t=yellow#right; good!\n\t~red#wrong, it's yellow\n\t~blue#wrong, it's yellow\n}\n"
    )
    multi = dataclasses.replace(
        mc,
        type="multiple_response",
        answers=[
            Answer("yellow", 1.0, "right; good!"),
            Answer("red", -0.5, "wrong, it's yellow"),
            Answer("blue", -0.5, "wrong, it's yellow"),
        ],
    )
    assert write_gift([multi]).endswith(
        "{\n\t~%100%yellow#right; good!\n\t~%-50%red#wrong, it's yellow\n"
        "\t~%-50%blue#wrong, it's yellow\n}\n"
    )
    tf = Question(
        "true_false",
        "Q1",
        "42 is the Absolute Answer to everything.",
        [
            Answer("true", 1.0, "You gave the right answer."),
            Answer("false", 0.0, "42 is the Ultimate Answer."),
        ],
    )
    assert write_gift([tf]) == (
        "::Q1::42 is the Absolute Answer to everything."
        "{TRUE#42 is the Ultimate Answer.#You gave the right answer.}\n"
    )
    num = Question(
        "numerical",
        "Q5",
        "What is a number from 1 to 5?",
        [Answer("", 1.0, value=3.0, tolerance=2.0), Answer("*", 0.0, "Completely wrong")],
    )
    assert write_gift([num]) == (
        "::Q5::What is a number from 1 to 5?{#\n\t=3:2\n\t~#Completely wrong\n}\n"
    )
    assert _no_line(_one(write_gift([num]))) == num


# --------------------------------------------------------------------------- features


class TestTypes:
    def test_multiple_choice(self):
        q = _one("Who?{~Grant ~Jefferson =no one}")
        assert q.type == "multiple_choice"
        assert q.text == "Who?"
        assert _shape(q) == [("Grant", 0.0, ""), ("Jefferson", 0.0, ""), ("no one", 1.0, "")]

    def test_several_equals_stay_single_choice(self):
        q = _one("Pick one {=a =b ~c}")
        assert q.type == "multiple_choice"
        assert [a.fraction for a in q.answers] == [1.0, 1.0, 0.0]

    def test_equals_has_no_weight_in_multiple_choice(self):
        # Moodle: '=' is always 100%; a %..% after it is text.
        q = _one("Q {=%50%a ~b}")
        assert _shape(q)[0] == ("%50%a", 1.0, "")

    def test_multiple_response(self):
        q = _one("Which? {~%50%a ~%50%b ~%-100%c}")
        assert q.type == "multiple_response"
        assert [a.fraction for a in q.answers] == [0.5, 0.5, -1.0]

    def test_multiple_response_thirds(self):
        q = _one("Which? {~%33.33333%a ~%33.33333%b ~%33.33333%c ~%-100%d}")
        assert q.type == "multiple_response"
        assert q.answers[0].fraction == pytest.approx(0.3333333)

    def test_multiple_response_embedded_keeps_type(self):
        q = _one("Both {~%50%a ~%50%b ~c} are right.")
        assert (q.type, q.text) == ("multiple_response", "Both _____ are right.")

    def test_true_false_words(self):
        for word, right in (("T", True), ("TRUE", True), ("F", False), ("FALSE", False)):
            q = _one(f"Statement.{{{word}}}")
            assert q.type == "true_false"
            assert [a.text for a in q.answers] == ["true", "false"]
            assert [a.fraction for a in q.answers] == ([1.0, 0.0] if right else [0.0, 1.0])

    def test_true_false_is_case_sensitive_like_moodle(self):
        q = _one("Statement.{true}")
        assert q.type == "short_answer"
        assert _shape(q) == [("true", 1.0, "")]

    def test_true_false_feedback_mapping(self):
        # Moodle: {TRUE#wrong#right} -> feedbackfalse = wrong, feedbacktrue = right.
        q = _one("S.{TRUE#You are wrong.#You are right.}")
        assert _shape(q) == [("true", 1.0, "You are right."), ("false", 0.0, "You are wrong.")]
        q = _one("S.{FALSE#You are wrong.#You are right.}")
        assert _shape(q) == [("true", 0.0, "You are wrong."), ("false", 1.0, "You are right.")]
        q = _one("S.{T##Only right.}")
        assert _shape(q) == [("true", 1.0, "Only right."), ("false", 0.0, "")]
        q = _one("S.{T#a#b#c}")  # like Moodle's explode('#', 3): the rest is right feedback
        assert _shape(q) == [("true", 1.0, "b#c"), ("false", 0.0, "a")]

    def test_true_false_general_feedback(self):
        q = _one("S.{T####Because.}")
        assert (q.type, q.general_feedback) == ("true_false", "Because.")

    def test_short_answer(self):
        q = _one("Two plus two?{=four =4 =%50%for#Nearly}")
        assert q.type == "short_answer"
        assert _shape(q) == [("four", 1.0, ""), ("4", 1.0, ""), ("for", 0.5, "Nearly")]

    def test_short_answer_without_equals(self):
        q = _one("Capital of Kazakhstan?{Astana}")  # Moodle keeps text before the first '='
        assert (q.type, _shape(q)) == ("short_answer", [("Astana", 1.0, "")])

    def test_matching(self):
        q = _one("Match.{=Canada -> Ottawa =Italy->Rome = -> Paris ####Capitals.}")
        assert q.type == "matching"
        assert [(a.text, a.match, a.fraction) for a in q.answers] == [
            ("Canada", "Ottawa", 1.0),
            ("Italy", "Rome", 1.0),
            ("", "Paris", 0.0),
        ]
        assert q.general_feedback == "Capitals."

    def test_matching_right_side_keeps_arrows_and_hashes(self):
        q = _one("M {=a -> b -> c =d -> e#f}")
        assert [(a.text, a.match, a.feedback) for a in q.answers] == [
            ("a", "b -> c", ""),
            ("d", "e#f", ""),
        ]

    def test_numerical(self):
        q = _one("Pi?{#3.14159:0.0001}")
        assert q.type == "numerical"
        (a,) = q.answers
        assert (a.text, a.value, a.tolerance, a.min, a.max, a.fraction) == (
            "",
            3.14159,
            0.0001,
            None,
            None,
            1.0,
        )

    def test_numerical_range_and_exact(self):
        q = _one("Range {#1..2}")
        assert [(a.min, a.max, a.value, a.tolerance) for a in q.answers] == [(1.0, 2.0, None, None)]
        q = _one("Exact {#-5}")
        assert [(a.value, a.tolerance) for a in q.answers] == [(-5.0, 0.0)]
        q = _one("Exp {#1e3:1.5E1}")
        assert [(a.value, a.tolerance) for a in q.answers] == [(1000.0, 15.0)]
        q = _one("Negative range {#-3..-1}")
        assert [(a.min, a.max) for a in q.answers] == [(-3.0, -1.0)]

    def test_numerical_reversed_range_and_negative_tolerance(self):
        # Moodle computes the middle and the (absolute) tolerance, so both still work.
        q = _one("R {#2..1}")
        assert [(a.min, a.max) for a in q.answers] == [(1.0, 2.0)]
        q = _one("T {#3:-1}")
        assert [(a.value, a.tolerance) for a in q.answers] == [(3.0, 1.0)]

    def test_numerical_several_answers(self):
        q = _one("Year {#=1822:0#Right =%50%1822:2#Close ~#Wrong}")
        assert [(a.value, a.tolerance, a.fraction, a.feedback) for a in q.answers] == [
            (1822.0, 0.0, 1.0, "Right"),
            (1822.0, 2.0, 0.5, "Close"),
            (None, None, 0.0, "Wrong"),
        ]
        assert q.answers[2].text == "*"

    def test_numerical_catch_all_with_equals(self):
        q = _one("N {#=5 =%0%*#Anything else}")
        assert [(a.text, a.value, a.fraction, a.feedback) for a in q.answers] == [
            ("", 5.0, 1.0, ""),
            ("*", None, 0.0, "Anything else"),
        ]

    def test_missing_word(self):
        q = _one("Moodle costs {~lots of money =nothing ~a small amount} to download.")
        assert q.type == "missing_word"
        assert q.text == "Moodle costs _____ to download."
        assert [a.fraction for a in q.answers] == [0.0, 1.0, 0.0]

    def test_missing_word_at_start(self):
        q = _one("{=Astana ~Almaty} is the capital.")
        assert (q.type, q.text) == ("missing_word", "_____ is the capital.")

    def test_essay(self):
        q = _one("Write about yourself.{}")
        assert (q.type, q.answers, q.general_feedback) == ("essay", [], "")
        q = _one("Write.{####We read every essay.}")
        assert (q.type, q.general_feedback) == ("essay", "We read every essay.")

    def test_description(self):
        q = _one("::Intro::Read the text below, then answer.")
        assert (q.type, q.title, q.text, q.answers) == (
            "description",
            "Intro",
            "Read the text below, then answer.",
            [],
        )

    def test_description_with_escaped_braces(self):
        q = _one("Use \\{ and \\} in GIFT.")
        assert (q.type, q.text) == ("description", "Use { and } in GIFT.")


class TestSyntax:
    def test_titles(self):
        q = _one("::My title::  The text{T}")
        assert (q.title, q.text) == ("My title", "The text")
        q = _one("::::No title{T}")
        assert (q.title, q.text) == ("", "No title")
        q = _one("::Unclosed title text{T}")  # Moodle drops the '::' and keeps the text
        assert (q.title, q.text) == ("", "Unclosed title text")
        q = _one("::a\\:\\:b::text{T}")
        assert q.title == "a::b"

    def test_comments(self):
        qs, problems = parse_gift(
            "// heading\n// more\n\n::Q:: Text\n// inside\n{\n=a\n// between answers\n~b\n}"
            "\n\n// tail"
        )
        assert problems == []
        (q,) = qs
        assert (q.text, q.line) == ("Text", 4)
        assert [a.text for a in q.answers] == ["a", "b"]

    def test_double_slash_inside_a_line_is_text(self):
        q = _one("See http://example.kz {T}")
        assert q.text == "See http://example.kz"

    def test_blank_lines_separate_questions(self):
        qs, problems = parse_gift("A{T}\n\n\n \t \nB{F}\nC{F}\n\nD{T}")
        assert [(q.text, q.line) for q in qs] == [("A", 1), ("D", 8)]
        # without a blank line between them, B and C are one question with two answer blocks
        assert [(p.line, "only one answer block" in p.message) for p in problems] == [(5, True)]

    def test_escapes(self):
        q = _one(r"Esc \~ \= \# \{ \} \: \\ a\nb \d {=x\~y\=z\#w\{v\}u\:t\\s#f\#g}")
        assert q.text == "Esc ~ = # { } : \\ a\nb \\d"
        assert _shape(q) == [("x~y=z#w{v}u:t\\s", 1.0, "f#g")]

    def test_escaped_backslash_before_control_char(self):
        q = _one(r"Path C:\\{=a}")  # \\ is a backslash; the brace stays a control character
        assert q.text == "Path C:\\"
        assert q.type == "short_answer"

    def test_formats(self):
        for fmt in ("moodle", "markdown", "html", "plain"):
            q = _one(f"[{fmt}]Text {{T}}")
            assert (q.text_format, q.text) == (fmt, "Text")
        q = _one("[unknown]Text {T}")
        assert (q.text_format, q.text) == ("moodle", "[unknown]Text")
        q = _one("::T::[html]<b>x</b>{=[plain]a#[markdown]*f*}")
        assert (q.text_format, q.text, _shape(q)) == ("html", "<b>x</b>", [("a", 1.0, "*f*")])

    def test_general_feedback_uses_last_separator(self):
        q = _one("Q{=a#fb####General ####feedback}")
        assert q.general_feedback == "feedback"
        q = _one("Q{=a#fb####[html]<i>General</i>}")
        assert (q.general_feedback, _shape(q)) == ("<i>General</i>", [("a", 1.0, "fb")])

    def test_category(self):
        text = (
            "Before{T}\n\n$CATEGORY: $course$/Civil service/Ethics\n\nOne{T}\n\n"
            "$CATEGORY:   tom/dick  \nTwo{F}\n\n$CATEGORY:\n\nThree{T}"
        )
        qs, problems = parse_gift(text)
        assert problems == []
        assert [(q.text, q.category) for q in qs] == [
            ("Before", None),
            ("One", "$course$/Civil service/Ethics"),
            ("Two", "tom/dick"),
            ("Three", None),
        ]

    def test_line_numbers_and_first_line(self):
        text = "// c\n\nA{T}\n\n\n::B::\nB text{F}\n\nbad {"
        qs, problems = parse_gift(text)
        assert [q.line for q in qs] == [3, 6]
        assert [p.line for p in problems] == [9]
        qs, problems = parse_gift(text, first_line=101)
        assert [q.line for q in qs] == [103, 106]
        assert [p.line for p in problems] == [109]

    def test_line_endings_and_bom(self):
        for nl in ("\r\n", "\r", "\n"):
            qs, problems = parse_gift("\ufeffA{\n=a\n~b\n}\n\nB{T}".replace("\n", nl))
            assert problems == []
            assert [(q.text, q.line) for q in qs] == [("A", 1), ("B", 6)]
            assert [a.text for a in qs[0].answers] == ["a", "b"]

    def test_multiline_text_keeps_indentation(self):
        q = _one("[markdown]List:\n\n".replace("\n\n", "\n") + "- a\n  - b\n{}")
        assert q.text == "List:\n- a\n  - b"

    def test_empty_and_comment_only_input(self):
        assert parse_gift("") == ([], [])
        assert parse_gift("\n\n  \n// only a comment\n\n") == ([], [])

    def test_bytes_and_non_text_input(self):
        qs, problems = parse_gift("Q{T}".encode())
        assert (len(qs), problems) == (1, [])
        qs, problems = parse_gift(None)  # type: ignore[arg-type]
        assert qs == [] and len(problems) == 1


class TestProblems:
    @pytest.mark.parametrize(
        ("text", "words"),
        [
            ("Unclosed {=a ~b", "unclosed"),
            ("No opening =a}", "without an opening"),
            ("Backwards } and {", "before the opening"),
            ("Two {=a ~b} blocks {=c ~d}", "only one answer block"),
            ("Nested {=a {~b} }", "only one answer block"),
            ("Only one {~a}", "at least 2 answers"),
            ("One {=a ~}", "answer 2 is empty"),
            ("Empty {~ =b ~c}", "answer 1 is empty"),
            ("Match {=a -> 1}", "at least 2 pairs"),
            ("Match {=a -> 1 = -> 2 = -> 3}", "at least 2 pairs"),
            ("Match {=a -> 1 =b -> 2 =c}", "has no '->'"),
            ("Match {=a -> 1 =b -> }", "nothing after '->'"),
            ("Num {#}", "no answers found"),
            ("Num {#~#only feedback}", "no answers found"),
            ("Num {#abc}", "'abc' is not a number"),
            ("Num {#3,14}", "decimal point"),
            ("Num {#3:x}", "tolerance 'x' is not a number"),
            ("Num {#1..z}", "maximum 'z' is not a number"),
            ("Num {#nan}", "not a number"),
            ("Num {#1e999}", "too large"),
            ("Num {#=%50%3}", "must be worth 100%"),
            ("Short {=%50%a =%20%b}", "must be worth 100%"),
            ("Short {=%150%a}", "outside the allowed range"),
            ("Short {=}", "answer 1 is empty"),
            ("Weights {~a ~b ~c}", "no answer is marked right"),
            ("Weights {~%50%a ~%30%b ~c}", "add up to 100% (they add up to 80%)"),
            ("Weights {~%-50%a ~%-50%b}", "no answer is marked right"),
        ],
    )
    def test_messages(self, text, words):
        problem = _problem(text)
        assert problem.line == 1
        assert words in problem.message

    def test_blank_line_inside_answers(self):
        qs, problems = parse_gift("Q {\n=a\n\n~b\n}")
        assert qs == []
        assert [p.line for p in problems] == [1, 4]
        assert "blank line" in problems[0].message

    def test_bad_question_does_not_stop_the_rest(self):
        qs, problems = parse_gift("Good {T}\n\nBad {\n\nAlso good {=x}")
        assert [q.text for q in qs] == ["Good", "Also good"]
        assert [p.line for p in problems] == [3]


# --------------------------------------------------------------------------- writer


class TestWriter:
    def test_escapes_everything(self):
        q = Question(
            "multiple_choice",
            "t::i{t}le",
            "a~b=c#d{e}f:g\\h\nnext",
            [Answer("=x", 1.0, "f#b"), Answer("~y", 0.0, "{z}")],
            general_feedback="g#####h",
        )
        out = write_gift([q])
        assert out.startswith("::t\\:\\:i\\{t\\}le::a\\~b\\=c\\#d\\{e\\}f\\:g\\\\h\\nnext{")
        assert "\t=\\=x#f\\#b\n" in out
        assert "\t~\\~y#\\{z\\}\n" in out
        assert _no_line(_one(out)) == q

    def test_literal_format_tag_and_percent(self):
        q = Question(
            "multiple_choice",
            "",
            "[html] is literal",
            [Answer("%50% off", 0.0), Answer("[plain]x", 1.0, "[html]fb"), Answer("%", 0.25)],
        )
        out = write_gift([q])
        assert out.startswith("[moodle][html] is literal{")
        assert _no_line(_one(out)) == q

    def test_text_that_looks_like_a_comment_or_category(self):
        for text in ("// not a comment", "$CATEGORY: not a category"):
            q = Question("essay", "", text, [])
            assert _no_line(_one(write_gift([q]))) == q
            d = Question("description", "", text, [])
            assert _no_line(_one(write_gift([d]))) == d

    def test_empty_description_and_text_format(self):
        q = Question("description", "", "", [], text_format="html")
        assert _no_line(_one(write_gift([q]))) == q

    def test_categories(self):
        qs = [
            Question("essay", "", "a", []),
            Question("essay", "", "b", [], category="$course$/X\\y: z"),
            Question("essay", "", "c", [], category="$course$/X\\y: z"),
            Question("essay", "", "d", [], category=None),
        ]
        out = write_gift(qs)
        assert out.count("$CATEGORY:") == 2
        assert [_no_line(q) for q in _round_trip(qs)] == qs

    def test_missing_word_placement(self):
        q = Question(
            "missing_word",
            "",
            "A _____ B _____ C",
            [Answer("x", 1.0), Answer("y", 0.0)],
        )
        out = write_gift([q])
        assert out.startswith("A {\n")
        assert _no_line(_one(out)) == q

    def test_numbers_and_weights_round_trip_exactly(self):
        answers = [
            Answer("", 1.0, value=1e-7, tolerance=1e-9),
            Answer("", 1 / 3, value=-1234567.125, tolerance=0.1 + 0.2),
            Answer("", 0.1, min=-1e20, max=3.0),
            Answer("", -0.0, value=0.0, tolerance=0.0),
            Answer("", 0.7, "x", value=2.5e-12, tolerance=1e15),
        ]
        q = Question("numerical", "N", "n", answers)
        again = _one(write_gift([q]))
        assert again.answers == answers
        mr = Question(
            "multiple_response",
            "",
            "m",
            [Answer("a", 1 / 3), Answer("b", 1 / 3), Answer("c", 1 / 3), Answer("d", -0.123456789)],
        )
        assert _one(write_gift([mr])).answers == mr.answers

    def test_catch_all_not_last(self):
        q = Question(
            "numerical",
            "",
            "n",
            [Answer("*", 0.0, "other"), Answer("", 1.0, value=1.0, tolerance=0.0)],
        )
        assert _no_line(_one(write_gift([q]))) == q

    def test_short_answer_special_texts(self):
        q = Question("short_answer", "", "s", [Answer("TRUE", 1.0), Answer("%5%", 0.5, "=")])
        assert _no_line(_one(write_gift([q]))) == q

    def test_unwritable_questions(self):
        m = Question(
            "matching", "", "m", [Answer("a -> b", 1.0, match="c"), Answer("d", 1.0, match="e")]
        )
        with pytest.raises(ValueError, match="->"):
            write_gift([m])
        tf = Question("true_false", "", "t", [Answer("yes", 1.0)])
        with pytest.raises(ValueError, match="true"):
            write_gift([tf])
        with pytest.raises(ValueError, match="type"):
            write_gift([Question("cloze", "", "t", [])])
        with pytest.raises(ValueError, match="format"):
            write_gift([Question("essay", "", "t", [], text_format="rtf")])


# --------------------------------------------------------------------------- JSON shape


class TestDict:
    def test_shapes(self):
        q = _one("::N::Pi {#3.14:0.01#ok =%50%3..3.5 ~#no}")
        d = question_to_dict(q)
        assert set(d) == {
            "type",
            "title",
            "text",
            "text_format",
            "category",
            "answers",
            "general_feedback",
        }
        assert d["answers"] == [
            {"text": "", "fraction": 1.0, "feedback": "ok", "value": 3.14, "tolerance": 0.01},
            {"text": "", "fraction": 0.5, "feedback": "", "min": 3.0, "max": 3.5},
            {"text": "*", "fraction": 0.0, "feedback": "no"},
        ]
        m = question_to_dict(_one("M {=a -> 1 =b -> 2}"))
        assert m["answers"] == [
            {"text": "a", "fraction": 1.0, "feedback": "", "match": "1"},
            {"text": "b", "fraction": 1.0, "feedback": "", "match": "2"},
        ]
        tf = question_to_dict(_one("S {T#w#r}"))
        assert tf["answers"] == [
            {"text": "true", "fraction": 1.0, "feedback": "r"},
            {"text": "false", "fraction": 0.0, "feedback": "w"},
        ]
        mc = question_to_dict(_one("C {=a ~b}"))
        assert mc["answers"][0] == {"text": "a", "fraction": 1.0, "feedback": ""}

    def test_from_dict_defaults_and_ints(self):
        q = question_from_dict(
            {"type": "multiple_choice", "text": "t", "answers": [{"text": "a", "fraction": 1}]}
        )
        assert q == Question("multiple_choice", "", "t", [Answer("a", 1.0)])
        assert isinstance(q.answers[0].fraction, float)

    @pytest.mark.parametrize(
        "bad",
        [
            None,
            [],
            {"type": "cloze"},
            {"type": "essay", "text_format": "rtf"},
            {"type": "essay", "text": 3},
            {"type": "essay", "answers": {}},
            {"type": "essay", "answers": ["x"]},
            {"type": "essay", "category": 5},
            {"type": "essay", "answers": [{"text": "a", "fraction": "1"}]},
            {"type": "essay", "answers": [{"text": "a", "fraction": True}]},
            {"type": "essay", "answers": [{"text": "a", "fraction": float("nan")}]},
            {"type": "matching", "answers": [{"text": "a", "fraction": 1, "match": 2}]},
        ],
    )
    def test_from_dict_rejects(self, bad):
        with pytest.raises(ValueError):
            question_from_dict(bad)


# --------------------------------------------------------------------------- Aiken


class TestAiken:
    def test_moodle_questions_fixture(self):
        qs, problems = parse_aiken(_read("aiken_tests_fixtures_questions.aiken.txt"))
        assert problems == []
        assert [q.type for q in qs] == ["multiple_choice", "multiple_choice"]
        assert qs[0].text == "The Moodle project was started by:"
        assert _shape(qs[0]) == [
            ("Petr Skoda", 0.0, ""),
            ("Martin Dougiamas", 1.0, ""),
            ("Eloy Lafuente", 0.0, ""),
            ("Tim Hunt", 0.0, ""),
        ]
        # Like Moodle: HTML format, with the text's special characters escaped.
        assert qs[1].text_format == "html"
        assert qs[1].text == (
            "Moodle's abilities include handling user input that includes "
            '&lt;html class="cool"&gt; &amp; images:'
        )
        assert _shape(qs[1]) == [("True", 1.0, ""), ("False", 0.0, "")]
        assert [q.line for q in qs] == [1, 8]

    def test_moodle_errors_fixture(self):
        qs, problems = parse_aiken(_read("aiken_tests_fixtures_aiken_errors.txt"))
        # aikenformat_test.php: these errors, and the good questions.
        assert [p.line for p in problems] == [3, 5, 7, 18]
        assert "A question with too few answers" in problems[0].message
        assert "at least 2 answers on line 3" in problems[0].message
        assert "not started on line 5" in problems[1].message
        assert "not started on line 7" in problems[2].message
        assert "A question started but not finished" in problems[3].message
        assert "before the next question starts on line 18" in problems[3].message
        assert [q.text for q in qs] == ["A good question", "A second good question"]
        assert _shape(qs[0]) == [("Correct", 1.0, ""), ("Incorrect", 0.0, "")]
        assert _shape(qs[1]) == [("Incorrect (No space)", 0.0, ""), ("Correct (No space)", 1.0, "")]

    def test_dot_labels_html_and_lowercase_answer(self):
        qs, problems = parse_aiken("Which is > 2 & < 4?\r\nA. 1\r\nB. 3\r\nANSWER: b\r\n")
        assert problems == []
        (q,) = qs
        assert q.text == "Which is &gt; 2 &amp; &lt; 4?"
        assert _shape(q) == [("1", 0.0, ""), ("3", 1.0, "")]

    def test_aiken_problems(self):
        qs, problems = parse_aiken(
            "Q1\nA) a\nB) b\nANSWER: C\n\nQ2\nA) a\nA) b\nANSWER: A\n\n"
            "Q3\nA) a\nB) b\nANSWER:\n\nQ4\nA) a\nB) b\n"
        )
        assert qs == []
        assert [p.line for p in problems] == [4, 9, 14, 16]
        assert "C is not one of the choices (A, B)" in problems[0].message
        assert "A is used twice" in problems[1].message
        assert "no letter" in problems[2].message
        assert "'Q4' not completed" in problems[3].message

    def test_first_line_and_round_trip_to_gift(self):
        qs, problems = parse_aiken("Q?\nA) <b>\nB) c\nANSWER: A", first_line=10)
        assert problems == [] and qs[0].line == 10
        again = _round_trip(qs)
        assert [_no_line(q) for q in again] == [_no_line(q) for q in qs]

    def test_empty_and_non_text(self):
        assert parse_aiken("") == ([], [])
        qs, problems = parse_aiken(b"Qq\nA) a\nB) b\nANSWER: A")
        assert len(qs) == 1 and problems == []
        qs, problems = parse_aiken(3)  # type: ignore[arg-type]
        assert qs == [] and len(problems) == 1


# --------------------------------------------------------------------------- robustness


def _blns_lines() -> list[str]:
    if not BLNS.is_file():
        pytest.skip(f"BLNS not found at {BLNS}")
    return BLNS.read_text(encoding="utf-8", errors="surrogateescape").split("\n")


def _check_never_raises(text: str) -> None:
    for parse in (parse_gift, parse_aiken):
        qs, problems = parse(text)
        assert all(isinstance(q, Question) and q.type in QUESTION_TYPES for q in qs)
        assert all(isinstance(p, GiftProblem) for p in problems)
        assert not any(p.message.startswith("could not read") for p in problems), problems
    qs, _problems = parse_gift(text)
    if qs:  # whatever was read must survive write -> read unchanged
        assert [_no_line(q) for q in _round_trip(qs)] == [_no_line(q) for q in qs]
        for q in qs:
            assert question_from_dict(question_to_dict(q)) == _no_line(q)


def test_blns_lines_never_raise():
    lines = _blns_lines()
    wrappers = (
        "{}",
        "Q {{{}}}",
        "{} {{=a ~b}}",
        "Q {{={} ~b}}",
        "Q {{~{} =b}}",
        "::{}::T {{T#{}}}",
        "Q {{#{}}}",
        "Q {{={} -> a =b -> {}}}",
        "Q {{=%50%{} ={}}}",
        "[html]{} {{}}",
        "{}\nA) {}\nB) b\nANSWER: A",
        "$CATEGORY: {}\n\n{} {{T}}",
    )
    for line in lines:
        for w in wrappers:
            _check_never_raises(w.format(line, line))
    _check_never_raises("\n".join(lines))
    _check_never_raises("\n\n".join(lines))


def test_random_junk_never_raises():
    rng = random.Random(20240601)
    alphabet = list("{}~=#:\\%->.,[]/$ \t\n\r_*0123456789abcTFRUEALSnmd") + [
        "TRUE",
        "FALSE",
        "->",
        "//",
        "::",
        "####",
        "\\n",
        "[html]",
        "[markdown]",
        "$CATEGORY:",
        "%50%",
        "%-100%",
        "..",
        "ANSWER: A",
        "\nA) ",
        "\u00a0",
        "\u2028",
        "\x00",
        "ё",
        "қ",
        "\ufeff",
    ]
    for _ in range(3000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        _check_never_raises(text)
    for _ in range(300):
        text = "".join(chr(rng.randint(0, 0x10FFFF)) for _ in range(rng.randint(0, 40)))
        text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        _check_never_raises(text)


def test_large_input_is_fast():
    text = "\n\n".join(f"::Q{i}::Question {i}?{{=a ~b ~c#fb}}" for i in range(3000))
    qs, problems = parse_gift(text)
    assert (len(qs), problems) == (3000, [])
    long_line = "x" * 200_000 + "{" + "~a " * 20_000 + "=b}"
    qs, problems = parse_gift(long_line)
    assert len(qs) == 1 and len(qs[0].answers) == 20_001


def _random_question(rng: random.Random) -> Question:
    pieces = list("{}~=#:\\%->.,[]/$ _*019abTFn") + [
        "->", "//", "::", "####", "\\n", "[html]", "[plain]", "%50%", "..", "\n", "\u00a0",
        "\ufeff", "_____", "TRUE", "$CATEGORY:", "ё", "қ",
    ]  # fmt: skip

    def text(least: int = 0) -> str:
        while True:
            s = "".join(rng.choice(pieces) for _ in range(rng.randint(least, 12))).strip()
            if len(s) >= least:
                return s

    def safe(least: int = 1) -> str:  # no '->' (cannot be written there)
        s = text(least)
        while "->" in s:
            s = s.replace("->", "-")
        return s

    qtype = rng.choice(QUESTION_TYPES)
    answers: list[Answer] = []
    body = text()
    if qtype in ("multiple_choice", "missing_word"):
        answers = [Answer(text(1), 1.0, text())]
        answers += [Answer(text(1), rng.choice([0.0, 0.5, -0.25, 1 / 3]), text()) for _ in range(3)]
        rng.shuffle(answers)
        if qtype == "missing_word":
            body = f"{text()} _____ {text(1)}".strip()
    elif qtype == "multiple_response":
        answers = [Answer(text(1), 0.5, text()), Answer(text(1), 0.5), Answer(text(1), -1.0)]
    elif qtype == "true_false":
        right = rng.random() < 0.5
        answers = [Answer("true", float(right), text()), Answer("false", float(not right), text())]
    elif qtype == "short_answer":
        answers = [Answer(safe(), 1.0, safe(0)), Answer(safe(), rng.uniform(-1, 1), safe(0))]
    elif qtype == "matching":
        answers = [Answer(safe(), 1.0, match=text(1)) for _ in range(3)]
        answers.append(Answer("", 0.0, match=text(1)))
    elif qtype == "numerical":
        answers = [
            Answer("", 1.0, text(), value=rng.uniform(-1e6, 1e6), tolerance=rng.uniform(0, 9)),
            Answer("", 0.5, text(), min=-3.5, max=rng.choice([-3.5, 7.25])),
            Answer("*", 0.0, text()),
        ]
    category = rng.choice([None, f"$course$/{text()}".strip()])
    return Question(
        qtype,
        text(),
        body,
        answers,
        "" if qtype == "description" else text(),
        rng.choice(["moodle", "html", "plain", "markdown"]),
        category,
    )


def test_random_questions_round_trip():
    rng = random.Random(7)
    for _ in range(1500):
        qs = [_random_question(rng) for _ in range(rng.randint(1, 4))]
        again, problems = parse_gift(write_gift(qs))
        assert problems == []
        assert [_no_line(q) for q in again] == qs


def test_problems_carry_a_msgid_and_parameters_for_translation():
    gift = "Q {=a ~b\n\nQ {#1,5}\n\nQ {~a ~b}\n\nQ {=a -> }\n\nQ {~%50%a ~%20%b}\n\nQ {=a} {=b}\n\nQ } {"
    aiken = "Q?\nA) x\nANSWER: A\n\nA) stray\nR?\nA) a\nB) b\nANSWER: C\nS?\nA) a\nB) b\nANSWER:\nT?\nA) a"
    problems = parse_gift(gift)[1] + parse_aiken(aiken)[1] + parse_gift(None)[1]  # type: ignore[arg-type]
    assert len(problems) >= 11
    for problem in problems:
        assert problem.msgid, problem
        assert set(re.findall(r"%\((\w+)\)", problem.msgid)) == set(problem.params), problem
        assert problem.translated(lambda text: text) == problem.message
    numeric = next(p for p in problems if "decimal point" in p.message)
    assert numeric.message == "numerical answer: value '1,5' is not a number (use a decimal point, not a comma)"
    catalogue = {numeric.msgid: "число: %(what)s %(spec)s?", "value": "значение"}
    assert numeric.translated(lambda text: catalogue.get(text, text)) == "число: значение '1,5'?"
    # the msgid and parameters do not change what a problem equals
    assert numeric == GiftProblem(numeric.line, numeric.message)
