"""A lease that at most one process holds at a time: which of several servers on one database signs checkpoints.

On PostgreSQL the lease is a session-level advisory lock taken with `pg_try_advisory_lock` on a connection of its
own, kept open for as long as the process holds it. Why a session lock on a dedicated connection: it outlives every
transaction, and it ends with the session — if the holder dies, or its connection breaks, PostgreSQL releases the
lock at once, and the next process to try takes it; there is no lease time to guess and no clock to trust.

The lock is named by the lease's key and the schema the database's tables are in (`current_schema()`, hashed):
advisory locks are shared by a whole PostgreSQL database, and coordinations in two schemas of one database each
elect their own signer.

SQLite has no such lock shared between processes; one server process per SQLite file holds it always (a deployment
that needs several server processes runs on PostgreSQL, docs/deployment.md).
"""

from __future__ import annotations

import threading

import sqlalchemy as sa

from contactgroup.storage.database import Connection, Database

SIGNER_LEASE = 0x7369676E  # the advisory lock key of the checkpoint signer ("sign"), beside the writers' ("cont")


class Lease:
    """`held()` tells whether this process holds the lease now, taking it if it is free."""

    def __init__(self, db: Database, key: int = SIGNER_LEASE) -> None:
        self.db, self.key = db, key
        self._conn: Connection | None = None
        self._using = threading.Lock()  # one connection, one thread at a time (a signer's tick, a shutdown)

    def held(self) -> bool:
        """True if this process holds the lease: kept (its session still answers) or just taken. A database that
        cannot be reached ends the lease: PostgreSQL has released the lock with the session, or will."""
        if self.db.is_sqlite:
            return True
        with self._using:
            return self._kept() or self._take()

    def _kept(self) -> bool:
        """Whether the session holding the lock still answers; one that does not is dropped."""
        if self._conn is not None:
            try:
                self._conn.execute(sa.text("SELECT 1"))
                self._conn.commit()
                return True
            except sa.exc.DBAPIError:
                self._drop()
        return False

    def _take(self) -> bool:
        conn = self.db.engine.connect()
        try:
            taken = bool(conn.execute(sa.text("SELECT pg_try_advisory_lock(:key, hashtext(current_schema()))"),
                                         {"key": self.key}).scalar())
            conn.commit()  # the lock is the session's: no transaction stays open while it is held
        except sa.exc.DBAPIError:
            conn.invalidate()
            conn.close()
            raise
        if not taken:
            conn.close()
            return False
        self._conn = conn
        return True

    def release(self) -> None:
        """Give the lease up (another process may take it at once)."""
        with self._using:
            if self._conn is None:
                return
            try:
                self._conn.execute(sa.text("SELECT pg_advisory_unlock(:key, hashtext(current_schema()))"),
                                   {"key": self.key})
                self._conn.commit()
                self._conn.close()
            except sa.exc.DBAPIError:
                self._drop()
            self._conn = None

    def _drop(self) -> None:
        """Forget a connection whose session is gone (or going): never back into the pool with a lock on it."""
        if self._conn is not None:
            self._conn.invalidate()
            self._conn.close()
            self._conn = None
