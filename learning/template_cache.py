"""Compiled templates kept on disk (TEMPLATE_CACHE_DIR), so that a new worker or command does
not compile its templates again: Jinja's parser and code generator take a few hundredths of a
second for the templates of one page, paid by the first request of every worker.

An entry is used only for the same template source (Jinja checks a checksum of it), the same
Python (in Jinja's header) and the same Jinja version and environment settings (in the file
name), so a changed template or an upgrade is compiled again, never served stale.
"""

from __future__ import annotations

import hashlib
import os

from flask import Flask
from jinja2.bccache import Bucket, FileSystemBytecodeCache


class TemplateBytecodeCache(FileSystemBytecodeCache):
    """Jinja's file-system cache that never fails a page: an unreadable or damaged entry is
    compiled again, and one that cannot be written is simply not kept."""

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # noqa: BLE001 - a damaged file (EOFError, ValueError, ...)
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            pass


def _fingerprint(app: Flask) -> str:
    import jinja2

    env = app.jinja_env
    settings = (
        jinja2.__version__,
        sorted(env.extensions),
        env.block_start_string, env.block_end_string, env.variable_start_string,
        env.variable_end_string, env.comment_start_string, env.comment_end_string,
        env.line_statement_prefix, env.line_comment_prefix, env.trim_blocks, env.lstrip_blocks,
        env.newline_sequence, env.keep_trailing_newline, env.optimized, env.is_async,
        env.autoescape if isinstance(env.autoescape, bool) else "select",
    )
    return hashlib.sha256(repr(settings).encode()).hexdigest()[:16]


def install(app: Flask) -> None:
    """Use the on-disk cache when TEMPLATE_CACHE_DIR is set (call after every extension is
    added to app.jinja_env). A folder that cannot be created only means no cache."""
    directory = app.config.get("TEMPLATE_CACHE_DIR")
    if not directory:
        return
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
    except OSError as error:
        app.logger.warning("template cache disabled: cannot create %s (%s)", directory, error)
        return
    app.jinja_env.bytecode_cache = TemplateBytecodeCache(
        str(directory), f"kelisim-{_fingerprint(app)}-%s.cache"
    )
