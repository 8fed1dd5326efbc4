"""Attack corpora and a checker that HTML contains nothing executable."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

from tests.conftest import SHARED_DIR

ATTACKS = SHARED_DIR / "testdata" / "attacks"
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background",
                  "srcset", "cite", "longdesc", "ping"}
FORBIDDEN_TAGS = {"iframe", "object", "embed", "base", "style", "applet", "frame", "frameset", "svg",
                  "math", "template"}


def xss_payloads() -> list[str]:
    lines = (ATTACKS / "xss_payloads.txt").read_text(errors="replace").splitlines()
    lines += (ATTACKS / "xss_markdown_payloads.txt").read_text(errors="replace").splitlines()
    return [line for line in lines if line.strip()]


def naughty_strings() -> list[str]:
    return json.loads((ATTACKS / "blns.json").read_text())


class _ExecutableFinder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.in_script = False

    def handle_starttag(self, tag, attrs):
        tag = tag.lower()
        attributes = {k.lower(): (v or "") for k, v in attrs}
        if tag in FORBIDDEN_TAGS:
            self.problems.append(f"<{tag}>")
        if tag == "script":
            self.in_script = True
            if not attributes.get("src", "").startswith("/static/js/"):
                self.problems.append(f"script without our src: {attributes}")
        if tag == "link" and not attributes.get("href", "").startswith("/static/"):
            self.problems.append(f"foreign link: {attributes}")
        if tag == "meta" and "http-equiv" in attributes:
            self.problems.append("meta http-equiv")
        for name, value in attributes.items():
            if name.startswith("on"):
                self.problems.append(f"event handler {name} on <{tag}>")
            if name == "style":
                self.problems.append(f"style attribute on <{tag}>")
            if name in URL_ATTRIBUTES:
                squashed = re.sub(r"[\x00-\x20]+", "", value).lower()
                if squashed.startswith(("javascript:", "vbscript:", "data:", "livescript:")):
                    self.problems.append(f"{name}={value[:60]!r} on <{tag}>")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag.lower() == "script":
            self.in_script = False

    def handle_data(self, data):
        if self.in_script and data.strip():
            self.problems.append(f"inline script: {data[:60]!r}")


def executable_parts(html: str) -> list[str]:
    finder = _ExecutableFinder()
    finder.feed(html)
    finder.close()
    return finder.problems
