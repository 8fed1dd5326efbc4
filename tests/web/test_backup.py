"""Backups: create, lose data, restore, and the record chain still holds."""

from __future__ import annotations

import sqlalchemy as sa

from learning.extensions import db
from learning.progress.models import CompletionRecord
from tests.web.test_records import complete_sample


def test_backup_and_restore_keep_records_verifiable(app, client, runner, login_as, sample_course, tmp_path):
    for _ in range(2):
        login_as("learner", language="en")
        complete_sample(app, client)
    backup = tmp_path / "kelisim.backup"
    created = runner.invoke(args=["backup", "create", str(backup)])
    assert created.exit_code == 0, created.output
    with app.app_context():
        db.session.execute(sa.delete(CompletionRecord))
        db.session.commit()
    assert runner.invoke(args=["records", "verify"]).exit_code == 1
    restored = runner.invoke(args=["backup", "restore", str(backup), "--yes"])
    assert restored.exit_code == 0, restored.output
    assert "2 completion record(s)" in restored.output
    verified = runner.invoke(args=["records", "verify"])
    assert verified.exit_code == 0, verified.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(CompletionRecord.id))) == 2


def test_restore_refuses_a_file_that_is_not_a_backup(app, runner, tmp_path):
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a database" * 100)
    result = runner.invoke(args=["backup", "restore", str(junk), "--yes"])
    assert result.exit_code != 0
