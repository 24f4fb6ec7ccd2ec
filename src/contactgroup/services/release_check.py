"""`contactgroup ledger check-release`: anyone holding the log's verifier key checks a public release offline.

For every published record: each event's leaf form (which names no account) hashes to a leaf, the leaf's inclusion
proof leads to the root of the checkpoint the release carries, that checkpoint is signed by the log key, and the
record's figures are what its events, replayed in order, make of it. Totals whose single events are not public are
counted as "cannot check".
"""

from __future__ import annotations

import base64
import binascii
import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contactgroup.domain.errors import ContactGroupError, ValidationFailed
from contactgroup.domain.event import evolve
from contactgroup.domain.state import State
from contactgroup.encoding.canonical import plain
from contactgroup.ledger import merkle
from contactgroup.ledger.checkpoint import Checkpoint, open_checkpoint
from contactgroup.ledger.leaf import event_leaf_hash
from contactgroup.ledger.note import VerifierKey
from contactgroup.services.publish import EVIDENCE_FILE, RECORD_FIELDS, RELEASE_FORMAT, record_key
from contactgroup.storage.database import decode_leaf

MAX_RELEASE_BYTES = 256 * 1024 * 1024  # a release's evidence file: far above any coordination's


@dataclass
class ReleaseCheck:
    origin: str = ""
    tree_size: int = 0
    checked: int = 0  # records whose every event and figure checked
    events: int = 0
    cannot_check: int = 0  # aggregates: their events are not public
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _read(directory: Path) -> dict[str, Any]:
    path = Path(directory) / EVIDENCE_FILE
    try:
        if path.stat().st_size > MAX_RELEASE_BYTES:
            raise ValidationFailed(f"is larger than {MAX_RELEASE_BYTES:,} bytes", where=str(path))
        doc = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise ValidationFailed(f"no {EVIDENCE_FILE} here: not a release directory", where=str(directory)) from None
    except (OSError, ValueError) as exc:
        raise ValidationFailed(f"not a readable JSON file: {exc}", where=str(path)) from None
    if not isinstance(doc, dict) or doc.get("format") != RELEASE_FORMAT:
        raise ValidationFailed(f"not a {RELEASE_FORMAT} document", where=str(path))
    return doc


def _events(record: dict[str, Any], checkpoint: Checkpoint, result: ReleaseCheck) -> list[bytes] | None:
    """The record's events' leaf forms, each proven to be in the checkpoint's tree; None (with a problem) if one is
    not. A whole body (an older event's, or a newer one naming its actor) is checked through its leaf form too."""
    bodies = []
    for event in record["events"]:
        index = event["index"]
        body = base64.b64decode(event["event"], validate=True)
        proof = [base64.b64decode(p, validate=True) for p in event["proof"]]
        if not isinstance(index, int) or not merkle.verify_inclusion(event_leaf_hash(body), index, checkpoint.size,
                                                                     proof, checkpoint.root):
            result.problems.append(f"{record['id']}: event {index} is not in the log at the checkpoint (altered "
                                   f"event or proof)")
            return None
        bodies.append(body)
    return bodies


def _check_record(record: dict[str, Any], checkpoint: Checkpoint, result: ReleaseCheck) -> None:
    rid = record.get("id")
    kind = str(rid).split("/", 1)[0]
    if kind not in RECORD_FIELDS or not isinstance(record.get("figures"), dict):
        result.problems.append(f"{rid}: not a record this checker knows")
        return
    try:
        bodies = _events(record, checkpoint, result)
    except (KeyError, TypeError, ValueError, binascii.Error) as exc:
        result.problems.append(f"{rid}: malformed evidence: {exc}")
        return
    if bodies is None:
        return
    if not bodies:
        result.problems.append(f"{rid}: no event behind it")
        return
    state = State()
    try:
        for body in bodies:
            evolve(state, decode_leaf(body))
    except (ContactGroupError, KeyError, ValueError, TypeError, AttributeError) as exc:
        result.problems.append(f"{rid}: its events do not replay: {exc}")
        return
    table, fields = RECORD_FIELDS[kind]
    entity = next((e for e in state.tables[table].values() if record_key(kind, e) == rid), None)
    if entity is None:
        result.problems.append(f"{rid}: its events are about something else")
        return
    figures = record["figures"]
    wrong = [f for f in fields if figures.get(f) != plain(getattr(entity, f))]
    if wrong or set(figures) != set(fields):
        shown = ", ".join(f"{f} {figures.get(f)!r} (the log says {plain(getattr(entity, f))!r})" for f in wrong)
        result.problems.append(f"{rid}: published figures differ from the log: {shown or 'fields changed'}")
        return
    result.checked += 1
    result.events += len(bodies)


# The CSV files that repeat checked records: file -> (record kind, column header -> (part of the record, figure)).
REPEATED: dict[str, tuple[str, dict[str, tuple[str, str]]]] = {
    "hxl/offers.csv": ("offer", {"donor": ("figures", "member"), "item": ("figures", "item"),
                                 "quantity": ("figures", "quantity"), "value EUR": ("derived", "value_eur")}),
    "hxl/pledges.csv": ("pledge", {"donor": ("figures", "member"), "fund": ("figures", "fund"),
                                   "amount": ("figures", "amount"), "currency": ("figures", "currency"),
                                   "amount EUR": ("derived", "amount_eur")}),
}


def _as_cell(value: Any) -> str:
    return "" if value is None else str(value)


def _check_repeated(directory: Path, records: dict[str, dict[str, Any]], result: ReleaseCheck) -> None:
    """The CSV rows of checked records say what the records say (a figure changed in a CSV file is named)."""
    for file, (kind, columns) in REPEATED.items():
        try:
            if (Path(directory) / file).stat().st_size > MAX_RELEASE_BYTES:
                raise ValueError(f"larger than {MAX_RELEASE_BYTES:,} bytes")
            with (Path(directory) / file).open(encoding="utf-8", newline="") as f:
                header, _tags, *rows = list(csv.reader(f))
        except (OSError, ValueError, UnicodeDecodeError, csv.Error) as exc:
            result.problems.append(f"{file}: cannot be read: {exc}")
            continue
        at = {name: header.index(name) for name in columns if name in header}
        listed = set()
        for line, row in enumerate(rows, start=3):
            rid = f"{kind}/{row[0] if row else ''}"
            listed.add(rid)
            record = records.get(rid)
            if record is None:
                result.problems.append(f"{file}, row {line}: {rid} is not a record of {EVIDENCE_FILE}")
                continue
            wrong = [name for name, (part, figure) in columns.items()
                     if name not in at or len(row) <= at[name]
                     or row[at[name]] != _as_cell(record.get(part, {}).get(figure))]
            if wrong:
                result.problems.append(f"{file}, row {line}: {rid}: not as in {EVIDENCE_FILE}: {', '.join(wrong)}")
        missing = sorted(r for r in records if r.startswith(f"{kind}/") and r not in listed)
        if missing:
            result.problems.append(f"{file}: leaves out {', '.join(missing[:5])}")


def check_release(directory: Path, log_key: VerifierKey) -> ReleaseCheck:
    """Check every record of a release against its checkpoint, signed by `log_key` (never by a key it names)."""
    doc = _read(directory)
    result = ReleaseCheck()
    try:
        checkpoint = open_checkpoint(str(doc["checkpoint"]), [log_key]).checkpoint
    except (KeyError, ContactGroupError) as exc:
        result.problems.append(f"the release's checkpoint is not signed by {log_key.text}: {exc}")
        return result
    result.origin, result.tree_size = checkpoint.origin, checkpoint.size
    if doc.get("tree_size") != checkpoint.size or doc.get("origin") != checkpoint.origin:
        result.problems.append(f"the release says {doc.get('origin')!r} at size {doc.get('tree_size')!r}, its "
                               f"checkpoint {checkpoint.origin!r} at size {checkpoint.size}")
    records = doc.get("records")
    if not isinstance(records, list):
        result.problems.append("the release has no list of records")
        return result
    for record in records:
        if isinstance(record, dict):
            _check_record(record, checkpoint, result)
        else:
            result.problems.append(f"a record that is not an object: {str(record)[:80]!r}")
    _check_repeated(directory, {str(r.get("id")): r for r in records if isinstance(r, dict)}, result)
    aggregates = doc.get("aggregates", {})
    result.cannot_check = len(aggregates.get("records", [])) if isinstance(aggregates, dict) else 0
    return result
