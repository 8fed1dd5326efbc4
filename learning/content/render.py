"""Markdown → sanitised HTML for course modules and quiz texts.

Pure module: no Flask, no database.  Authors' Markdown (and any raw HTML in it) is
rendered with Python-Markdown and then cleaned with nh3 against a strict allow-list,
so whatever a course file contains, the output carries no scripts, event handlers,
``javascript:``/``data:`` URLs, styles or embedded objects.

Relative URLs are rewritten while sanitising:

* ``media/…`` (images, downloads) → ``media_base_url + "media/…"``;
* a link to a sibling module file (``02-greetings.ru.md`` or ``02-greetings``,
  optionally with ``#fragment``) → ``link_base_url + "02-greetings"``.

Element ids are allowed only in the shapes this renderer produces itself (``h-…`` for
headings, ``fn-…``/``fnref-…`` for footnotes), so author HTML cannot clobber ids the
page relies on.
"""

from __future__ import annotations

import html
import posixpath
import re
import threading
from functools import lru_cache
from typing import TYPE_CHECKING

import nh3

from learning.validation import is_digits

if TYPE_CHECKING:
    import markdown

__all__ = ["render_markdown", "render_inline", "sanitise_html"]

_ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "details",
    "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small",
    "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
    "tr", "u", "ul", "var",
}  # fmt: skip
# Tags removed together with everything inside them (rather than unwrapped).
_CLEAN_CONTENT_TAGS = {
    "script", "style", "template", "noscript", "iframe", "object", "embed", "svg", "math",
    "textarea", "select", "button", "title", "xmp", "noembed", "noframes",
}  # fmt: skip
_CLASS_TAGS = {"div", "span", "sup", "a", "li", "ol", "code", "pre", "p", "details"}
_ID_TAGS = {"h1", "h2", "h3", "h4", "h5", "h6", "sup", "li"}
_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "dfn": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "details": {"open"},
    "q": {"cite"},
    "blockquote": {"cite"},
}
for _tag in _CLASS_TAGS:
    _ATTRIBUTES.setdefault(_tag, set()).add("class")
for _tag in _ID_TAGS:
    _ATTRIBUTES.setdefault(_tag, set()).add("id")
_TAG_ATTRIBUTE_VALUES = {
    "th": {"align": {"left", "center", "right"}},
    "td": {"align": {"left", "center", "right"}},
}
_URL_SCHEMES = {"http", "https", "mailto"}

_SAFE_CLASS = re.compile(
    r"(?:admonition|admonition-title|note|tip|hint|important|warning|caution|attention|danger"
    r"|error|info|success|question|example|quote|seealso|footnote|footnote-ref"
    r"|footnote-backref|toc|toctitle|language-[a-z0-9+#_-]{1,30})"
)
_SAFE_ID = re.compile(r"(?:h|fn|fnref)-[\w-]{1,120}")
_DIMENSION = re.compile(r"\d{1,5}%?")
_SCHEME_LIKE = re.compile(r"^[a-z][a-z0-9+.\-]*:", re.IGNORECASE)
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f-\x9f\u00a0\u1680\u2000-\u200f\u2028-\u202f\u205f\u3000\ufeff]+")
_MODULE_LINK = re.compile(r"(\d+-[a-z0-9][a-z0-9_-]*?)(?:\.(?:kk|ru|en)\.md)?(#[^#]*)?")


def _heading_slug(value: str, separator: str) -> str:
    from markdown.extensions.toc import slugify_unicode

    # Prefix heading ids so they can never collide with ids of the page around them.
    return "h-" + (slugify_unicode(value, separator) or "section")


_MD_EXTENSIONS = [
    "tables",
    "footnotes",
    "admonition",
    "toc",
    "fenced_code",
    "sane_lists",
    "abbr",
    "pymdownx.details",
]
_MD_CONFIG = {
    "tables": {"use_align_attribute": True},
    "footnotes": {"SEPARATOR": "-"},
    "toc": {"permalink": False, "slugify": _heading_slug},
}
_local = threading.local()


def _markdown() -> markdown.Markdown:
    md = getattr(_local, "md", None)
    if md is None:
        # Imported on first render: CLI commands that only read or validate courses (and a
        # web worker serving cached pages) never pay for Python-Markdown and its extensions.
        import markdown

        md = markdown.Markdown(extensions=_MD_EXTENSIONS, extension_configs=_MD_CONFIG)
        _local.md = md
    return md


def _attribute_filter(tag: str, attr: str, value: str) -> str | None:
    """Keep only the attribute values this renderer itself produces.

    Must never raise (nh3 would report it through ``sys.unraisablehook``) and must never
    produce URLs: nh3 does not re-check what this returns.
    """
    if attr == "class":
        kept = [c for c in value.split() if _SAFE_CLASS.fullmatch(c)]
        return " ".join(kept) or None
    if attr == "id":
        return value if _SAFE_ID.fullmatch(value) else None
    if attr in ("width", "height"):
        return value if _DIMENSION.fullmatch(value.strip()) else None
    if attr in ("start", "colspan", "rowspan"):
        return value if is_digits(value.strip()) and len(value.strip()) < 5 else None
    return value


def _make_url_rewriter(media_base_url: str, link_base_url: str):
    def rewrite(url: str) -> str | None:
        try:
            squeezed = _CONTROL_OR_SPACE.sub("", url)
            if _SCHEME_LIKE.match(squeezed):
                # "j a v a s c r i p t:…" and the like: not a relative URL at all.
                return None
            if url.startswith(("#", "/", "?")):
                return url
            path = url
            while path.startswith("./"):
                path = path[2:]
            if path.startswith("media/"):
                return media_base_url + path
            match = _MODULE_LINK.fullmatch(path)
            if match:
                return link_base_url + match.group(1) + (match.group(2) or "")
            normal = posixpath.normpath(path)
            if normal.startswith("media/"):
                return media_base_url + normal
            return url
        except Exception:  # pragma: no cover - defensive, see _attribute_filter
            return None

    return rewrite


@lru_cache(maxsize=32)
def _cleaner(media_base_url: str, link_base_url: str) -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=_ALLOWED_TAGS,
        clean_content_tags=_CLEAN_CONTENT_TAGS,
        attributes=_ATTRIBUTES,
        attribute_filter=_attribute_filter,
        tag_attribute_values=_TAG_ATTRIBUTE_VALUES,
        url_schemes=_URL_SCHEMES,
        url_relative=_make_url_rewriter(media_base_url, link_base_url),
        link_rel=None,  # added below to external links only
        strip_comments=True,
    )


# An <a> start tag in nh3's normalised output (values double-quoted, no raw '"' inside).
_A_TAG = re.compile(r'<a((?:\s+[^\s="<>/]+(?:="[^"]*")?)*)\s*>')
_EXTERNAL_HREF = re.compile(r'\shref="(?:https?:)?//', re.IGNORECASE)


def _external_rel(match: re.Match[str]) -> str:
    attrs = match.group(1)
    if _EXTERNAL_HREF.search(attrs):
        return f'<a{attrs} rel="noopener noreferrer">'
    return match.group(0)


def sanitise_html(html_text: str, *, media_base_url: str = "", link_base_url: str = "") -> str:
    """Clean an HTML fragment against the course allow-list (used for GIFT ``[html]``).

    External http(s) links get ``rel="noopener noreferrer"``.
    """
    cleaned = _cleaner(media_base_url, link_base_url).clean(str(html_text))
    return _A_TAG.sub(_external_rel, cleaned)


@lru_cache(maxsize=512)
def render_markdown(text: str, *, media_base_url: str = "", link_base_url: str = "") -> str:
    """Render author Markdown to sanitised HTML (cached by its arguments)."""
    md = _markdown()
    try:
        raw = md.reset().convert(str(text))
    except Exception:  # noqa: BLE001 - a renderer must not take a page down
        md.reset()
        raw = "<pre>" + html.escape(str(text)) + "</pre>"
    return sanitise_html(raw, media_base_url=media_base_url, link_base_url=link_base_url)


_SINGLE_PARAGRAPH = re.compile(r"\A\s*<p>(.*)</p>\s*\Z", re.DOTALL)
# A tag in nh3's normalised output: attribute values are double-quoted and contain no '"'.
_TAG = re.compile(r'<(?:[^>"]|"[^"]*")*>')


def _newlines_to_br(fragment: str) -> str:
    out: list[str] = []
    pos = 0
    for match in _TAG.finditer(fragment):
        out.append(fragment[pos : match.start()].replace("\n", "<br>\n"))
        out.append(match.group(0))
        pos = match.end()
    out.append(fragment[pos:].replace("\n", "<br>\n"))
    return "".join(out)


def render_inline(text: str, text_format: str = "moodle", *, media_base_url: str = "") -> str:
    """Render a quiz question, answer or feedback text to sanitised HTML.

    ``markdown``: rendered; a lone paragraph is unwrapped so it can sit inline.
    ``html``: sanitised.  ``plain``: escaped, newlines kept as ``<br>``.
    ``moodle`` (GIFT default): simple HTML allowed (sanitised), newlines become ``<br>``.
    """
    text = "" if text is None else str(text)
    fmt = (text_format or "moodle").lower()
    if fmt == "markdown":
        out = render_markdown(text, media_base_url=media_base_url)
        match = _SINGLE_PARAGRAPH.match(out)
        if match and "<p>" not in match.group(1):
            return match.group(1)
        return out
    if fmt == "html":
        return sanitise_html(text, media_base_url=media_base_url).strip()
    if fmt == "plain":
        return html.escape(text.strip()).replace("\n", "<br>\n")
    cleaned = sanitise_html(text.strip(), media_base_url=media_base_url)
    return _newlines_to_br(cleaned)
