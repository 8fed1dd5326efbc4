"""The embedded SQLite database: pragmas and BEGIN IMMEDIATE for concurrent writers."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from learning.accounts.models import OrgUnit
from learning.extensions import db
from tests.conftest import TEST_DATABASE_URL

pytestmark = pytest.mark.skipif(bool(TEST_DATABASE_URL), reason="SQLite-specific")


def test_pragmas(app):
    with app.app_context():
        assert db.session.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
        assert db.session.execute(sa.text("PRAGMA busy_timeout")).scalar() >= 5000


def test_concurrent_read_then_write_transactions_do_not_fail(app):
    """Deferred transactions that read and then write fail with "database is locked";
    BEGIN IMMEDIATE makes writers queue instead."""
    errors: list[Exception] = []
    barrier = threading.Barrier(8)

    def worker(n: int):
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                for i in range(10):
                    count = db.session.scalar(sa.select(sa.func.count(OrgUnit.id)))
                    db.session.add(OrgUnit(name=f"u{n}-{i}", path=f"/{n}-{i}-{count}/", full_name="x"))
                    db.session.commit()
            except Exception as error:  # noqa: BLE001 - collected and asserted below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(OrgUnit.id))) == 80
