"""Prepared statements for the requests every learner makes many times (the session user, the
lesson page and its visit).

Each is a Core statement, compiled once per database kind and run on the driver's own cursor
with SQLAlchemy's type conversions for its parameters and columns. A Core execution through a
Session costs about 50 µs of bookkeeping, an ORM query about 170 µs and the Session's
transaction handling about as much again, against a few µs for the small indexed queries
themselves; on the lesson page that bookkeeping was half of the request.

They run on one driver connection per request, checked out when first needed and given back
(rolled back) when the request ends: it is not the Session's, so a view that also uses the
Session holds two connections for the request. On PostgreSQL the connection comes from a pool
of its own in autocommit mode (see _engine): a worker keeps up to two pools' worth. Reads outside `write_transaction`
see committed data as of each statement; `write_transaction` is a short transaction of its
own (on SQLite it takes the write lock with the same polling as learning.db).

Durability: on PostgreSQL these connections commit asynchronously (`synchronous_commit=off`):
a commit returns without waiting for its WAL record to reach the disk, which the server does
within a fraction of a second (at most three times `wal_writer_delay`, 0.6 s by default).
A crash of the database server in that window loses the last such commits whole (never
part of one, and never anything else: the database stays consistent). Only the writes
that may be lost that way belong here: lesson visits (a later visit records them again) and
graded quiz attempts that complete nothing (the learner submits again). A completion record,
a revocation, an account change, anything an auditor relies on goes through the Session,
whose commits wait for the disk. SQLite's WAL with `synchronous=NORMAL` gives the same
guarantee for a power cut. Waiting for the disk on every lesson visit cost a third of the
lesson page's throughput on PostgreSQL (bench/results.md).

The conversions come from SQLAlchemy's compiled statement (its bind processors, result
columns and their types' result processors), which are internals: SQLAlchemy is pinned, and
tests/web/test_prepared.py compares the rows with the ORM's on both databases after an upgrade.
"""

from __future__ import annotations

import contextlib
from collections import namedtuple
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa
from flask import Flask, g

from learning.extensions import db

_CONNECTION = "_prepared_connection"
_IN_WRITE = "_prepared_in_write"


class Prepared:
    """One statement, or a function of the database kind ("sqlite", "postgresql") making it
    (an upsert is written differently for each). `all(**params)` and `first(**params)` give
    rows as named tuples of the column labels; `run(**params)` runs a statement that returns
    none."""

    def __init__(self, statement: sa.sql.Executable | Callable[[str], sa.sql.Executable]) -> None:
        self.statement = statement
        self._plans: dict[str, _Plan] = {}

    def _plan(self, dialect) -> _Plan:
        plan = self._plans.get(dialect.name)
        if plan is None:
            statement = self.statement
            if not isinstance(statement, sa.sql.Executable):
                statement = statement(dialect.name)
            plan = self._plans[dialect.name] = _Plan(statement, dialect)
        return plan

    def run(self, **params: Any) -> None:
        self.all(**params)

    def all(self, **params: Any) -> list[tuple]:
        connection, dialect = _connection()
        plan = self._plan(dialect)
        try:
            return plan.run(connection, params)
        except dialect.loaded_dbapi.Error as error:
            # A connection the server has closed (a restart, an idle timeout): replace it and
            # try once more, unless the statement was part of a transaction (its earlier
            # statements are gone with the connection).
            if g.get(_IN_WRITE) or not dialect.is_disconnect(error, connection, None):
                raise
            connection.invalidate(error)
            g.pop(_CONNECTION, None)
            connection, dialect = _connection()
            return plan.run(connection, params)

    def first(self, **params: Any) -> tuple | None:
        rows = self.all(**params)
        return rows[0] if rows else None


class _Plan:
    """The statement's SQL for one database, with its parameter and column converters."""

    def __init__(self, statement, dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = compiled.string
        self.positional = compiled.positional
        self.names = list(compiled.positiontup or []) if compiled.positional else list(compiled.binds)
        processors = compiled._bind_processors
        # Values written into the statement itself (a constant in an upsert) are parameters too.
        self.defaults = {name: bind.effective_value for name, bind in compiled.binds.items()
                         if bind.value is not None or not bind.required}
        self.bind = [(name, processors.get(name)) for name in self.names]
        self.columns = [(entry.keyname, entry.type) for entry in compiled._result_columns]
        self.row_type = namedtuple("PreparedRow", [key for key, _type in self.columns])
        self.dialect = dialect
        self._converters: list | None = None

    def run(self, connection, params: dict) -> list[tuple]:
        values = []
        for name, process in self.bind:
            value = params[name] if name in params else self.defaults[name]
            values.append(process(value) if process is not None else value)
        cursor = connection.cursor()
        try:
            cursor.execute(self.sql, tuple(values) if self.positional else dict(zip(self.names, values)))
            if not self.columns:
                return []
            fetched = cursor.fetchall()
            if self._converters is None:
                self._converters = [
                    type_._cached_result_processor(self.dialect, description[1])
                    for (_key, type_), description in zip(self.columns, cursor.description)
                ]
        finally:
            cursor.close()
        converters, make = self._converters, self.row_type._make
        return [
            make([(convert(value) if convert is not None else value)
                  for convert, value in zip(converters, row)])
            for row in fetched
        ]


def _engine() -> sa.engine.Engine:
    """The engine the prepared statements use: the application's on SQLite (its connections
    already run each statement on its own unless told BEGIN); on a server database one of
    its own in autocommit mode, so that a read is one round trip, not BEGIN + statement (+
    COMMIT), and without the liveness ping on every checkout (a lost connection is noticed
    by the first statement and replaced instead, see Prepared.all).

    On PostgreSQL its commits are asynchronous (`synchronous_commit=off`, see the module's
    docstring): the writes made here are the frequent, low-stakes ones."""
    engine = db.engine
    if engine.dialect.name == "sqlite":
        return engine
    own = engine.__dict__.get("_kelisim_prepared_engine")
    if own is None:
        from flask import current_app

        options = {**current_app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
                   "isolation_level": "AUTOCOMMIT", "pool_pre_ping": False, "pool_use_lifo": True}
        if engine.dialect.name == "postgresql":
            connect_args = dict(options.get("connect_args", {}))
            server_options = connect_args.get("options", "")
            connect_args["options"] = f"{server_options} -c synchronous_commit=off".strip()
            options["connect_args"] = connect_args
        own = sa.create_engine(engine.url, **options)
        engine.__dict__["_kelisim_prepared_engine"] = own
        # Disposed with the application's engine (tests dispose theirs after every test).
        sa.event.listen(engine, "engine_disposed", lambda _engine: own.dispose())
    return own


def _connection():
    held = g.get(_CONNECTION)
    if held is None:
        engine = _engine()
        held = (engine.raw_connection(), engine.dialect)
        setattr(g, _CONNECTION, held)
    return held


@contextlib.contextmanager
def write_transaction(*, single_statement: bool = False) -> Iterator[None]:
    """A short write transaction on this request's connection, committed at the end (rolled
    back on an error). On SQLite it begins with BEGIN IMMEDIATE, waiting for the write lock.
    `single_statement`: the block runs one statement, atomic on its own, so on a server
    database it needs no BEGIN and COMMIT. On PostgreSQL the commit is asynchronous: only
    writes that may be lost in a database crash belong here (see the module's docstring)."""
    from learning.db import begin_immediate

    connection, dialect = _connection()
    setattr(g, _IN_WRITE, True)
    try:
        if dialect.name == "sqlite":
            begin_immediate(connection.driver_connection)
            try:
                yield
            except BaseException:
                connection.rollback()
                raise
            connection.commit()
        elif single_statement:
            yield
        else:
            with connection.driver_connection.transaction():
                yield
    finally:
        g.pop(_IN_WRITE, None)


def init_app(app: Flask) -> None:
    def give_back(_exc=None):
        held = g.pop(_CONNECTION, None)
        if held is not None:
            held[0].close()  # back to the pool, which rolls back whatever is left

    # At the end of the request, and of an application context used without one (a CLI
    # command); a request inside an outer application context (tests) shares its `g`.
    app.teardown_request(give_back)
    app.teardown_appcontext(give_back)
