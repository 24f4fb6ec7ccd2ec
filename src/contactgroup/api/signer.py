"""The server's checkpoint signer: one background thread that signs the log's tree head whenever the log has grown,
at most once per interval, so that `GET /checkpoint` only ever reads.

Why a thread of its own: a checkpoint is a write, and writes queue on the log's one writer lock. Were every
`GET /checkpoint` allowed to sign, a crowd of readers (or one long import holding the lock) would stall the
witnesses' polls; with one signer, readers get the latest signed note at once and at most one signature waits.
"""

from __future__ import annotations

import logging
import threading
import time

from contactgroup.domain.errors import ContactGroupError, Forbidden
from contactgroup.ledger.note import SignerKey
from contactgroup.services import checkpoints, proofs, witness_policy
from contactgroup.services.clock import Clock
from contactgroup.storage.database import Database

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

    def check(self) -> None:
        """Refuse (Forbidden) a key that is not the log's published verifier key: its checkpoints would be worthless."""
        with self.db.reader() as conn:
            published = witness_policy.log_info(conn).require_key()
        if self.key.verifier.text != published.text:
            raise Forbidden(f"this key ({self.key.verifier.text}) is not the log's verifier key ({published.text})")

    def tick(self) -> bool:
        """Sign the tree as it is now if no checkpoint of that size exists; True if one was signed. A failure
        (the database busy, the key no longer the log's) is logged and tried again at the next tick."""
        try:
            with self.db.reader() as conn:
                latest = checkpoints.latest_checkpoint(conn)
                if latest is not None and latest[0] >= proofs.tree_size(conn):
                    return False
            checkpoint, _, fresh = checkpoints.sign_checkpoint(self.db, self.key, self.clock)
        except ContactGroupError as exc:
            log.warning("checkpoint not signed: %s", exc)
            return False
        self.signed_size = checkpoint.size
        return fresh

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
