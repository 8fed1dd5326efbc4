"""Declarative base, naming convention, time helpers and SQLite connection setup."""

from __future__ import annotations

import contextlib
import contextvars
import random
import sqlite3
import time
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSON everywhere, JSONB on PostgreSQL.
JSONType = sa.JSON().with_variant(JSONB(), "postgresql")
# JSON kept exactly as written, on PostgreSQL too (json, not jsonb, which stores it parsed and
# writes it back with its keys reordered): for a large value read back as text on a hot path
# and recognised there without parsing it (an attempt's drawn questions, see
# learning.quizzes.services.drawn_questions). Not for values queried inside.
VerbatimJSONType = sa.JSON()

# Whether the transaction about to begin will write. SQLite transactions that read
# first and write later fail at once with "database is locked" when another writer
# holds the lock, whatever the busy timeout, so writers start with BEGIN IMMEDIATE.
write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=True)


BUSY_TIMEOUT_MS = 15_000
WRITE_LOCK_WAIT_SECONDS = 15.0


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """The current time in UTC, timezone-aware."""
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware (SQLite drops the zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def configure_sqlite(engine: sa.engine.Engine) -> None:
    """WAL, foreign keys, a busy timeout, and BEGIN IMMEDIATE for writing transactions."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event below issue BEGIN itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            # Reports scan large tables: map the file and keep a bigger page cache (64 MB).
            cursor.execute("PRAGMA mmap_size=268435456")
            cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # Straight to the driver: BEGIN runs on every request, and SQLAlchemy's statement
        # machinery would cost more than the statement itself.
        raw = conn.connection.dbapi_connection
        if not write_intent.get():
            raw.execute("BEGIN")
            return
        begin_immediate(raw)


def begin_immediate(raw: sqlite3.Connection) -> None:
    """BEGIN IMMEDIATE on a SQLite driver connection, waiting up to WRITE_LOCK_WAIT_SECONDS.

    SQLite's own busy handler sleeps 1, 2, 5 … 100 ms between tries, far longer than a write
    lock is held here (a few ms): poll instead, so writers queue tightly.
    """
    raw.execute("PRAGMA busy_timeout=0")
    try:
        deadline = time.monotonic() + WRITE_LOCK_WAIT_SECONDS
        while True:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if "locked" not in str(error) or time.monotonic() > deadline:
                    raise
                time.sleep(random.uniform(0.0002, 0.002))
    finally:
        raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


@contextlib.contextmanager
def write_block(session):
    """The writes of a read-mostly request, in a short transaction committed at the end.

    The request reads first in a deferred transaction (alongside other readers and the one
    writer). On SQLite the reads end here and the write lock (BEGIN IMMEDIATE) is taken only
    for the block: a read snapshot cannot become a write once another writer has committed,
    and holding the lock for the whole request would make workers take turns. Objects stay
    usable after the commit (expire_on_commit is off). PostgreSQL just goes on and commits.
    Nothing may be pending in the session when the block starts.
    """
    if session.get_bind().dialect.name != "sqlite":
        yield
        session.commit()
        return
    session.commit()
    token = write_intent.set(True)
    try:
        yield
        session.commit()
    finally:
        write_intent.reset(token)


class RowLoader:
    """ORM objects of one model made from rows read with Core, attached to the session as if
    the ORM had loaded them.

    For the queries every request runs (the session user, the lesson page's course and
    enrolment): a full ORM load costs several times the query itself. This is SQLAlchemy's
    documented way for objects from elsewhere (`make_transient_to_detached`, then `add`):
    attributes not in the row, relationships included, load when first used, and changes
    are tracked and flushed as usual. `columns(prefix)` gives the labelled columns to select.
    """

    def __init__(self, model) -> None:
        self.model = model
        self.mapper = sa.inspect(model)
        self.fields = [(self.mapper.get_property_by_column(column).key, column)
                       for column in self.mapper.local_table.columns]
        self.primary_key = [self.mapper.get_property_by_column(column).key
                            for column in self.mapper.primary_key]

    def columns(self, prefix: str = "") -> list:
        return [column.label(prefix + key) for key, column in self.fields]

    def load(self, session, row, prefix: str = ""):
        """The object for the row's columns (a Row, or a named tuple from learning.prepared;
        None when the row has none: an outer join that matched nothing); the object already in
        the session if it holds this row."""
        if isinstance(session, sa.orm.scoped_session):
            session = session()  # the request's Session, looked up once
        values = self._values(row, prefix)
        if values is None:
            return None
        known = session.identity_map.get(
            self.mapper.identity_key_from_primary_key(tuple(values[key] for key in self.primary_key)))
        if known is not None:
            return known
        instance = self._detached(values)
        session.add(instance)
        return instance

    def load_when_needed(self, scoped, row, prefix: str = ""):
        """`load`, but attached only when the request first uses the Session (at once if it
        already has): see attach_when_session_opens."""
        if scoped.registry.has():
            return self.load(scoped, row, prefix)
        values = self._values(row, prefix)
        if values is None:
            return None
        instance = self._detached(values)
        attach_when_session_opens(instance)
        return instance

    def _values(self, row, prefix: str) -> dict | None:
        mapping = row._mapping if hasattr(row, "_mapping") else row._asdict()
        values = {key: mapping[prefix + key] for key, _column in self.fields}
        if any(values[key] is None for key in self.primary_key):
            return None
        return values

    def _detached(self, values: dict):
        if not self.mapper.configured:  # a worker's first query: an ORM query would do this
            sa.orm.configure_mappers()
        instance = self.mapper.class_manager.new_instance()
        instance.__dict__.update(values)
        sa.orm.make_transient_to_detached(instance)
        return instance


# Objects waiting for the request's Session (learning.db.attach_when_session_opens), in `g`.
_WAITING_FOR_SESSION = "_kelisim_waiting_for_session"


def attach_when_session_opens(instance) -> None:
    """Add a detached, fully loaded object to the request's Session when the Session is
    created, instead of creating it now.

    For the session user on the pages every learner requests (learning.accounts.services.
    PageQuery): most of them never use the Session, and creating one, attaching the user and
    closing it again was a tenth of the lesson page. Any use of `db.session` creates it, with
    the object attached, so queries find it in the identity map and changes made to it
    meanwhile are flushed as usual. Until then its columns read as loaded; a relationship it
    has not loaded raises DetachedInstanceError instead of loading (loudly, never wrongly):
    such pages touch only columns of the user, which their tests check.
    """
    from flask import g

    waiting = g.get(_WAITING_FOR_SESSION)
    if waiting is None:
        waiting = []
        setattr(g, _WAITING_FOR_SESSION, waiting)
    waiting.append(instance)


def attach_waiting_objects(scoped) -> None:
    """Make the scoped session's factory attach the objects waiting for it (see
    attach_when_session_opens) to each Session it creates in an application context."""
    from flask import g, has_app_context

    registry = scoped.registry
    create = registry.createfunc
    if getattr(create, "attaches_waiting_objects", False):  # one scoped session, many apps
        return

    def create_and_attach():
        session = create()
        waiting = g.pop(_WAITING_FOR_SESSION, None) if has_app_context() else None
        for instance in waiting or ():
            session.add(instance)
        return session

    create_and_attach.attaches_waiting_objects = True
    registry.createfunc = create_and_attach
