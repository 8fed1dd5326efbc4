"""learning.content.render: Markdown → sanitised HTML."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from learning.content.render import render_inline, render_markdown, sanitise_html

ATTACKS = Path(__file__).resolve().parents[3] / "shared/testdata/attacks"

FORBIDDEN_TAGS = {
    "script", "style", "iframe", "object", "embed", "form", "input", "button", "textarea",
    "select", "svg", "math", "meta", "link", "base", "frame", "frameset", "applet", "template",
    "video", "audio", "source", "isindex", "marquee", "keygen", "body", "html", "plaintext",
}  # fmt: skip
URL_ATTRIBUTES = {
    "href", "src", "srcset", "action", "formaction", "poster", "background", "cite", "longdesc",
    "xlink:href", "data", "lowsrc", "dynsrc", "codebase", "manifest", "ping",
}  # fmt: skip
BAD_SCHEME = re.compile(r"^(?:javascript|data|vbscript|livescript|mocha|file):", re.IGNORECASE)
WHITESPACE_AND_CONTROL = re.compile(r"[\x00-\x20\x7f-\x9f]+")


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, attrs))


def elements(html: str) -> list[tuple[str, dict[str, str]]]:
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return [(tag, {k: v or "" for k, v in attrs}) for tag, attrs in collector.elements]


def assert_safe(html: str) -> None:
    lowered = html.lower()
    assert "<script" not in lowered
    assert "<iframe" not in lowered and "<object" not in lowered and "<embed" not in lowered
    assert "<style" not in lowered
    for tag, attrs in elements(html):
        assert tag not in FORBIDDEN_TAGS, (tag, html)
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name, html)
            assert name not in {"style", "srcdoc", "formaction", "action"}, (tag, name, html)
            if name in URL_ATTRIBUTES:
                squeezed = WHITESPACE_AND_CONTROL.sub("", value)
                assert not BAD_SCHEME.match(squeezed), (tag, name, value, html)
                scheme = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*):", squeezed)
                assert scheme is None or scheme.group(1).lower() in {"http", "https", "mailto"}, (
                    tag, name, value,
                )  # fmt: skip


def _payloads(name: str) -> list[str]:
    lines = (ATTACKS / name).read_text(encoding="utf-8", errors="replace").splitlines()
    return [line for line in lines if line.strip()]


HTML_PAYLOADS = _payloads("xss_payloads.txt")
MARKDOWN_PAYLOADS = _payloads("xss_markdown_payloads.txt")


def test_payload_files_are_there():
    assert len(HTML_PAYLOADS) > 300
    assert len(MARKDOWN_PAYLOADS) >= 4


@pytest.mark.parametrize("payload", HTML_PAYLOADS + MARKDOWN_PAYLOADS)
def test_payload_is_neutralised_everywhere(payload):
    assert_safe(render_markdown(payload))
    assert_safe(render_markdown(payload, media_base_url="/m/", link_base_url="/c/"))
    assert_safe(render_markdown(f"# Title\n\n> {payload}\n\n* {payload}\n\n| a |\n|---|\n| {payload} |\n"))
    assert_safe(render_markdown(f'[link]({payload}) ![img]({payload}) <a href="{payload}">x</a>'))
    assert_safe(sanitise_html(payload))
    for text_format in ("markdown", "html", "plain", "moodle"):
        assert_safe(render_inline(payload, text_format))


def test_all_payloads_in_one_document_are_neutralised():
    assert_safe(render_markdown("\n\n".join(HTML_PAYLOADS + MARKDOWN_PAYLOADS)))


def test_checker_catches_what_it_should():
    # The checker itself must fail on unsafe output, or the payload tests prove nothing.
    for unsafe in (
        "<script>x</script>",
        '<img src="x" onerror="alert(1)">',
        '<a href=" java\tscript:alert(1)">x</a>',
        '<a href="data:text/html,x">x</a>',
        '<p style="color:red">x</p>',
        '<iframe src="https://e.com"></iframe>',
    ):
        with pytest.raises(AssertionError):
            assert_safe(unsafe)


def test_markdown_links_with_bad_schemes_lose_their_href():
    html = render_markdown("[a](javascript:alert(1)) [b](JaVaScRiPt:alert(1)) [c](vbscript:x) [d](data:text/html,x)")
    assert "href" not in html
    assert html.count("<a") == 4


def test_spaced_out_scheme_is_dropped_not_passed_as_relative():
    html = render_markdown('<a href="j a v a s c r i p t:alert(1)">x</a>')
    assert "href" not in html


def test_event_handlers_styles_and_unknown_classes_are_stripped():
    html = render_markdown(
        '<div class="admonition evil" style="color:red" onclick="x" id="csrf_token">d</div>'
    )
    assert html == '<div class="admonition">d</div>'


def test_tables_keep_alignment():
    html = render_markdown("| a | b | c |\n|:--|:-:|--:|\n| 1 | 2 | 3 |\n")
    tags = elements(html)
    assert [t for t, _ in tags][:2] == ["table", "thead"]
    aligns = [a.get("align") for t, a in tags if t in ("th", "td")]
    assert aligns == ["left", "center", "right", "left", "center", "right"]
    assert "style" not in html


def test_footnotes_survive_with_matching_anchors():
    html = render_markdown("Text[^1].\n\n[^1]: A note.\n")
    tags = elements(html)
    sup = next(a for t, a in tags if t == "sup")
    ref = next(a for t, a in tags if t == "a" and a.get("class") == "footnote-ref")
    back = next(a for t, a in tags if t == "a" and a.get("class") == "footnote-backref")
    item = next(a for t, a in tags if t == "li")
    assert ref["href"] == "#" + item["id"]
    assert back["href"] == "#" + sup["id"]
    assert '<div class="footnote">' in html
    assert "rel=" not in html  # internal anchors are not external links


def test_admonition_survives():
    html = render_markdown('!!! warning "Осторожно"\n    Не перебивайте гражданина.\n')
    assert '<div class="admonition warning">' in html
    assert '<p class="admonition-title">Осторожно</p>' in html


def test_details_survive():
    html = render_markdown('??? note "Подробнее"\n    Скрытый текст.\n')
    assert '<details class="note">' in html
    assert "<summary>Подробнее</summary>" in html
    raw = render_markdown("<details open><summary>S</summary>\n\nBody\n\n</details>")
    assert "<details open" in raw and "<summary>S</summary>" in raw


def test_toc_ids_keep_cyrillic_and_kazakh_and_are_prefixed():
    html = render_markdown("[TOC]\n\n## Приветствие\n\n## Сәлемдесу\n")
    assert '<h2 id="h-приветствие">' in html
    assert '<h2 id="h-сәлемдесу">' in html
    assert '<div class="toc">' in html
    assert 'href="#h-приветствие"' in html
    assert "¶" not in html  # permalinks off


def test_attr_list_is_off():
    html = render_markdown('## Title {: onclick="x" #evil .cls }\n')
    assert "onclick" not in elements(html)[0][1]
    assert elements(html)[0][1].get("class") is None


def test_fenced_code_keeps_language_class_and_escapes():
    html = render_markdown("```python\nprint('<script>')\n```\n")
    assert '<pre><code class="language-python">' in html
    assert "&lt;script&gt;" in html


def test_media_and_module_links_are_rewritten():
    html = render_markdown(
        "![Приветствие](media/greeting.png) [see](media/doc.pdf) [next](02-greetings.ru.md) "
        "[next2](02-greetings#h-x) [ext](https://example.kz/a) [mail](mailto:a@b.kz) [top](#h-a) "
        "[other](SOURCES.md)",
        media_base_url="/courses/basics/media-base/",
        link_base_url="/courses/basics/",
    )
    attrs = {a.get("src") or a.get("href"): a for t, a in elements(html) if t in ("a", "img")}
    assert "/courses/basics/media-base/media/greeting.png" in attrs
    assert "/courses/basics/media-base/media/doc.pdf" in attrs
    assert "/courses/basics/02-greetings" in attrs
    assert "/courses/basics/02-greetings#h-x" in attrs
    assert attrs["https://example.kz/a"]["rel"] == "noopener noreferrer"
    assert "rel" not in attrs["/courses/basics/02-greetings"]
    assert "mailto:a@b.kz" in attrs and "#h-a" in attrs and "SOURCES.md" in attrs


def test_default_bases_leave_relative_urls_relative():
    html = render_markdown("![a](./media/a.png) [b](03-x.kk.md)")
    assert 'src="media/a.png"' in html and 'href="03-x"' in html


def test_images_keep_safe_attributes_only():
    html = sanitise_html('<img src="media/a.png" alt="A" title="T" width="100" height="50%" class="x" style="a">')
    assert elements(html) == [("img", {"src": "media/a.png", "alt": "A", "title": "T", "width": "100", "height": "50%"})]


def test_sanitise_html_keeps_basic_formatting():
    html = sanitise_html("<p><strong>a</strong> <em>b</em> <sub>1</sub><sup>2</sup><br><abbr title='x'>X</abbr></p><hr>")
    assert html == '<p><strong>a</strong> <em>b</em> <sub>1</sub><sup>2</sup><br><abbr title="x">X</abbr></p><hr>'


def test_render_inline_formats():
    assert render_inline("**Сәлем** досым", "markdown") == "<strong>Сәлем</strong> досым"
    assert render_inline("a\n\nb", "markdown") == "<p>a</p>\n<p>b</p>"
    assert render_inline("<b>x</b><script>1</script>", "html") == "<b>x</b>"
    assert render_inline("<b>x</b>\ny", "plain") == "&lt;b&gt;x&lt;/b&gt;<br>\ny"
    assert render_inline("<b>x</b>\ny<img src=x onerror=alert(1)>", "moodle") == '<b>x</b><br>\ny<img src="x">'
    assert render_inline('<a title="a\nb" href="https://e.kz">l</a>', "moodle").startswith('<a title="a\nb"')


def test_render_is_cached_and_deterministic():
    text = "# A\n\nB[^1]\n\n[^1]: c"
    assert render_markdown(text) == render_markdown(text)


@pytest.mark.parametrize("chunk", range(8))
def test_naughty_strings_never_raise(chunk):
    lines = (ATTACKS / "blns.txt").read_text(encoding="utf-8", errors="replace").splitlines()
    for line in lines[chunk::8]:
        assert_safe(render_markdown(line))
        assert_safe(render_inline(line, "moodle"))
        assert_safe(render_inline(line, "markdown"))
