"""Compiled templates on disk (TEMPLATE_CACHE_DIR): a new app reuses them, a changed template
is compiled again, and a cache that cannot be read or written never fails a page."""

from __future__ import annotations

import re

import jinja2

from learning import create_app
from learning.extensions import db
from learning.template_cache import TemplateBytecodeCache
from tests.conftest import make_config


def _app(tmp_path, cache_dir):
    (tmp_path / "courses").mkdir(exist_ok=True)
    app = create_app(make_config(tmp_path, TEMPLATE_CACHE_DIR=str(cache_dir) if cache_dir else None))
    compiled = []
    original = app.jinja_env.compile

    def counting_compile(source, name=None, filename=None, *args, **kwargs):
        compiled.append(name)
        return original(source, name, filename, *args, **kwargs)

    app.jinja_env.compile = counting_compile
    return app, compiled


def _login_page(app) -> str:
    with app.app_context():
        response = app.test_client().get("/login")
        db.session.remove()
        db.engine.dispose()
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _without_tokens(html: str) -> str:
    return re.sub(r'(name="csrf_token"[^>]*value=")[^"]+|(value=")[^"]+("[^>]*name="csrf_token")', "", html)


def test_a_new_app_reuses_the_compiled_templates(tmp_path):
    cache = tmp_path / "template-cache"
    first, compiled_first = _app(tmp_path, cache)
    html_first = _login_page(first)
    assert "base.html" in compiled_first
    assert len(list(cache.glob("kelisim-*.cache"))) >= len(compiled_first)

    second, compiled_second = _app(tmp_path, cache)
    html_second = _login_page(second)
    assert compiled_second == []  # every template came from the cache
    assert _without_tokens(html_second) == _without_tokens(html_first)


def test_tests_and_an_empty_setting_compile_in_memory(tmp_path):
    app, compiled = _app(tmp_path, None)
    assert app.jinja_env.bytecode_cache is None
    _login_page(app)
    assert "base.html" in compiled


def test_a_cache_that_cannot_be_used_never_fails_a_page(tmp_path):
    # A folder that cannot be created: no cache, the page renders.
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    app, compiled = _app(tmp_path, blocker / "cache")
    assert app.jinja_env.bytecode_cache is None
    _login_page(app)

    # Damaged entries are compiled again (and replaced).
    cache = tmp_path / "template-cache"
    _login_page(_app(tmp_path, cache)[0])
    for entry in cache.glob("kelisim-*.cache"):
        entry.write_bytes(entry.read_bytes()[:40])
    app, compiled = _app(tmp_path, cache)
    _login_page(app)
    assert "base.html" in compiled

    # A folder that cannot be written (removed after start-up): the page renders.
    gone = tmp_path / "gone"
    app, _compiled = _app(tmp_path, gone)
    gone.rmdir()
    _login_page(app)


def test_a_changed_template_is_compiled_again(tmp_path):
    templates, cache = tmp_path / "templates", tmp_path / "cache"
    templates.mkdir()
    cache.mkdir()
    page = templates / "page.html"

    def render():
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(templates)),
            bytecode_cache=TemplateBytecodeCache(str(cache), "kelisim-test-%s.cache"),
        )
        return env.get_template("page.html").render(name="Aigerim")

    page.write_text("Hello {{ name }}")
    assert render() == "Hello Aigerim"
    assert render() == "Hello Aigerim"  # from the cache
    page.write_text("Сәлем {{ name }}!")
    assert render() == "Сәлем Aigerim!"
