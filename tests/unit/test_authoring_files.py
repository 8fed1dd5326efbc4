"""Pure studio helpers: zips, image checks, quiz blocks, diffs, item analysis."""

from __future__ import annotations

import io
import stat
import zipfile
from datetime import UTC, datetime

import pytest
from PIL import Image

from learning.authoring import analysis
from learning.authoring.files import (
    Refused,
    check_image,
    diff_files,
    media_name,
    quiz_blocks,
    read_course_zip,
    replace_quiz_blocks,
    write_course_zip,
)

LIMITS = {"max_bytes": 50 * 1024 * 1024, "max_files": 100, "max_image_bytes": 5 * 1024 * 1024}


def image(fmt: str, size=(3, 2)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 20, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


def make_zip(entries: dict[str, bytes], modes: dict[str, int] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name)
            if modes and name in modes:
                info.external_attr = modes[name] << 16
            archive.writestr(info, data)
    return buffer.getvalue()


# --------------------------------------------------------------------------- images


@pytest.mark.parametrize(("fmt", "extension"), [("PNG", ".png"), ("JPEG", ".jpg"), ("GIF", ".gif"), ("WEBP", ".webp")])
def test_images_are_recognised_by_content(fmt, extension):
    info = check_image(image(fmt), 1_000_000)
    assert info.format == fmt and info.extension == extension and (info.width, info.height) == (3, 2)
    assert media_name("Фото приёма.JPEG", info) == f"media/image{extension}"
    assert media_name("My Photo (1).png", info) == f"media/my-photo-1{extension}"


@pytest.mark.parametrize("data", [
    b"", b"hello", b"<svg></svg>", b"%PDF-1.4", image("BMP"), image("TIFF"),
    b"\x89PNG\r\n\x1a\n" + b"\x00" * 30, b"GIF89a" + b"\x00" * 30, b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    image("PNG")[:40],
])
def test_anything_else_is_refused(data):
    with pytest.raises(Refused):
        check_image(data, 1_000_000)


def test_a_mismatch_between_magic_and_content_is_refused():
    # GIF magic bytes glued to a PNG: Pillow reads something, but not what the bytes claim
    with pytest.raises(Refused):
        check_image(b"GIF89a" + image("PNG"), 1_000_000)


def test_size_limit():
    with pytest.raises(Refused, match="larger than the limit of 10 bytes"):
        check_image(image("PNG"), 10)


# --------------------------------------------------------------------------- zips


def test_zip_in_a_course_folder_or_at_the_top():
    slug, files = read_course_zip(make_zip({"demo/course.yaml": b"a", "demo/media/x.png": image("PNG"),
                                            "demo/.hidden": b"x", "__MACOSX/demo/._x": b"x"}), **LIMITS)
    assert slug == "demo" and sorted(files) == ["course.yaml", "media/x.png"]
    slug, files = read_course_zip(make_zip({"course.yaml": b"a", "01-a.en.md": b"b"}), **LIMITS)
    assert slug is None and sorted(files) == ["01-a.en.md", "course.yaml"]


@pytest.mark.parametrize(("entries", "modes", "limits", "reason"), [
    ({"c/course.yaml": b"a", "c/../x": b"x"}, None, {}, "leaves the course folder"),
    ({"c/course.yaml": b"a", "/etc/passwd": b"x"}, None, {}, "absolute paths"),
    ({"c/course.yaml": b"a", "C:/x": b"x"}, None, {}, "absolute paths"),
    ({"c/course.yaml": b"a", "c\\..\\x": b"x"}, None, {}, "backslashes"),
    ({"c/course.yaml": b"a", "c/link": b"/etc"}, {"c/link": stat.S_IFLNK | 0o777}, {}, "symbolic links"),
    ({"c/course.yaml": b"a", "c/01-x.en.md": b"\xff\xfe bad"}, None, {}, "01-x.en.md:1: not UTF-8"),
    ({"c/course.yaml": b"a", "c/media/x.jpg": image("PNG")}, None, {}, "is a PNG image, not .jpg"),
    ({"c/course.yaml": b"a", "c/media/x.webp": b"nope"}, None, {}, "not a PNG, JPEG, GIF or WebP"),
    ({"c/course.yaml": b"a" * 2000}, None, {"max_bytes": 1000}, "limit of"),
    ({"c/course.yaml": b"a", "c/b.md": b"b"}, None, {"max_files": 1}, "at most 1 are allowed"),
    ({"a/course.yaml": b"a", "b/course.yaml": b"b"}, None, {}, "no course.yaml"),
    ({"c/01-x.en.md": b"b"}, None, {}, "no course.yaml"),
    ({"c/course.yaml": b"a", "c/./course.yaml": b"b"}, None, {}, "holds this path twice"),
])
def test_unsafe_zips_are_refused(entries, modes, limits, reason):
    with pytest.raises(Refused) as refused:
        read_course_zip(make_zip(entries, modes), **(LIMITS | limits))
    assert any(reason in r for r in refused.value.reasons), refused.value.reasons


def test_every_reason_is_given_at_once():
    with pytest.raises(Refused) as refused:
        read_course_zip(make_zip({"c/course.yaml": b"a", "../x": b"", "/y": b"", "c/l": b""},
                                 {"c/l": stat.S_IFLNK | 0o777}), **LIMITS)
    assert len(refused.value.reasons) == 3


def test_a_zip_bomb_is_refused_by_its_unpacked_size():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("c/course.yaml", b"a")
        archive.writestr("c/media/bomb.bin", b"\x00" * 3_000_000)
    assert len(buffer.getvalue()) < 100_000
    with pytest.raises(Refused, match="unpacked files come to"):
        read_course_zip(buffer.getvalue(), **(LIMITS | {"max_bytes": 1_000_000}))


@pytest.mark.parametrize("data", [b"", b"not a zip", b"PK\x03\x04garbage"])
def test_not_a_zip(data):
    with pytest.raises(Refused, match="not a zip archive"):
        read_course_zip(data, **LIMITS)


def test_written_zip_reads_back():
    files = {"course.yaml": "title: {en: x}\n".encode(), "media/a.png": image("PNG")}
    data = write_course_zip("demo", files, datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert read_course_zip(data, **LIMITS) == ("demo", files)
    assert data == write_course_zip("demo", files, datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC))  # deterministic


# --------------------------------------------------------------------------- quiz blocks


MODULE = """---
title: "M"
---

Intro.

```python
print("```quiz is not a quiz here")
```

```quiz
::A:: Old? {T}
```

Middle.

~~~quiz aiken
Old aiken?
A. x
B. y
ANSWER: A
~~~
"""


def test_quiz_blocks_are_found_like_the_parser_finds_them():
    blocks = quiz_blocks(MODULE)
    assert [(kind, line) for kind, line, _content in blocks] == [("gift", 12), ("aiken", 18)]
    assert blocks[0][2] == "::A:: Old? {T}"


def test_replacing_keeps_the_rest_and_leaves_one_block():
    text, replaced = replace_quiz_blocks(MODULE, "::B:: New? {F}\r\n")
    assert replaced == 2
    assert 'print("```quiz is not a quiz here")' in text and "Middle." in text
    assert [c for _k, _l, c in quiz_blocks(text)] == ["::B:: New? {F}"]
    assert "Old" not in text


def test_appending_when_there_is_no_quiz():
    text, replaced = replace_quiz_blocks("---\ntitle: x\n---\n\nBody.\n\n\n", "::Q:: ok? {T}")
    assert replaced == 0
    assert text == "---\ntitle: x\n---\n\nBody.\n\n```quiz\n::Q:: ok? {T}\n```\n"


def test_a_longer_fence_protects_backticks_in_the_questions():
    gift = "::Q::[markdown]Code:\n```\nx = 1\n```\n{=yes ~no}"
    text, _ = replace_quiz_blocks("---\ntitle: x\n---\n", gift)
    assert "````quiz" in text
    assert quiz_blocks(text)[0][2] == gift


# --------------------------------------------------------------------------- diffs


def test_diff_marks_added_removed_and_changed_lines_with_numbers():
    diffs = diff_files({"a.md": "one\ntwo\nthree\n", "gone.md": "x\n"}, {"media/p.png": "1"},
                       {"a.md": "one\n2\nthree\nfour\n", "new.md": "y\n"}, {"media/p.png": "2", "media/q.png": "3"})
    by_path = {d.path: d for d in diffs}
    a = by_path["a.md"]
    assert a.status == "changed" and (a.added, a.removed) == (2, 1)
    kinds = [(line.kind, line.old, line.new, line.text) for line in a.lines if line.kind != "hunk"]
    assert kinds == [("context", 1, 1, "one"), ("removed", 2, None, "two"), ("added", None, 2, "2"),
                     ("context", 3, 3, "three"), ("added", None, 4, "four")]
    assert by_path["gone.md"].status == "removed" and by_path["new.md"].status == "added"
    assert by_path["new.md"].lines[-1].text == "y"
    assert by_path["media/p.png"].status == "changed" and by_path["media/q.png"].status == "added"


# --------------------------------------------------------------------------- item analysis


MC = {"type": "multiple_choice", "title": "", "text": "Pick", "answers": [
    {"text": "right", "fraction": 1.0, "feedback": ""}, {"text": "wrong", "fraction": 0.0, "feedback": ""},
    {"text": "never", "fraction": 0.0, "feedback": ""}]}
TF = {"type": "true_false", "title": "", "text": "True?", "answers": [
    {"text": "true", "fraction": 1.0, "feedback": ""}, {"text": "false", "fraction": 0.0, "feedback": ""}]}


def attempt(id_, score, mc, tf, order=("mc", "tf")):
    questions = {"mc": dict(MC, source_index=0), "tf": dict(TF, source_index=1)}
    responses = {"mc": mc, "tf": tf}
    drawn = [questions[k] for k in order]
    right = {"mc": mc == 0, "tf": tf is True}
    return analysis.AttemptData(
        id_, "01-m", score, drawn,
        {str(i): responses[k] for i, k in enumerate(order) if responses[k] is not None},
        [{"score": float(right[k]), "is_correct": right[k], "is_pending": False, "feedback": []} for k in order],
    )


def test_statistics_group_by_source_index_whatever_the_display_order():
    attempts = [
        attempt(1, 100, 0, True), attempt(2, 50, 0, False, order=("tf", "mc")), attempt(3, 50, 1, True),
        attempt(4, 0, 1, False), attempt(5, 0, None, False, order=("tf", "mc")),
        attempt(6, 100, 0, True), attempt(7, 50, 0, False), attempt(8, 0, 1, False),
    ]
    (module,) = analysis.analyse(attempts)
    assert module.attempts == 8 and module.group_size == 2  # round(0.27 * 8)
    mc, tf = module.items
    assert (mc.source_index, tf.source_index) == (0, 1)
    assert mc.attempts == 8 and mc.correct == 4 and mc.percent_correct == 50.0 and mc.unanswered == 1
    assert [(c.label, c.count) for c in mc.choices] == [("right", 4), ("wrong", 3), ("never", 0)]
    assert [(c.label, c.count) for c in tf.choices] == [("true", 3), ("false", 5)]
    # upper group: attempts 6 and 1 (100, ids break the tie); lower: 4 and 5 (0, lowest ids)
    assert mc.discrimination == 1.0 and tf.discrimination == 1.0
    assert not mc.is_flagged and not mc.is_weak


def test_nobody_right_is_flagged_and_discrimination_needs_two_attempts():
    (module,) = analysis.analyse([attempt(1, 0, 1, False)])
    mc, tf = module.items
    assert mc.is_flagged and tf.is_flagged and mc.discrimination is None and module.group_size == 0
    assert [item.source_index for item in module.flagged] == [0, 1]


def test_pending_essays_are_counted_but_not_graded():
    essay = {"type": "essay", "title": "", "text": "Write", "answers": [], "source_index": 0}
    data = analysis.AttemptData(1, "m", 0, [essay], {"0": "text"},
                                [{"score": 0, "is_correct": False, "is_pending": True, "feedback": []}])
    (module,) = analysis.analyse([data])
    (item,) = module.items
    assert item.attempts == 1 and item.pending == 1 and item.graded == 0
    assert item.percent_correct is None and not item.is_flagged
