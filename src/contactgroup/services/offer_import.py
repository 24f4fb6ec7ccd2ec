"""Importing an offers spreadsheet: every row through the same checks as a single offer, all or nothing.

A row that names an offer already recorded (by its `id`, or by the desk's `ref`) is compared with it: the same
values change nothing, so a file imported twice, or exported by `offer list` and imported back, records nothing
the second time. Offers absent from the file are left alone."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from contactgroup.domain.errors import ContactGroupError, Problem, ValidationFailed
from contactgroup.domain.model import Offer, OfferStatus, User
from contactgroup.domain.state import State
from contactgroup.io.offers import COMPARED, NEW_STATUSES, REQUIRED, OfferRow, parse_offers
from contactgroup.io.spreadsheet import read_rows
from contactgroup.services import access
from contactgroup.services import coordination as svc
from contactgroup.storage.database import UnitOfWork

FLUSH_EVERY = 1000  # rows: keeps memory flat on large files; the transaction still commits once


@dataclass(frozen=True, slots=True)
class ImportSummary:
    entered: list[str]  # ids of the objects the file added
    unchanged: list[str]  # ids of the objects the file names with the values they already have
    ignored: tuple[str, ...] = ()  # columns the file has that the import does not read
    amended: tuple[str, ...] = ()  # ids of the objects whose changed rows the file amended


@dataclass(frozen=True, slots=True)
class Change:
    """A row that names an object already recorded with other values: (field, recorded, in the file) each."""

    where: str  # "offers.csv: row 7"
    label: str  # "ref DEU-12" or "offer O-00003"
    ident: str
    fields: tuple[tuple[str, Any, Any], ...]


# What an amendment may change; a row that changes anything else names a different object.
AMENDABLE = {
    "offer": frozenset({"quantity", "available_from", "depot", "value", "currency", "basis", "visibility",
                        "end_use"}),
    "requirement": frozenset({"quantity", "needed_by", "destination", "note", "priority"}),
}


def apply_changes(uow: UnitOfWork, caller: svc.Caller, kind: str, changes: Sequence[Change]) -> list[Problem]:
    """Amend what a re-imported file changes, through the same services as `offer amend`, `requirement amend` and
    `requirement prioritise`; each field no amendment may change (an offer's item, a requirement's class) and each
    refusal is a problem of its row, and any problem refuses the whole file."""
    problems: list[Problem] = []
    for c in changes:
        fixed = [name for name, _, _ in c.fields if name not in AMENDABLE[kind]]
        if fixed:
            problems.append(Problem(c.where, f"{c.label} would change {', '.join(fixed)}, which no amendment "
                                             f"changes: enter a new {kind} (another ref) instead"))
            continue
        try:
            _amend(uow, caller, kind, c.ident, {name: value for name, _, value in c.fields})
        except ValidationFailed as exc:
            problems.extend(Problem(f"{c.where}, column {p.where}" if p.where else c.where, p.message)
                            for p in exc.problems)
        except ContactGroupError as exc:
            problems.append(Problem(c.where, str(exc)))
    return problems


def _amend(uow: UnitOfWork, caller: svc.Caller, kind: str, ident: str, new: dict[str, Any]) -> None:
    """One changed row through the services a desk would call: `offer amend`, or `requirement amend` and, for a
    new priority, `requirement prioritise`."""
    if kind == "offer":
        svc.amend_offer(uow, caller, ident, **new)
        return
    priority = new.pop("priority", None)
    if new:
        svc.amend_requirement(uow, caller, ident, **new)
    if priority is not None:
        svc.reprioritise(uow, caller, ident, priority)


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "(empty)"
    return str(getattr(value, "value", value))


def differences(recorded: Any, wanted: Any, fields: Sequence[str], columns: frozenset[str]
                ) -> tuple[tuple[str, Any, Any], ...]:
    """The fields (among those whose column the file has) where the row differs from what is recorded."""
    return tuple((f, getattr(recorded, f), getattr(wanted, f)) for f in fields
                 if f in columns and getattr(recorded, f) != getattr(wanted, f))


def resolved(name: str, known: Mapping[str, str], what: str) -> tuple[str | None, str]:
    """The code `name` stands for among `known` ({code or name in lower case: code}), regardless of case; else
    None and a message with the nearest names ("did you mean ...")."""
    if name in known.values():
        return name, ""
    code = known.get(name.lower())
    if code is not None:
        return code, ""
    near = difflib.get_close_matches(name.lower(), list(known), n=3, cutoff=0.6)
    codes = list(dict.fromkeys(known[n] for n in near))
    hint = f"; did you mean {' or '.join(repr(c) for c in codes)}?" if codes else ""
    return None, f"no {what} {name!r}{hint}"


def by_line(found: Sequence[Problem]) -> dict[int, list[Problem]]:
    problems: dict[int, list[Problem]] = {}
    for p in found:
        problems.setdefault(line_of(p.where), []).append(p)
    return problems


def import_offers(
    uow: UnitOfWork, caller: svc.Caller, path: Path, progress: Callable[[int, int], None] | None = None
) -> ImportSummary:
    """Enter every new offer of the file; if any row is refused, raise with every problem and write nothing.

    Rows whose cells are well formed are entered even when other rows are not, so that one pass reports format
    problems together with refusals (permission, unknown item or member); the transaction is then rolled back."""
    sheet = read_rows(path, REQUIRED)
    parsed = parse_offers(sheet, path.name)
    if not sheet.header or any(p.where.endswith(": header") for p in parsed.problems):
        raise ValidationFailed(parsed.problems)
    problems = by_line(parsed.problems)
    rows = _OfferRows(uow, caller, parsed.columns, ImportSummary([], [], parsed.ignored))
    return take_all(uow, caller, "offer", path.name, parsed.rows, rows, problems, progress)


class Rows(Protocol):
    """What an import knows while it goes through the rows: `take` enters or compares one row and says what is
    wrong with it; `changes` are the rows that would amend, `summary` what was done."""

    changes: list[Change]
    summary: ImportSummary

    def take(self, row: Any, where: str) -> list[Problem]: ...


def take_all(uow: UnitOfWork, caller: svc.Caller, kind: str, name: str, parsed: Sequence[Any], rows: Rows,
             problems: dict[int, list[Problem]], progress: Callable[[int, int], None] | None) -> ImportSummary:
    """Every row of file `name` through `rows`, flushing as it goes, then the changed rows amended: the summary,
    or every problem by row and nothing written."""
    for n, row in enumerate(parsed, start=1):
        problems.setdefault(row.line, []).extend(rows.take(row, f"{name}: row {row.line}"))
        if n % FLUSH_EVERY == 0:
            uow.flush()
        if progress is not None:
            progress(n, len(parsed))
    return finished(uow, caller, kind, problems, rows.changes, rows.summary)


def finished(uow: UnitOfWork, caller: svc.Caller, kind: str, problems: dict[int, list[Problem]],
             changes: Sequence[Change], summary: ImportSummary) -> ImportSummary:
    """The summary, once the changed rows are applied; else every problem, by row, and nothing written."""
    for p in apply_changes(uow, caller, kind, changes):
        problems.setdefault(line_of(p.where), []).append(p)
    if any(problems.values()):
        raise ValidationFailed([p for line in sorted(problems) for p in problems[line]])
    return replace(summary, amended=tuple(c.ident for c in changes))


class _OfferRows:
    """What an offers import knows while it goes through the rows: the record's items, refs and values, the refs
    the file used so far, the members the caller may enter offers for, and the rows that would amend."""

    def __init__(self, uow: UnitOfWork, caller: svc.Caller, columns: frozenset[str], summary: ImportSummary) -> None:
        self.uow, self.caller, self.columns, self.summary = uow, caller, columns, summary
        state = self.state = uow.state
        self.who = access.user(state, caller.user)  # an unknown user is one refusal, not one per row
        self.items = {k.lower(): i.code for i in state.items.values() for k in (i.code, i.name)}
        self.by_ref = {(o.member, o.ref): o for o in state.offers.values() if o.ref}
        # An offer entered without a ref is told apart from another only by its values.
        self.by_values = {_values(o): o for o in state.offers.values() if o.status is not OfferStatus.WITHDRAWN}
        self.first_use: dict[tuple[str, str], int] = {}
        self.allowed: dict[str, str] = {}  # member -> "" if the caller may enter its offers, else why not
        self.changes: list[Change] = []

    def take(self, row: OfferRow, where: str) -> list[Problem]:
        """The row's problems; none if it is entered, found unchanged, or kept as a change."""
        found: list[Problem] = []
        offer = self._checked(row, where, found)
        if offer is None:
            return found
        recorded = _recorded(self.state, self.who, offer, self.by_ref, where, found)
        if found:
            return found
        if recorded is not None:
            fields = differences(recorded, offer, (*COMPARED, "ref"), self.columns)
            if fields:
                label = f"ref {offer.ref}" if offer.ref else f"offer {recorded.id}"
                self.changes.append(Change(where, label, recorded.id, fields))
            else:
                self.summary.unchanged.append(recorded.id)
            return found
        twin = None if offer.ref else self.by_values.get(_values(offer))
        if twin is not None and access.can_see_offer(self.state, self.who, twin):
            return [Problem(where, f"is the same as offer {twin.id}, already recorded: to enter another offer like "
                                   "it, give each a ref; to leave it as it is, give the row its id or remove the row")]
        return self._enter(row, offer, where)

    def _checked(self, row: OfferRow, where: str, found: list[Problem]) -> Offer | None:
        """The row's offer with its item resolved, if the item is known, the caller may enter offers for the
        member and the ref is new in this file."""
        item, message = resolved(row.offer.item, self.items, "item")
        if item is None:
            found.append(Problem(f"{where}, column item", message))
            return None
        offer = replace(row.offer, item=item)
        if offer.member not in self.allowed:
            try:
                svc.authorized(self.uow, self.caller, "offer:enter", owner=offer.member)
                self.allowed[offer.member] = ""
            except ContactGroupError as exc:
                self.allowed[offer.member] = str(exc)
        if self.allowed[offer.member]:
            found.append(Problem(where, self.allowed[offer.member]))
            return None
        key = (offer.member, offer.ref)
        if offer.ref and key in self.first_use:
            found.append(Problem(f"{where}, column ref", f"ref {offer.ref!r} of {offer.member} is used again (first "
                                                         f"on row {self.first_use[key]}): a ref names one offer"))
            return None
        if offer.ref:
            self.first_use[key] = row.line
        return offer

    def _enter(self, row: OfferRow, offer: Offer, where: str) -> list[Problem]:
        if row.status not in NEW_STATUSES:
            return [Problem(f"{where}, column status", f"a new offer is draft, offered or committed, not "
                                                       f"{row.status.value!r}: only a row naming a recorded offer "
                                                       "(id or ref) may say so")]
        try:
            self.summary.entered.append(svc.enter_offer(self.uow, self.caller, offer, status=row.status,
                                                        committed_on=row.committed_on).id)
        except ValidationFailed as exc:
            return [Problem(f"{where}, column {p.where}", p.message) for p in exc.problems]
        except ContactGroupError as exc:
            return [Problem(where, str(exc))]
        return []


def _values(o: Offer) -> tuple[Any, ...]:
    return (o.member, *(getattr(o, f) for f in COMPARED))


def _recorded(state: State, who: User, offer: Offer, by_ref: Mapping[tuple[str, str], Offer], where: str,
              found: list[Problem]) -> Offer | None:
    """The recorded offer a row names by its id or ref (None: a new offer); a problem if they disagree."""
    named = by_ref.get((offer.member, offer.ref)) if offer.ref else None
    if offer.id:
        by_id = state.offers.get(offer.id)
        if by_id is None or not access.can_see_offer(state, who, by_id) or by_id.member != offer.member:
            found.append(Problem(f"{where}, column id", f"no offer {offer.id!r} of {offer.member}: leave id empty "
                                                        "for a new offer"))
            return None
        if named is not None and named.id != by_id.id:
            found.append(Problem(f"{where}, column ref", f"ref {offer.ref!r} names offer {named.id}, the row's "
                                                         f"id {offer.id}"))
            return None
        return by_id
    return named


def line_of(where: str) -> int:
    """The row number in "offers.csv: row 7, column quantity" (0 for problems about the whole file)."""
    _, _, rest = where.partition(": row ")
    number = rest.split(",", 1)[0]
    return int(number) if number.isdigit() else 0
