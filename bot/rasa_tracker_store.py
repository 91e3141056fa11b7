"""Rasa's tracker store without its silent fallback: a tracker store that fails, fails the turn.

Rasa 3.6 wraps every tracker store in ``FailSafeTrackerStore`` (``Agent._create_tracker_store``),
which catches any exception of ``retrieve``, ``save`` and ``keys``, logs it with its message (a
database error's message may quote the statement's parameters: the citizen's words) and goes
on. A tracker it cannot read becomes a new conversation; a tracker it cannot write goes to an
in-memory store of this process that no later turn reads. The turn answers 200 without its
context, and its events never reach the shared store (the cluster's PostgreSQL).

:func:`install` makes Rasa build that wrapper with its ``on_tracker_store_error`` callback set
to :func:`fail_turn`, which re-raises the error. ``FailSafeTrackerStore`` calls the callback in
its ``except`` before any fallback (for ``retrieve``, ``retrieve_full_tracker``, ``save`` and
``keys`` alike), so:

* the error leaves the turn: the lock store's context manager around the turn
  (``Agent.handle_message``) releases the conversation's lock, and our REST channel
  (bot/rasa_channel.py) logs it once — exception type and code locations, not its message —
  and answers 503 ``turn-failed``, which the gateway turns into its retryable
  ``dialogue-unavailable``;
* nothing is written to the in-memory fallback, and Rasa's own log line (with the message) is
  not written either;
* a retry of the message is a fresh turn on what is stored. A turn's events are written by one
  save at its end, one multi-row INSERT in one transaction (bot/rasa_speedups.py; SQLAlchemy
  1.4 sends the rows with psycopg2's ``execute_values``, one statement per 1000 rows, committed
  once), so a failed save stores none of them, and what the failed turn computed (NLU,
  actions) is dropped with its tracker object. What is not undone: side effects of custom
  actions, which run again on the retry. One case a retry cannot tell apart: a commit that
  PostgreSQL made but whose acknowledgement was lost with the connection — the turn then
  answers 503 and its retry stores the message a second time.

After a PostgreSQL restart that no turn saw, a Rasa's next turn fails once (503): its pooled
connections are dead, and SQLAlchemy replaces the pool on that error (Rasa's engine does not
pre-ping, which would cost a round trip per checkout).

At start, Rasa's ``SQLTrackerStore`` means to wait for a database that is not up yet, but it
catches the connection error of its first statement (``create_all``, which creates the
``events`` table) as if another instance had just created the table, logs it and goes on: the
Rasa server comes up healthy without a database, and without the table if this was the
database's first start — every turn would then fail until Rasa restarts. :func:`install` also
makes the SQL tracker store's creation wait for the database (``create_all`` again every
:data:`START_RETRY_SECONDS`, logged as ``rasa.tracker_store.waiting`` with the error's type),
so a Rasa server answers its health check only once it can store conversations.

``buergerbot run`` (no ``tracker_store_url``) keeps Rasa's ``InMemoryTrackerStore``, which does
no I/O; an error there (a bug, e.g. a tracker that does not serialise) now also fails the turn
instead of being written to a second in-memory store.

:func:`install` is called by ``python -m bot.rasa_run run`` (bot/rasa_run.py) before Rasa
builds its agent; every Rasa server we start goes through it. Tested against a real Rasa server
on a real PostgreSQL in tests/rasa/test_rasa_tracker_store.py.
"""

from __future__ import annotations

import time
from typing import Any, NoReturn

import structlog

structlogger = structlog.get_logger()

START_RETRY_SECONDS = 2.0
_installed = False
original_create_tracker_store: Any = None  # Rasa's own Agent._create_tracker_store (function)
original_sql_init: Any = None  # Rasa's own SQLTrackerStore.__init__


def fail_turn(error: Exception) -> NoReturn:
    """``FailSafeTrackerStore``'s ``on_tracker_store_error``: re-raise instead of falling back.

    Called inside the wrapper's ``except``; the error propagates unchanged (the REST channel
    logs it and reports its type)."""
    raise error


def install() -> None:
    """Make every agent's ``FailSafeTrackerStore`` re-raise its primary store's errors and the
    SQL tracker store's creation wait for its database (idempotent)."""
    global _installed
    if _installed:
        return
    _install_failing_turns()
    _install_wait_for_database()
    _installed = True


def _install_failing_turns() -> None:
    global original_create_tracker_store
    from rasa.core.agent import Agent
    from rasa.core.tracker_store import FailSafeTrackerStore, InMemoryTrackerStore, TrackerStore
    from rasa.shared.core.domain import Domain

    original_create_tracker_store = Agent.__dict__["_create_tracker_store"].__func__

    def create_tracker_store(store: TrackerStore | None, domain: Domain) -> TrackerStore:
        """``Agent._create_tracker_store`` of Rasa 3.6, with the callback."""
        if store is not None:
            store.domain = domain
        else:
            store = InMemoryTrackerStore(domain)
        return FailSafeTrackerStore(store, on_tracker_store_error=fail_turn)

    Agent._create_tracker_store = staticmethod(create_tracker_store)  # type: ignore[method-assign]


def _install_wait_for_database() -> None:
    global original_sql_init
    import sqlalchemy.exc
    from rasa.core.tracker_store import SQLTrackerStore

    init = original_sql_init = SQLTrackerStore.__init__

    def wait_for_database(self: SQLTrackerStore, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        while True:
            try:
                # What Rasa's __init__ tried; a no-op once the tables exist.
                self.Base.metadata.create_all(self.engine)
                return
            except (sqlalchemy.exc.ProgrammingError, sqlalchemy.exc.IntegrityError):
                return  # another instance created the tables at the same moment (as in Rasa)
            except sqlalchemy.exc.OperationalError as err:  # not reachable (yet)
                structlogger.warning("rasa.tracker_store.waiting", error=type(err).__name__,
                                     retry_in=START_RETRY_SECONDS)
                time.sleep(START_RETRY_SECONDS)

    SQLTrackerStore.__init__ = wait_for_database  # type: ignore[method-assign]
