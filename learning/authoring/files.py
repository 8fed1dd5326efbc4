"""Pure helpers of the studio: course zips, image checks, quiz blocks, diffs.

No Flask, no database: these take bytes and text and return values or raise
:class:`Refused` with every reason at once, so the views can show them as form errors.
"""

from __future__ import annotations

import difflib
import io
import posixpath
import re
import stat
import struct
import unicodedata
import warnings
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from learning.content.parser import FENCE_OPEN, quiz_kind

__all__ = [
    "Refused",
    "ImageInfo",
    "check_image",
    "media_name",
    "read_course_zip",
    "write_course_zip",
    "replace_quiz_blocks",
    "quiz_blocks",
    "module_file_name",
    "FileDiff",
    "diff_files",
]

TEXT_SUFFIXES = (".md", ".yaml", ".yml", ".txt")
IMAGE_SUFFIXES = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".gif": "GIF", ".webp": "WEBP"}
IMAGE_EXTENSIONS = {"PNG": ".png", "JPEG": ".jpg", "GIF": ".gif", "WEBP": ".webp"}
_MEDIA_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,79}")
_DRIVE = re.compile(r"^[A-Za-z]:")


def _plain(message: str, **values) -> str:
    """The default translator: the English message with its values."""
    return message % values if values else message


Translate = Callable[..., str]


class Refused(ValueError):
    """Input the studio refuses, with every reason (each a short sentence)."""

    def __init__(self, reasons: list[str]):
        super().__init__("; ".join(reasons))
        self.reasons = reasons


# --------------------------------------------------------------------------- images


@dataclass(frozen=True)
class ImageInfo:
    format: str  # PNG | JPEG | GIF | WEBP
    width: int
    height: int

    @property
    def extension(self) -> str:
        return IMAGE_EXTENSIONS[self.format]


def _magic_format(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    return None


def check_image(data: bytes, max_bytes: int, _: Translate = _plain) -> ImageInfo:
    """Accept a PNG, JPEG, GIF or WebP image judged by its content (never its name).

    The magic bytes must name one of the four formats and Pillow must read the file as that
    format and verify it. Raises Refused otherwise, or when it is larger than `max_bytes`.
    `_` translates the reasons (gettext; English by default).
    """
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise Refused([_("The file is empty.")])
    if len(data) > max_bytes:
        raise Refused([_("The image is larger than the limit of %(limit)s.", limit=human_size(max_bytes))])
    expected = _magic_format(data)
    if expected is None:
        raise Refused([_("The file is not a PNG, JPEG, GIF or WebP image.")])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                actual, size = image.format, image.size
                image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise Refused([_("The image has too many pixels.")]) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError,
            IndexError, TypeError, struct.error):
        raise Refused([_("The file is damaged or not a readable image.")]) from None
    if actual != expected:
        raise Refused([_("The file is not a PNG, JPEG, GIF or WebP image.")])
    return ImageInfo(actual, size[0], size[1])


def media_name(requested: str, info: ImageInfo) -> str:
    """`media/<name>.<ext>`: a safe lowercase name, the extension from the detected format."""
    stem = requested.strip().rsplit("/", 1)[-1].rsplit("\\", 1)[-1]
    if "." in stem:
        stem = stem.rsplit(".", 1)[0]
    stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode().lower()
    stem = re.sub(r"[^a-z0-9_-]+", "-", stem).strip("-_")[:80]
    if not stem or not _MEDIA_NAME.fullmatch(stem):
        stem = "image"
    return f"media/{stem}{info.extension}"


def human_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} bytes"


# --------------------------------------------------------------------------- zips


def _unsafe_reason(name: str, _: Translate) -> str | None:
    shown = repr(name)
    if "\x00" in name or any(ord(ch) < 32 for ch in name):
        return _("%(name)s: the path contains control characters", name=shown)
    if "\\" in name:
        return _("%(name)s: backslashes are not allowed in paths", name=shown)
    if name.startswith("/") or _DRIVE.match(name):
        return _("%(name)s: absolute paths are not allowed", name=shown)
    if any(part == ".." for part in name.split("/")):
        return _("%(name)s: the path leaves the course folder ('..')", name=shown)
    return None


def _is_skipped(name: str) -> bool:
    return any((part.startswith(".") and part != ".") or part == "__MACOSX" for part in name.split("/"))


def read_course_zip(
    data: bytes, *, max_bytes: int, max_files: int, max_image_bytes: int, _: Translate = _plain
) -> tuple[str | None, dict[str, bytes]]:
    """Read a zip of the course folder format, refusing anything unsafe (all reasons at once).

    Refused: not a zip, over `max_bytes` (packed, or unpacked in total), more than `max_files`
    entries, absolute paths, `..`, backslashes, symbolic links, encrypted entries, duplicate
    names, text files (.md/.yaml/.yml/.txt) that are not UTF-8, and files under `media/` named
    as images whose content is not that image. The files may sit at the top of the zip or in
    one folder (whose name is returned as the course slug, else None).
    """
    if len(data) > max_bytes:
        raise Refused([_("The zip is larger than the limit of %(limit)s.", limit=human_size(max_bytes))])
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise Refused([_("The file is not a zip archive (or it is damaged).")]) from None
    if len(infos) > max_files:
        raise Refused([_("The zip has %(count)d entries; at most %(limit)d are allowed.",
                         count=len(infos), limit=max_files)])

    reasons: list[str] = []
    entries: list[zipfile.ZipInfo] = []
    seen: set[str] = set()
    total = 0
    for info in infos:
        name = info.filename
        reason = _unsafe_reason(name, _)
        if reason:
            reasons.append(reason)
            continue
        if stat.S_ISLNK(info.external_attr >> 16):
            reasons.append(_("%(name)s: symbolic links are not allowed", name=repr(name)))
            continue
        if info.flag_bits & 0x1:
            reasons.append(_("%(name)s: encrypted files are not supported", name=repr(name)))
            continue
        if info.is_dir() or _is_skipped(name):
            continue
        normal = posixpath.normpath(unicodedata.normalize("NFC", name))
        if normal in seen:
            reasons.append(_("%(name)s: the zip holds this path twice", name=repr(name)))
            continue
        seen.add(normal)
        total += info.file_size
        entries.append(info)
    if total > max_bytes:
        reasons.append(_("The unpacked files come to %(size)s; the limit is %(limit)s.",
                         size=human_size(total), limit=human_size(max_bytes)))
    if reasons:
        raise Refused(reasons)

    names = [posixpath.normpath(unicodedata.normalize("NFC", i.filename)) for i in entries]
    slug, prefix = None, ""
    if "course.yaml" not in names:
        tops = {n.split("/", 1)[0] for n in names}
        if len(tops) == 1 and all("/" in n for n in names):
            top = next(iter(tops))
            if f"{top}/course.yaml" in names:
                slug, prefix = top, top + "/"
        if not prefix:
            raise Refused([_("The zip has no course.yaml (at its top, or in one course folder).")])

    files: dict[str, bytes] = {}
    for info, name in zip(entries, names, strict=True):
        if not name.startswith(prefix):
            reasons.append(_("%(name)s: outside the course folder %(folder)s",
                             name=repr(info.filename), folder=repr(prefix.rstrip("/"))))
            continue
        path = name[len(prefix):]
        try:
            with archive.open(info) as stream:
                content = stream.read(info.file_size + 1)
        # zipfile raises NotImplementedError for compression methods it cannot read.
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError,
                RuntimeError, zlib.error):
            reasons.append(_("%(name)s: cannot be read (damaged or unsupported compression)",
                             name=repr(info.filename)))
            continue
        if len(content) > info.file_size:
            reasons.append(_("%(name)s: larger than its header says", name=repr(info.filename)))
            continue
        lower = path.lower()
        if lower.endswith(TEXT_SUFFIXES):
            try:
                content.decode("utf-8")
            except UnicodeDecodeError as exc:
                line = content[: exc.start].count(b"\n") + 1
                reasons.append(_("%(path)s:%(line)d: not UTF-8 text (save the file as UTF-8)",
                                 path=path, line=line))
                continue
            if b"\x00" in content:
                line = content[: content.index(b"\x00")].count(b"\n") + 1
                reasons.append(_("%(path)s:%(line)d: contains a NUL character (binary data in a text file)",
                                 path=path, line=line))
                continue
        suffix = posixpath.splitext(lower)[1]
        if path.startswith("media/") and suffix in IMAGE_SUFFIXES:
            try:
                info_image = check_image(content, max_image_bytes, _)
            except Refused as refused:
                reasons.extend(f"{path}: {r}" for r in refused.reasons)
                continue
            if IMAGE_SUFFIXES[suffix] != info_image.format:
                reasons.append(_("%(path)s: the file is a %(format)s image, not %(suffix)s",
                                 path=path, format=info_image.format, suffix=suffix))
                continue
        files[path] = content
    if reasons:
        raise Refused(reasons)
    return slug, files


def write_course_zip(slug: str, files: dict[str, bytes], when: datetime) -> bytes:
    """A zip of the course folder `<slug>/…` (what `courses validate` and the import accept)."""
    stamp = (max(when.year, 1980), when.month, when.day, when.hour, when.minute, when.second)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(files):
            info = zipfile.ZipInfo(f"{slug}/{path}", date_time=stamp)
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[path])
    return buffer.getvalue()


# --------------------------------------------------------------------------- module files


def module_file_name(number: int, name: str, language: str) -> str:
    return f"{number:02d}-{name}.{language}.md"




def _body_start(lines: list[str]) -> int:
    """Index of the first line after the front matter (the parser reads fences from there)."""
    if lines and lines[0].rstrip() == "---":
        for index in range(1, len(lines)):
            if lines[index].rstrip() in ("---", "..."):
                return index + 1
    return 0


def _fenced_blocks(lines: list[str]):
    """(start, end, info) of every fenced block, found the way the course parser finds them
    (CommonMark: a closing fence of the same character, at least as long; unclosed runs to
    the end)."""
    index = _body_start(lines)
    while index < len(lines):
        opening = FENCE_OPEN.match(lines[index])
        if opening and not (opening["fence"][0] == "`" and "`" in opening["info"]):
            char, width = opening["fence"][0], len(opening["fence"])
            closing = re.compile(r"^ {0,3}" + re.escape(char) + "{" + str(width) + r",}\s*$")
            end = next((j for j in range(index + 1, len(lines)) if closing.match(lines[j])), len(lines))
            yield index, end, opening["info"]
            index = end + 1
            continue
        index += 1


def _split_lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def quiz_blocks(text: str) -> list[tuple[str, int, str]]:
    """(kind "gift"|"aiken", 1-based line of the block's first content line, content) of
    each quiz block of a module file."""
    lines = _split_lines(text)
    out = []
    for start, end, info in _fenced_blocks(lines):
        kind = quiz_kind(info)
        if kind is not None:
            out.append((kind, start + 2, "\n".join(lines[start + 1 : end])))
    return out


def _quiz_fence(gift: str) -> str:
    """A backtick fence longer than any backtick run that starts a line of the GIFT text."""
    longest = 0
    for line in gift.split("\n"):
        match = re.match(r"^ {0,3}(`+)", line)
        if match:
            longest = max(longest, len(match.group(1)))
    return "`" * max(3, longest + 1)


def replace_quiz_blocks(text: str, gift: str) -> tuple[str, int]:
    """Put `gift` as the module's one ```quiz block: in place of the first quiz block (other
    quiz blocks are removed), or appended at the end. Returns (new text, blocks replaced)."""
    gift = "\n".join(_split_lines(gift)).strip("\n")
    fence = _quiz_fence(gift)
    block = [f"{fence}quiz", *gift.split("\n"), fence]
    lines = _split_lines(text)
    out: list[str] = []
    replaced = 0
    position = 0
    for start, end, info in _fenced_blocks(lines):
        if quiz_kind(info) is None:
            continue
        out.extend(lines[position:start])
        if not replaced:
            out.extend(block)
        replaced += 1
        position = end + 1
    out.extend(lines[position:])
    if not replaced:
        while out and not out[-1].strip():
            out.pop()
        out.extend(["", *block])
    return "\n".join(out).rstrip("\n") + "\n", replaced


# --------------------------------------------------------------------------- diffs


@dataclass
class DiffLine:
    kind: str  # context | added | removed | hunk
    old: int | None
    new: int | None
    text: str


@dataclass
class FileDiff:
    path: str
    status: str  # added | removed | changed | unchanged
    is_media: bool = False
    lines: list[DiffLine] = field(default_factory=list)
    added: int = 0
    removed: int = 0


def _lines(text: str | None) -> list[str]:
    if not text:
        return []
    lines = text.split("\n")
    return lines[:-1] if lines[-1] == "" else lines


_HUNK = re.compile(r"^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@")


def _text_diff(path: str, old: str | None, new: str | None) -> FileDiff:
    status = "added" if old is None else "removed" if new is None else (
        "unchanged" if old == new else "changed"
    )
    result = FileDiff(path, status)
    if status == "unchanged":
        return result
    a, b = _lines(old), _lines(new)
    old_no = new_no = 0
    for raw in list(difflib.unified_diff(a, b, n=3, lineterm=""))[2:]:  # after the ---/+++ header
        hunk = _HUNK.match(raw)
        if hunk:
            old_no, new_no = int(hunk.group(1)), int(hunk.group(2))
            result.lines.append(DiffLine("hunk", None, None, raw))
        elif raw.startswith("+"):
            result.lines.append(DiffLine("added", None, new_no, raw[1:]))
            new_no += 1
            result.added += 1
        elif raw.startswith("-"):
            result.lines.append(DiffLine("removed", old_no, None, raw[1:]))
            old_no += 1
            result.removed += 1
        else:
            result.lines.append(DiffLine("context", old_no, new_no, raw[1:]))
            old_no += 1
            new_no += 1
    return result


def diff_files(
    old_files: dict[str, str], old_media: dict[str, str],
    new_files: dict[str, str], new_media: dict[str, str],
) -> list[FileDiff]:  # fmt: skip
    """Per-file unified diffs of the text files, and which media files came, went or changed."""
    diffs = [
        _text_diff(path, old_files.get(path), new_files.get(path))
        for path in sorted(set(old_files) | set(new_files))
    ]
    for path in sorted(set(old_media) | set(new_media)):
        old, new = old_media.get(path), new_media.get(path)
        status = "added" if old is None else "removed" if new is None else (
            "unchanged" if old == new else "changed"
        )
        diffs.append(FileDiff(path, status, is_media=True))
    return diffs
