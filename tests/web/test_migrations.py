"""The migrations create exactly the schema the models describe."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from learning import create_app, enable_migrations
from learning.extensions import db
from tests.conftest import TEST_DATABASE_URL, make_config


def test_upgrade_creates_the_models_schema(tmp_path):
    if TEST_DATABASE_URL:
        import psycopg

        base = sa.engine.make_url(TEST_DATABASE_URL)
        admin = f"host={base.host} port={base.port or 5432} user={base.username} dbname=postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS kelisim_migrations WITH (FORCE)")
            conn.execute("CREATE DATABASE kelisim_migrations")
        url = str(base.set(database="kelisim_migrations"))
    else:
        url = f"sqlite:///{tmp_path / 'migrated.db'}"
    app = create_app(make_config(tmp_path, SQLALCHEMY_DATABASE_URI=url))
    enable_migrations(app)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
        downgrade(revision="base")  # the named constraints make the way back possible
        remaining = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
        db.engine.dispose()
    assert remaining == set()
    assert differences == []
    if TEST_DATABASE_URL:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS kelisim_migrations WITH (FORCE)")


def test_the_app_starts_without_loading_migrations_or_markdown():
    """Alembic (through Flask-Migrate) and Python-Markdown load only for the commands that need
    them: a web worker and `courses validate` start without them. PyYAML loads when a course
    is first parsed (sync, validate, a studio save), not when a web worker starts."""
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys, wsgi; "
            "print(sorted(m for m in ('alembic', 'flask_migrate', 'markdown', 'pygments', 'yaml') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parents[2])
    assert result.stdout.strip() == "[]"


def test_the_app_starts_with_its_objects_frozen_and_the_collector_on():
    """wsgi.py creates the app with the cyclic collector off and freezes what start-up made
    (see wsgi.py); serving then runs with the collector on as usual."""
    import subprocess
    import sys
    from pathlib import Path

    code = "import gc, wsgi; print(gc.isenabled(), gc.get_freeze_count() > 50_000)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).resolve().parents[2])
    assert result.stdout.strip() == "True True"
