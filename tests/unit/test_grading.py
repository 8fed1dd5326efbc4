"""Tests for learning.quizzes.grading (server-side grading of GIFT questions)."""

from __future__ import annotations

import pytest

from learning.quizzes.gift import Answer, Question, parse_gift
from learning.quizzes.grading import (
    GradeResult,
    QuestionResult,
    ResponseError,
    grade,
    normalise_response,
)


def q(gift: str) -> Question:
    questions, problems = parse_gift(gift)
    assert problems == [] and len(questions) == 1, problems
    return questions[0]


MC = q("Capital of Kazakhstan?{=Astana#Right! ~Almaty#Former capital ~Shymkent####Since 1997.}")
MW = q("The capital is {~Almaty =Astana} today.")
MR = q("Which are rivers? {~%50%Ili#yes ~%50%Irtysh#yes too ~%-100%Balkhash#a lake ~Altai}")
TF = q("The sun rises in the east.{TRUE#No, it does.#Yes.####Basic astronomy.}")
SA = q("Two plus two?{=four#Good =4 =%50%for#Spelling! =%0%*#Wrong ####Arithmetic.}")
NUM = q("Pi to 3 places?{#=3.1415:0.0005#Good =%50%3.1..3.2#Close ~#No}")
MATCH = q("Match.{=Kazakhstan -> Astana =France -> Paris =Italy -> Rome = -> Berlin}")
ESSAY = q("Describe your work.{####We will read it.}")
DESC = q("Read the following carefully.")


def one(question: Question, response: object) -> QuestionResult:
    result = grade([question], {0: response})
    return result.results[0]


# --------------------------------------------------------------------------- grade()


class TestGradeTypes:
    def test_multiple_choice(self):
        r = one(MC, 0)
        assert (r.score, r.is_correct, r.is_pending, r.given) == (1.0, True, False, 0)
        assert r.feedback == ["Right!", "Since 1997."]
        r = one(MC, 1)
        assert (r.score, r.is_correct) == (0.0, False)
        assert r.feedback == ["Former capital", "Since 1997."]
        r = one(MC, 2)
        assert r.feedback == ["Since 1997."]  # empty per-answer feedback left out

    def test_multiple_choice_partial_credit(self):
        question = q("Difficult.{~wrong ~%50%half =full}")
        assert [one(question, i).score for i in range(3)] == [0.0, 0.5, 1.0]
        assert not one(question, 1).is_correct

    def test_missing_word(self):
        assert one(MW, 1).score == 1.0
        assert one(MW, 0).score == 0.0

    def test_multiple_response(self):
        r = one(MR, [0, 1])
        assert (r.score, r.is_correct, r.given) == (1.0, True, [0, 1])
        assert r.feedback == ["yes", "yes too"]
        assert one(MR, [0]).score == 0.5
        assert one(MR, {1, 3}).score == 0.5
        assert one(MR, (0, 1, 3)).score == 1.0

    def test_multiple_response_negative_weights_clamped(self):
        r = one(MR, [0, 2])  # 0.5 - 1.0
        assert (r.score, r.is_correct) == (0.0, False)
        assert r.feedback == ["yes", "a lake"]
        assert one(MR, [0, 1, 2]).score == 0.0
        assert one(MR, [2]).score == 0.0
        assert one(MR, []).score == 0.0

    def test_multiple_response_thirds_count_as_right(self):
        question = q("Pick.{~%33.33333%a ~%33.33333%b ~%33.33333%c ~%-100%d}")
        r = one(question, [0, 1, 2])
        assert r.score == pytest.approx(0.9999999)
        assert r.is_correct  # Moodle: a fraction above 0.999999 is right

    def test_true_false(self):
        r = one(TF, True)
        assert (r.score, r.is_correct) == (1.0, True)
        assert r.feedback == ["Yes.", "Basic astronomy."]
        r = one(TF, False)
        assert (r.score, r.is_correct) == (0.0, False)
        assert r.feedback == ["No, it does.", "Basic astronomy."]

    def test_short_answer_normalisation(self):
        for given in ("four", "FOUR", "  Four ", "4", "\tfour\n"):
            r = one(SA, given)
            assert (r.score, r.is_correct) == (1.0, True), given
        r = one(SA, "for")
        assert (r.score, r.feedback) == (0.5, ["Spelling!", "Arithmetic."])
        r = one(SA, "five")
        assert (r.score, r.feedback) == (0.0, ["Wrong", "Arithmetic."])
        assert one(SA, "fo ur").score == 0.0

    def test_short_answer_internal_whitespace_and_unicode_case(self):
        question = q("Capital?{=Нұр-Сұлтан =New  York}")
        assert one(question, "НҰР-СҰЛТАН").score == 1.0
        assert one(question, "new   york").score == 1.0
        assert one(question, "new\u00a0york").score == 1.0
        question = q("Name?{=Straße}")
        assert one(question, "STRASSE").score == 1.0  # casefold

    def test_short_answer_wildcards(self):
        question = q("Colour?{=gr*y =%50%*blue* =a\\\\*b}")
        assert one(question, "grey").score == 1.0
        assert one(question, "gray").score == 1.0
        assert one(question, "light blue sky").score == 0.5
        assert one(question, "a*b").score == 1.0  # \* is a literal star
        assert one(question, "axxb").score == 0.0
        assert one(question, "g.y").score == 0.0  # regex characters are literal

    def test_short_answer_best_match_wins(self):
        question = q("Q{=%50%cat =%0%*#Anything =%100%Cat#Best =Cat#Later}")
        r = one(question, "cat")
        assert (r.score, r.feedback) == (1.0, ["Best"])

    def test_short_answer_blank_is_no_answer(self):
        r = one(SA, "   ")
        assert (r.score, r.given, r.feedback) == (0.0, None, ["Arithmetic."])

    def test_numerical_tolerance(self):
        r = one(NUM, 3.1415)
        assert (r.score, r.feedback) == (1.0, ["Good"])
        assert one(NUM, 3.141).score == 1.0  # on the edge of the tolerance
        assert one(NUM, 3.142).score == 1.0
        assert one(NUM, 3.1425).score == 0.5
        r = one(NUM, 3.15)
        assert (r.score, r.feedback) == (0.5, ["Close"])
        r = one(NUM, 4.0)
        assert (r.score, r.feedback) == (0.0, ["No"])
        assert (one(NUM, 3).score, one(NUM, 3).given) == (0.0, 3.0)  # an int is fine

    def test_numerical_range_edges(self):
        question = q("Range{#1..2}")
        assert [one(question, x).score for x in (0.999, 1.0, 1.5, 2.0, 2.001)] == [0, 1, 1, 1, 0]

    def test_numerical_accepts_typed_text(self):
        assert one(NUM, "3,1415").score == 1.0  # decimal comma
        assert one(NUM, "3.15").given == 3.15
        assert one(NUM, " ").given is None

    def test_wildcards_do_not_backtrack(self):
        question = q("Q{=" + "*a" * 30 + "*b}")
        assert one(question, "a" * 10_000).score == 0.0
        assert one(question, "a" * 40 + "b").score == 1.0

    def test_numerical_exact(self):
        question = q("Year{#1822}")
        assert one(question, 1822.0).score == 1.0
        assert one(question, 1822.5).score == 0.0
        assert one(question, 0.1 + 0.2).score == 0.0
        question = q("Sum{#0.3}")
        assert one(question, 0.1 + 0.2).score == 1.0  # float noise tolerated

    def test_matching(self):
        r = one(MATCH, {0: "Astana", 1: "Paris", 2: "Rome"})
        assert (r.score, r.is_correct) == (1.0, True)
        r = one(MATCH, {0: "Astana", 1: "Rome", 2: "Berlin"})
        assert r.score == pytest.approx(1 / 3)
        assert not r.is_correct
        assert one(MATCH, {0: "Astana"}).score == pytest.approx(1 / 3)
        assert one(MATCH, {}).score == 0.0

    def test_matching_duplicate_right_sides(self):
        question = q("Match.{=cat -> mammal =dog -> mammal =eagle -> bird}")
        assert one(question, {0: "mammal", 1: "mammal", 2: "bird"}).score == 1.0
        assert one(question, {0: "bird", 1: "mammal", 2: "mammal"}).score == pytest.approx(1 / 3)

    def test_essay_pending(self):
        r = one(ESSAY, "I work in the akimat.")
        assert (r.score, r.is_pending, r.is_correct) == (0.0, True, False)
        assert r.feedback == ["We will read it."]

    def test_essay_blank_is_not_pending(self):
        r = one(ESSAY, "  ")
        assert (r.score, r.is_pending, r.given) == (0.0, False, None)
        r = one(ESSAY, None)
        assert (r.score, r.is_pending) == (0.0, False)

    def test_description(self):
        r = one(DESC, None)
        assert (r.score, r.is_correct, r.is_pending, r.feedback) == (0.0, False, False, [])

    @pytest.mark.parametrize("question", [MC, MW, MR, TF, SA, NUM, MATCH, ESSAY, DESC])
    def test_missing_response_scores_zero(self, question):
        result = grade([question], {})
        r = result.results[0]
        assert (r.score, r.is_correct, r.is_pending, r.given) == (0.0, False, False, None)
        assert one(question, None) == r


class TestGradePercent:
    def test_overall_percent(self):
        questions = [MC, MR, TF, SA, NUM, MATCH]
        responses = {0: 0, 1: [0], 2: True, 3: "for", 4: 3.1415, 5: {0: "Astana"}}
        result = grade(questions, responses)
        assert isinstance(result, GradeResult)
        assert [r.index for r in result.results] == list(range(6))
        expected = (1 + 0.5 + 1 + 0.5 + 1 + 1 / 3) / 6 * 100
        assert result.score_percent == pytest.approx(expected)
        assert result.has_pending is False

    def test_descriptions_never_count(self):
        result = grade([DESC, MC, DESC], {1: 0})
        assert result.score_percent == 100.0

    def test_pending_essay_left_out_until_graded(self):
        questions = [MC, ESSAY, MC]
        result = grade(questions, {0: 0, 1: "My essay", 2: 1})
        assert result.has_pending is True
        assert result.score_percent == 50.0  # (1 + 0) / 2, the essay left out
        graded = grade(questions, {0: 0, 1: "My essay", 2: 1}, manual_scores={1: 0.5})
        assert graded.has_pending is False
        assert graded.results[1].score == 0.5
        assert graded.score_percent == pytest.approx(50.0)
        full = grade(questions, {0: 0, 1: "My essay", 2: 0}, manual_scores={1: 1})
        assert full.results[1].is_correct and full.score_percent == 100.0

    def test_unanswered_essay_counts_as_zero(self):
        result = grade([MC, ESSAY], {0: 0})
        assert (result.has_pending, result.score_percent) == (False, 50.0)

    def test_nothing_gradable(self):
        assert grade([], {}).score_percent == 0.0
        result = grade([DESC, ESSAY], {1: "text"})
        assert (result.score_percent, result.has_pending) == (0.0, True)

    def test_score_bounds(self):
        result = grade([MR, MR], {0: [2], 1: [0, 1, 3]})
        assert [r.score for r in result.results] == [0.0, 1.0]
        assert 0.0 <= result.score_percent <= 100.0


class TestGradeRejects:
    @pytest.mark.parametrize(
        ("question", "response"),
        [
            (MC, 3),  # out of range
            (MC, -1),
            (MC, True),  # a bool is not an index
            (MC, "0"),
            (MC, 1.0),
            (MR, [0, 0]),
            (MR, [4]),
            (MR, 1),
            (MR, ["0"]),
            (TF, 1),
            (TF, "true"),
            (SA, 4),
            (SA, "x" * 10_001),
            (NUM, "3,14,15"),
            (NUM, [3.14]),
            (NUM, float("nan")),
            (NUM, float("inf")),
            (NUM, True),
            (MATCH, {3: "Berlin"}),  # a distractor has no question
            (MATCH, {0: "Moscow"}),
            (MATCH, {9: "Paris"}),
            (MATCH, [("0", "Astana")]),
            (ESSAY, 5),
        ],
    )
    def test_malformed(self, question, response):
        with pytest.raises(ResponseError, match="question 0"):
            grade([question], {0: response})

    def test_unknown_index_and_bad_manual_scores(self):
        with pytest.raises(ResponseError):
            grade([MC], {1: 0})
        with pytest.raises(ResponseError):
            grade([MC], {"0": 0})  # type: ignore[dict-item]
        with pytest.raises(ResponseError):
            grade([ESSAY], {}, manual_scores={0: 1.5})
        with pytest.raises(ResponseError):
            grade([MC], {}, manual_scores={0: 1})

    def test_response_error_is_value_error(self):
        assert issubclass(ResponseError, ValueError)


# --------------------------------------------------------------------------- normalise_response


class TestNormalise:
    def test_choice(self):
        assert normalise_response(MC, ["1"]) == 1
        assert normalise_response(MC, [" 2 "]) == 2
        assert normalise_response(MW, ["0"]) == 0
        assert normalise_response(MC, []) is None
        assert normalise_response(MC, [""]) is None

    @pytest.mark.parametrize("raw", [["3"], ["-1"], ["1.0"], ["one"], ["+1"], ["٣"], ["0", "1"]])
    def test_choice_rejects(self, raw):
        with pytest.raises(ResponseError):
            normalise_response(MC, raw)

    def test_choice_out_of_range_message(self):
        with pytest.raises(ResponseError, match="answer 7 does not exist"):
            normalise_response(MC, ["7"])

    def test_multiple_response(self):
        assert normalise_response(MR, ["2", "0"]) == [0, 2]
        assert normalise_response(MR, []) is None
        with pytest.raises(ResponseError, match="twice"):
            normalise_response(MR, ["1", "1"])
        with pytest.raises(ResponseError):
            normalise_response(MR, ["4"])
        with pytest.raises(ResponseError):
            normalise_response(MR, ["x"])

    def test_true_false(self):
        assert normalise_response(TF, ["true"]) is True
        assert normalise_response(TF, ["False"]) is False
        assert normalise_response(TF, ["1"]) is True
        assert normalise_response(TF, ["0"]) is False
        assert normalise_response(TF, []) is None
        with pytest.raises(ResponseError):
            normalise_response(TF, ["yes"])
        with pytest.raises(ResponseError):
            normalise_response(TF, ["true", "false"])

    def test_numerical_decimal_comma_and_forms(self):
        assert normalise_response(NUM, ["3,14"]) == 3.14
        assert normalise_response(NUM, ["3.14"]) == 3.14
        assert normalise_response(NUM, [" -2,5 "]) == -2.5
        assert normalise_response(NUM, ["\u22125"]) == -5.0  # minus sign
        assert normalise_response(NUM, ["1 822"]) == 1822.0
        assert normalise_response(NUM, ["1\u00a0822,5"]) == 1822.5
        assert normalise_response(NUM, ["1e3"]) == 1000.0
        assert normalise_response(NUM, [".5"]) == 0.5
        assert normalise_response(NUM, [""]) is None

    @pytest.mark.parametrize(
        "value",
        ["abc", "1,000.5", "1,2,3", "nan", "inf", "1e999", "3 14", "1_000", "٣", "0x10", "--1"],
    )
    def test_numerical_rejects(self, value):
        with pytest.raises(ResponseError):
            normalise_response(NUM, [value])

    def test_numerical_graded_after_normalising(self):
        assert one(NUM, normalise_response(NUM, ["3,1415"])).score == 1.0

    def test_short_answer_and_essay(self):
        assert normalise_response(SA, ["  Four "]) == "  Four "
        assert normalise_response(SA, ["   "]) is None
        assert normalise_response(ESSAY, ["Line 1\nLine 2"]) == "Line 1\nLine 2"
        assert normalise_response(ESSAY, ["x" * 10_000]) == "x" * 10_000
        for question in (SA, ESSAY):
            with pytest.raises(ResponseError, match="10000"):
                normalise_response(question, ["x" * 10_001])
            with pytest.raises(ResponseError):
                normalise_response(question, ["a", "b"])
            with pytest.raises(ResponseError, match="NUL"):
                normalise_response(question, ["a\x00b"])

    def test_long_values_rejected_for_every_type(self):
        for question in (MC, MR, TF, NUM, MATCH, DESC):
            with pytest.raises(ResponseError):
                normalise_response(question, ["1" * 10_001])

    def test_matching(self):
        assert normalise_response(MATCH, ["Astana", "Rome", "Berlin"]) == {
            0: "Astana",
            1: "Rome",
            2: "Berlin",
        }
        assert normalise_response(MATCH, ["", "Paris"]) == {1: "Paris"}
        assert normalise_response(MATCH, [" Paris "]) == {0: "Paris"}
        assert normalise_response(MATCH, ["", "", "", ""]) is None
        assert normalise_response(MATCH, []) is None

    @pytest.mark.parametrize(
        "raw",
        [
            ["Moscow"],  # not one of the choices
            ["", "", "", "Paris"],  # the distractor has no field
            ["Astana"] * 5,  # more fields than answers
        ],
    )
    def test_matching_rejects(self, raw):
        with pytest.raises(ResponseError):
            normalise_response(MATCH, raw)

    def test_description_ignores_values(self):
        assert normalise_response(DESC, ["anything"]) is None

    @pytest.mark.parametrize("raw", ["1", [1], [None], ("1", 2), {"0": "1"}])
    def test_raw_must_be_strings(self, raw):
        with pytest.raises(ResponseError):
            normalise_response(MC, raw)  # type: ignore[arg-type]

    def test_none_raw_is_no_answer(self):
        assert normalise_response(MC, None) is None  # type: ignore[arg-type]

    def test_normalised_values_grade(self):
        questions = [MC, MR, TF, SA, NUM, MATCH, ESSAY, DESC]
        forms = [["0"], ["0", "1"], ["true"], ["FOUR"], ["3,1415"], ["Astana", "Paris", "Rome"],
                 ["essay"], []]  # fmt: skip
        responses = {
            i: normalise_response(question, raw)
            for i, (question, raw) in enumerate(zip(questions, forms, strict=True))
        }
        result = grade(questions, responses)
        assert [r.score for r in result.results] == [1.0] * 6 + [0.0, 0.0]
        assert result.score_percent == 100.0
        assert result.has_pending is True


def test_manual_question_objects():
    question = Question(
        "numerical",
        "",
        "n",
        [Answer("", 1.0, value=10.0, tolerance=None), Answer("", 0.5, min=None, max=None)],
    )
    assert one(question, 10.0).score == 1.0
    assert one(question, 11.0).score == 0.0


# --------------------------------------------------------------------------- the submit path


@pytest.mark.parametrize("question", [MC, MW, TF], ids=["multiple_choice", "missing_word", "true_false"])
@pytest.mark.parametrize("value", [
    "0", "1", "2", "3", "01", " 1", "1 ", "١", "²", "-1", "+1", "1.0", "999999999", "1234567890",
    "true", "false", "True", "FALSE", " true", "1\n", "t", "yes", "", " ", "\x00", "0x1",
])
def test_quiz_form_reading_takes_one_choice_as_normalise_response_does(question, value):
    """parse_responses reads a single choice without the general checks; same outcome."""
    from werkzeug.datastructures import MultiDict

    from learning.quizzes.services import QuizError, parse_responses

    def expected():
        if value == "":
            return {}
        try:
            return {0: normalise_response(question, [value])}
        except ResponseError:
            return QuizError

    try:
        got = parse_responses([{}], [question], MultiDict([("q0", value)]))
    except QuizError:
        got = QuizError
    assert got == expected()
