"""`report check --release`: a report file checked against a public release instead of the record, by anyone
outside the cell, offline, with the log's verifier key.

The release's own evidence is checked first (`release_check.check_release`). Then the report is computed again from
what the release publishes — which only the public burden (`report burden --public`) can be: its rows come from the
monthly totals (`hxl/monthly.csv`) and the donors' names and GDP (`hxl/burden.csv`) through `public_burden`, the
function that computes them from the record. A release does not publish a donor's kind, nor any figure another
report is made of: those are "cannot check", never a match or a mismatch.

A release is of one signed tree (its checkpoint, size M); a report of another (size N, root). At N = M the roots
must be equal. Otherwise the report's own checkpoint, if it carries one, is verified with the same log key, and
the report is compared with the release as it stands, the summary saying which is the later record.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from contactgroup.domain.errors import IntegrityError, Problem, ValidationFailed
from contactgroup.domain.model import MemberKind
from contactgroup.domain.state import State
from contactgroup.domain.text import number
from contactgroup.encoding.canonical import plain
from contactgroup.io.hxl import read_hxl_csv
from contactgroup.io.spreadsheet import csv_unquote
from contactgroup.ledger.checkpoint import Checkpoint, open_checkpoint
from contactgroup.ledger.note import VerifierKey
from contactgroup.reports.public import Donor, MonthFigure, PublicPart, public_burden
from contactgroup.services import reporting
from contactgroup.services.proofs import b64
from contactgroup.services.publish import EVIDENCE_FILE, HXL_FILES
from contactgroup.services.release_check import ReleaseCheck, check_release
from contactgroup.services.reporting import Figure, ReportRequest

SOURCE = "release"
MONTHS_FILE, DONORS_FILE = "hxl/monthly.csv", "hxl/burden.csv"
UNPUBLISHED = frozenset({"kind"})  # columns of the public burden a release does not carry
_MONEY = ("committed EUR", "allocated EUR", "delivered EUR")


@dataclass(frozen=True, slots=True)
class ReleaseReportCheck:
    report: str
    log_size: int  # N, the report's
    release_size: int  # M, the release checkpoint's
    matched: int
    mismatches: tuple[Figure, ...]
    cannot_check: tuple[Figure, ...]
    reproducible: bool  # whether the release publishes what this report is computed from
    evidence: ReleaseCheck  # the release's own check (its problems: the release is refused)
    tree: str  # how the report's tree stands to the release's, in words


def reproducible(request: ReportRequest) -> bool:
    """Whether a release publishes what the report is computed from: the public burden, as `publish` writes it."""
    return request.report == "burden" and request.public


def check_report_against_release(directory: Path, log_key: VerifierKey, data: bytes) -> ReleaseReportCheck:
    """Check the release in `directory` (signed by `log_key`), then compare the report file `data` (JSON, CSV or
    XLSX) with what the release publishes. A malformed file is a `ValidationFailed`; a report of another tree an
    `IntegrityError`; a release that does not check is the result's `evidence` problems, with nothing compared."""
    file = reporting.read_report_file(data)
    document = file.document
    request, stamp, rows = reporting.report_request(document), document["stamp"], document["rows"]
    size = reporting.whole_field(stamp, "log_size")
    evidence = check_release(directory, log_key)
    if not evidence.ok:
        return ReleaseReportCheck(request.report, size, evidence.tree_size, 0, (), (), False, evidence, "")
    release = _evidence_file(directory)
    checkpoint = open_checkpoint(str(release["checkpoint"]), [log_key]).checkpoint
    tree = _tree(stamp, size, checkpoint, log_key)
    if not reproducible(request):
        unseen = [Figure(i, reporting.row_name(request.report, row), column, value, None, SOURCE)
                  for i, row in enumerate(rows, start=1) for column, value in sorted(row.items())]
        return ReleaseReportCheck(request.report, size, checkpoint.size, 0, (), tuple(unseen), False, evidence,
                                  tree)
    expected = file.held(_public_burden(directory, request, release))
    matched, differ, unseen = reporting.compare_rows(request.report, rows, expected, SOURCE, file.same)
    return ReleaseReportCheck(request.report, size, checkpoint.size, matched, tuple(differ), tuple(unseen), True,
                              evidence, tree)


def _evidence_file(directory: Path) -> dict[str, Any]:
    """The release's evidence file, which `check_release` has just read and checked."""
    doc: dict[str, Any] = json.loads((Path(directory) / EVIDENCE_FILE).read_bytes())
    return doc


def _root(stamp: Mapping[str, Any]) -> bytes:
    try:
        return base64.b64decode(str(stamp.get("root")), validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed(f"{stamp.get('root')!r} is not base64", where="stamp.root") from None


def _tree(stamp: Mapping[str, Any], size: int, checkpoint: Checkpoint, log_key: VerifierKey) -> str:
    """How the report's tree (size, root, its own checkpoint if any) stands to the release's signed one; an
    `IntegrityError` when it is provably another tree."""
    root, origin = _root(stamp), stamp.get("origin")
    if origin != checkpoint.origin:
        raise IntegrityError(f"the report is of the record {origin!r}, the release of {checkpoint.origin!r}: it was "
                             f"not computed from the record this release was published from",
                             code="report-root-differs")
    if size == checkpoint.size and root != checkpoint.root:
        raise IntegrityError(f"the release's root at size {size:,} is {b64(checkpoint.root)}, the report "
                             f"says {b64(root)}: it was not computed from the record this release was "
                             f"published from", code="report-root-differs")
    tie = "the report carries no checkpoint: its tree is tied to the release's by nothing but its size"
    if size == checkpoint.size:
        tie = "same root as the release's checkpoint"
    elif stamp.get("checkpoint") is not None:
        note, proof = reporting.claimed_checkpoint(stamp.get("checkpoint"))
        own = reporting.verify_covering([log_key], size, root, note, proof, where="the report's checkpoint",
                                        keys_from="the release's log key")
        if own.size == checkpoint.size and own.root != checkpoint.root:
            raise IntegrityError(f"the report's checkpoint and the release's are both of size {own.size:,} but "
                                 f"their roots differ: they are not of one log", code="report-root-differs")
        tie = (f"the report's checkpoint of size {own.size:,} verifies with the same log key"
               + (", and is the release's: the report's tree is a prefix of the release's" if own.size ==
                  checkpoint.size else ""))
    if size == checkpoint.size:
        return f"the release's checkpoint is at the report's log size {size:,} ({tie})"
    if size < checkpoint.size:
        return (f"the record has grown since: the release's checkpoint is {checkpoint.size - size:,} events after "
                f"the report (size {checkpoint.size:,}); a figure that differs may have changed in between ({tie})")
    return (f"the report was made at a larger log size than the release: the release's checkpoint is "
            f"{size - checkpoint.size:,} events before it (size {checkpoint.size:,}); a figure that differs may "
            f"have changed in between ({tie})")


def _public_burden(directory: Path, request: ReportRequest, release: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The public burden's records as the release gives them (its donors' kind left out: not published)."""
    months = _months(directory)
    _same_totals(months, release)
    part = PublicPart(_donors(directory), months, (), (), (), ())
    rows, _ = reporting.records(State(), public_burden(part), request)
    flag = {"synthetic": True} if release.get("synthetic") is True else {}
    return [{k: v for k, v in plain(r).items() if k not in UNPUBLISHED} | flag for r in rows]


def _cells(directory: Path, file: str) -> list[dict[str, str]]:
    rows, problems = read_hxl_csv(Path(directory) / file, HXL_FILES[file])
    if problems:
        raise ValidationFailed(problems)
    return rows


def _amount(file: str, line: int, column: str, text: str, problems: list[Problem]) -> Decimal | None:
    try:
        return number(text)
    except ValueError as exc:
        problems.append(Problem(f"{file}, row {line}, column {column}", str(exc)))
        return None


def _months(directory: Path) -> tuple[MonthFigure, ...]:
    problems: list[Problem] = []
    out = []
    for line, row in enumerate(_cells(directory, MONTHS_FILE), start=3):
        amounts = [_amount(MONTHS_FILE, line, c, row[c], problems) for c in _MONEY]
        if all(a is not None for a in amounts):
            committed, allocated, delivered = (a or Decimal(0) for a in amounts)
            out.append(MonthFigure(row["donor"], row["month"], row["category"], committed, allocated, delivered))
    if problems:
        raise ValidationFailed(problems)
    return tuple(out)


def _same_totals(months: tuple[MonthFigure, ...], release: Mapping[str, Any]) -> None:
    """The monthly totals of `hxl/monthly.csv` are those the evidence file lists (`aggregates`): a release whose
    two say otherwise is refused, naming the first total that differs."""
    aggregates = release.get("aggregates")
    listed = aggregates.get("records") if isinstance(aggregates, dict) else None
    if not isinstance(listed, list):
        return  # an evidence file without totals: the CSV file is all there is
    in_json = {str(r.get("id")): r.get("figures") for r in listed if isinstance(r, dict)
               and str(r.get("id")).startswith("month/")}
    in_csv = {f"month/{f.donor}/{f.month}/{f.category}": {"committed_eur": plain(f.committed_eur),
                                                          "allocated_eur": plain(f.allocated_eur),
                                                          "delivered_eur": plain(f.delivered_eur)} for f in months}
    unpaired = sorted(in_json.keys() ^ in_csv.keys())
    if unpaired:
        raise IntegrityError(f"the release's {MONTHS_FILE} and {EVIDENCE_FILE} do not list the same monthly totals: "
                             f"{unpaired[0]} is in only one of them", code="release-differs")
    for total, figures in sorted(in_csv.items()):
        theirs = in_json[total]
        if not isinstance(theirs, dict) or any(not reporting.same_value(theirs.get(k), v) for k, v in figures.items()):
            raise IntegrityError(f"the release's {MONTHS_FILE} says otherwise than its {EVIDENCE_FILE} of {total}",
                                 code="release-differs")


def _donors(directory: Path) -> tuple[Donor, ...]:
    """Every donor of the release, with its name and GDP in EUR; its kind is not published (NATION stands in)."""
    problems: list[Problem] = []
    out = []
    for line, row in enumerate(_cells(directory, DONORS_FILE), start=3):
        gdp = _amount(DONORS_FILE, line, "GDP EUR", row["GDP EUR"], problems) if row["GDP EUR"] else None
        out.append(Donor(row["donor"], csv_unquote(row["name"]), MemberKind.NATION.value, gdp))
    if problems:
        raise ValidationFailed(problems)
    return tuple(sorted(out, key=lambda d: d.code))

