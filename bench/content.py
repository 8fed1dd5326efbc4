"""Course folders the benchmarks sync: written into a temporary COURSES_DIR, never into courses/.

- `write_bench_course`: a course with a ~20 KB reading module (## sections, lists, a table,
  an admonition) and a module with a 30-question GIFT quiz (multiple choice, true/false,
  short answer), in the format of DESIGN.md ("Course format").
- `write_sync_library`: 200 modules (10 courses x 20) for timing `flask courses sync`.
"""

from __future__ import annotations

import random
import textwrap
from pathlib import Path

READING_MODULE = "01-reading"
QUIZ_MODULE = "02-check"

_SUBJECTS = [
    "A citizen",
    "An elderly visitor",
    "A young mother",
    "A farmer from a distant village",
    "A student",
    "A veteran",
    "A newcomer to the district",
    "A local entrepreneur",
    "A member of a cultural centre",
    "A colleague from another department",
]
_ACTIONS = [
    "asks for help with a form",
    "speaks in the language of their family",
    "arrives just before closing time",
    "is upset about a delay",
    "wants to know why a decision was taken",
    "brings relatives to translate",
    "mentions a holiday that is important to their community",
    "is unsure how to address you",
    "complains that nobody listens",
    "asks whether the rules are the same for everyone",
]
_ADVICE = [
    "greet them calmly and use the form of address they prefer",
    "offer to continue in the language they choose, as far as you can",
    "explain the next step in plain words and check that it was understood",
    "keep the tone neutral and avoid jokes about origin, faith or accent",
    "write down the request so that nothing depends on memory",
    "name the rule and show where it is published",
    "thank them for their patience and give a realistic time",
    "ask a colleague who speaks the language to join, and say why",
]
_REASONS = [
    "trust grows when people feel they are treated as equals",
    "a small sign of respect prevents a long conflict",
    "the law guarantees equal treatment whatever the language or origin",
    "misunderstandings about words are more common than real disagreement",
    "a written answer protects both the citizen and the civil servant",
    "people remember how they were treated more than what they were told",
]


def _paragraph(rng: random.Random, sentences: int = 5) -> str:
    out = []
    for _ in range(sentences):
        out.append(
            f"{rng.choice(_SUBJECTS)} {rng.choice(_ACTIONS)}: {rng.choice(_ADVICE)}, "
            f"because {rng.choice(_REASONS)}."
        )
    return " ".join(out)


def reading_markdown(target_bytes: int = 19_500, seed: int = 8) -> str:
    """A module body of about `target_bytes` with ## sections."""
    rng = random.Random(seed)
    parts = [
        "---",
        'title: "Working with citizens of every community"',
        "duration_minutes: 25",
        "objectives:",
        '  - "Choose the language and the form of address the citizen prefers"',
        '  - "Keep a neutral, respectful tone when a conversation becomes tense"',
        "---",
        "",
        _paragraph(rng, 4),
        "",
    ]
    section = 0
    while sum(len(p) + 1 for p in parts) < target_bytes:
        section += 1
        parts += [f"## Situation {section}: {rng.choice(_ACTIONS)}", "", _paragraph(rng), ""]
        if section % 3 == 1:
            parts += (
                ["What to do:", ""]
                + [f"- {a.capitalize()}." for a in rng.sample(_ADVICE, 4)]
                + [""]
            )
        if section % 4 == 2:
            parts += [
                "| Situation | Do | Avoid |",
                "|---|---|---|",
                *(
                    f"| {rng.choice(_ACTIONS).capitalize()} | {rng.choice(_ADVICE)} | hurry, irony |"
                    for _ in range(4)
                ),
                "",
            ]
        if section % 5 == 3:
            parts += ['!!! note "Remember"', f"    {_paragraph(rng, 2)}", ""]
        parts += [_paragraph(rng, 4), ""]
    return "\n".join(parts)


def quiz_gift(n: int = 30, seed: int = 4) -> str:
    """`n` GIFT questions: multiple choice, true/false and short answer, mixed."""
    rng = random.Random(seed)
    questions = []
    for i in range(n):
        kind = ("mc", "mc", "tf", "sa", "mc")[i % 5]
        subject, action = rng.choice(_SUBJECTS), rng.choice(_ACTIONS)
        if kind == "mc":
            right, *wrong = rng.sample(_ADVICE, 4)
            questions.append(
                f"::Q{i + 1}:: {subject} {action}. What do you do first? {{\n"
                f"  ={right.capitalize()} #Yes: {rng.choice(_REASONS)}.\n"
                + "".join(f"  ~{w.capitalize()} #Not first.\n" for w in wrong)
                + "}"
            )
        elif kind == "tf":
            truth = rng.random() < 0.5
            questions.append(
                f"::Q{i + 1}:: It is acceptable to answer in a language the citizen does not "
                f"understand when {action.split(' ', 1)[-1]}. {{{'T' if truth else 'F'}"
                f"#Think about who carries the burden.#Right.}}"
            )
        else:
            questions.append(
                f"::Q{i + 1}:: One word: what grows when people feel they are treated as equals? "
                "{=trust =confidence #Trust is the word the course uses.}"
            )
    return "\n\n".join(questions)


def _quiz_module() -> str:
    return textwrap.dedent(
        """\
        ---
        title: "Knowledge check"
        duration_minutes: 15
        ---

        Thirty questions on the reading module. Choose the best answer.

        ```quiz
        {quiz}
        ```
        """
    ).replace("{quiz}", quiz_gift())


def _course_yaml(title: str) -> str:
    return textwrap.dedent(
        f"""\
        title: {{en: "{title}", ru: "{title} (ru)"}}
        description: {{en: "A course written by the benchmark suite."}}
        languages: [en]
        duration_minutes: 40
        completion: {{modules: all, quizzes: all}}
        quiz: {{passing_score: 80, max_attempts: null, shuffle: true, show_answers: after_submit}}
        validity_months: 24
        """
    )


def write_bench_course(
    root: Path, slug: str = "bench-course", title: str = "Benchmark course", *, reading: bool = True
) -> Path:
    """The course of the learner scenarios (20 KB reading module + 30-question quiz); the
    quiz-submission scenario uses copies without the reading module (faster to sync)."""
    folder = root / slug
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "course.yaml").write_text(_course_yaml(title))
    if reading:
        (folder / f"{READING_MODULE}.en.md").write_text(reading_markdown())
    (folder / f"{QUIZ_MODULE}.en.md").write_text(_quiz_module())
    return folder


def write_sync_library(root: Path, courses: int = 10, modules: int = 20) -> int:
    """`courses` x `modules` modules (~3 KB each, a 5-question quiz in every fourth). Returns the count."""
    rng = random.Random(200)
    small_quiz = quiz_gift(5, seed=5)
    count = 0
    for c in range(courses):
        folder = root / f"sync-course-{c + 1:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "course.yaml").write_text(_course_yaml(f"Sync course {c + 1}"))
        for m in range(modules):
            body = [
                "---",
                f'title: "Module {m + 1}"',
                "duration_minutes: 10",
                "---",
                "",
                _paragraph(rng, 3),
                "",
            ]
            for s in range(3):
                body += [f"## Part {s + 1}", "", _paragraph(rng, 5), ""]
            if m % 4 == 3:
                body += ["```quiz", small_quiz, "```", ""]
            (folder / f"{m + 1:02d}-module-{m + 1:02d}.en.md").write_text("\n".join(body))
            count += 1
    return count
