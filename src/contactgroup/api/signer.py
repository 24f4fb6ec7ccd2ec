"""The server's checkpoint signer: one background thread that signs the log's tree head whenever the log has grown,
at most once per interval, so that `GET /checkpoint` only ever reads.

Why a thread of its own: a checkpoint is a write, and writes queue on the log's one writer lock. Were every
`GET /checkpoint` allowed to sign, a crowd of readers (or one long import holding the lock) would stall the
witnesses' polls; with one signer, readers get the latest signed note at once and at most one signature waits.

Several server processes on one PostgreSQL database elect their one signer by a lease (`storage/lease.py`): each
tick, a process that does not hold it tries to take it; only the holder signs. If the holder dies, its database
session ends, the lock with it, and another process takes over at its next tick.
"""

from __future__ import annotations

import logging
import threading
import time

from contactgroup.domain.errors import ContactGroupError, Forbidden
from contactgroup.ledger.note import SignerKey
from contactgroup.services import checkpoints, proofs, witness_policy
from contactgroup.services.clock import Clock
from contactgroup.storage.database import Database, DatabaseError
from contactgroup.storage.lease import Lease

log = logging.getLogger("contactgroup.signer")

MIN_INTERVAL = 0.05  # seconds between looks at the log when the interval is 0 ("whenever it grew")


class CheckpointSigner:
    """Signs a checkpoint when the log has grown since the last one, then waits `interval` seconds."""

    def __init__(self, db: Database, key: SignerKey, clock: Clock, interval: float) -> None:
        self.db, self.key, self.clock = db, key, clock
        self.interval = max(MIN_INTERVAL, interval)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.signed_size: int | None = None  # the size of the last checkpoint this process signed
        self.lease = Lease(db)
        self.signing = False  # whether this process held the lease at its last tick

    def check(self) -> None:
        """Refuse (Forbidden) a key that is not the log's published verifier key: its checkpoints would be worthless."""
        with self.db.reader() as conn:
            published = witness_policy.log_info(conn).require_key()
        if self.key.verifier.text != published.text:
            raise Forbidden(f"this key ({self.key.verifier.text}) is not the log's verifier key ({published.text})")

    def tick(self) -> bool:
        """Sign the tree as it is now if this process holds the signer's lease and no checkpoint of that size
        exists; True if one was signed. A failure (the database busy or gone, the key no longer the log's) is
        logged and tried again at the next tick."""
        try:
            if not self._elected():
                return False
            with self.db.reader() as conn:
                latest = checkpoints.latest_checkpoint(conn)
                if latest is not None and latest[0] >= proofs.tree_size(conn):
                    return False
            checkpoint, _, fresh = checkpoints.sign_checkpoint(self.db, self.key, self.clock)
        except ContactGroupError as exc:
            log.warning("checkpoint not signed: %s", exc)
            return False
        self.signed_size = checkpoint.size
        if fresh:
            log.info("signed the checkpoint of size %d", checkpoint.size)
        return fresh

    def _elected(self) -> bool:
        """Whether this process signs now; says so when that changes."""
        try:
            held = self.lease.held()
        except DatabaseError as exc:
            held = False
            log.warning("cannot reach the database to elect the signer: %s", str(exc).splitlines()[0])
        if held != self.signing:
            log.info("this server %s the checkpoints", "signs" if held else "no longer signs")
        self.signing = held
        return held

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self.tick()
            except Exception:  # a database that went away must not end the signer for the server's life
                log.exception("checkpoint signer")
            self._stop.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="checkpoint-signer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.lease.release()
