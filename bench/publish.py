"""Benchmark of the public release on the demo: `publish` (replay to the checkpoint, the public part, proofs, every
file), `ledger check-release`, `report burden --public`, and the release's size. Prints a Markdown table for
docs/performance.md.

Usage: .venv/bin/python bench/publish.py [--seed 2024] [--repeat 3]

On SQLite (the log key file beside it); each figure is the best of --repeat runs (the machine is shared).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from core import best  # bench/ is on the path when a script of it runs

from contactgroup.domain.model import IatiOrganisation
from contactgroup.reports.public import public_burden, public_part
from contactgroup.services import checkpoints, key_files, log_keys
from contactgroup.services import coordination as svc
from contactgroup.services.clock import FixedClock
from contactgroup.services.demo import build_demo
from contactgroup.services.publish import publish
from contactgroup.services.release_check import check_release
from contactgroup.storage.database import Database

IATI_IDS = {"USA": "US-GOV-1", "NLD": "XM-DAC-7", "JPN": "XM-DAC-701-8"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    clock = FixedClock(datetime(2026, 4, 30, 12, 0, tzinfo=UTC))
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'demo.db'}")
        build_demo(db, args.seed)
        with db.transaction() as uow:  # three members publish to IATI, so the release has its IATI file
            for member, identifier in IATI_IDS.items():
                svc.record_iati_identifier(uow, svc.Caller("admin", clock), IatiOrganisation(member, identifier))
        path = log_keys.resolve_log_key_path(db, None)
        assert path is not None
        signer = key_files.read_signer_key(path)
        checkpoints.sign_checkpoint(db, signer, clock)
        out = Path(tmp) / "release"

        def once() -> None:
            shutil.rmtree(out, ignore_errors=True)
            publish(db, out, clock)

        took = best(args.repeat, once)
        done = publish(db, Path(tmp) / "kept", clock)
        checking = best(args.repeat, lambda: check_release(out, signer.verifier))
        state = db.state()
        burden_public = best(args.repeat, lambda: public_burden(public_part(state)))
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        proofs = check_release(out, signer.verifier)
    print(f"Demo seed {args.seed}: {done.tree_size:,} events at the checkpoint, {done.records:,} records with "
          f"{proofs.events:,} events and proofs, {proofs.cannot_check:,} totals; best of {args.repeat}\n")
    print("| measurement | best of runs |\n|---|---|")
    print(f"| SQLite: `publish` (replay to the checkpoint, public part, proofs, {len(done.files)} files) | "
          f"{took:.2f} s |")
    print(f"| `ledger check-release` (every proof and figure) | {checking:.2f} s |")
    print(f"| `report burden --public` (from a loaded state) | {burden_public:.3f} s |")
    print(f"| release size on disk | {size / 1e6:.1f} MB |")


if __name__ == "__main__":
    main()
