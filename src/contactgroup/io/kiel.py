"""The Kiel Institute's Ukraine Support Tracker release files: read, validate every cell, map to our entities.

`data_explorer.csv` holds one row per donor and month: allocations in € bn by category (`financial`,
`humanitarian`, `military`, with `total` their sum), `commitments` (€ bn, not split by category) and the
donor's 2021 GDP (`gdp`, € bn; 0 where Kiel gives none). `release_info.csv` names the release.
Row numbers count the header as row 1, so they match a spreadsheet's line numbers.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from contactgroup.domain import codes
from contactgroup.domain import text as t
from contactgroup.domain.errors import Problem, ValidationFailed
from contactgroup.domain.model import MemberKind, TrackedAid
from contactgroup.io.spreadsheet import csv_text, csv_unquote, header_problems

DATA_FILE = "data_explorer.csv"
INFO_FILE = "release_info.csv"
CATEGORIES = ("military", "financial", "humanitarian")
COMMITMENT_CATEGORY = "unspecified"  # Kiel does not split commitments by category
MONEY = ("total", *CATEGORIES, "commitments", "gdp")
REQUIRED = ("country", "iso", "year", "month", *MONEY)
BILLION = 9  # amounts are in € bn: scaled by 10^9 exactly (Decimal.scaleb)
TOLERANCE = Decimal("0.000001")  # € bn: `total` must equal the categories' sum to €1,000
GDP_YEAR = 2021
ISO3 = re.compile(r"[A-Z]{3}")
# Donors that are not nations: the tracker's code -> the organisation's name (a member, or a tracked donor).
ORGANISATIONS: Mapping[str, str] = {"EU": "EU (Commission and Council)"}


@dataclass(frozen=True, slots=True)
class KielRow:
    row: int
    country: str
    iso: str
    year: int
    month: int
    total: Decimal  # all amounts in € bn, as in the file
    financial: Decimal
    humanitarian: Decimal
    military: Decimal
    commitments: Decimal
    gdp: Decimal

    @property
    def month_label(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


@dataclass(frozen=True, slots=True)
class Donor:
    iso: str
    name: str
    kind: MemberKind
    gdp_eur: Decimal | None  # 2021 GDP in EUR; None where the tracker gives 0


@dataclass(frozen=True, slots=True)
class KielRelease:
    release: str  # "29"
    label: str  # "Ukraine Support Tracker, Release 29 (04/2026)"
    rows: tuple[KielRow, ...]

    @property
    def source(self) -> str:
        """How our records name this release, e.g. "Kiel UST Release 29"."""
        return f"Kiel UST Release {self.release}"

    def donors(self) -> list[Donor]:
        seen: dict[str, Donor] = {}
        for r in self.rows:
            if r.iso not in seen:
                kind = MemberKind.NATION if ISO3.fullmatch(r.iso) else MemberKind.ORGANISATION
                name = ORGANISATIONS.get(r.iso, r.country)
                seen[r.iso] = Donor(r.iso, name, kind, eur(r.gdp) if r.gdp > 0 else None)
        return sorted(seen.values(), key=lambda d: d.iso)

    def tracked_aid(self) -> list[TrackedAid]:
        """Allocations per donor, month and category; commitments per donor and month as `unspecified`.

        Zero amounts are not recorded.
        """
        out = []
        for r in self.rows:
            for category in CATEGORIES:
                amount = getattr(r, category)
                if amount:
                    out.append(self._aid(r, category, allocated=eur(amount), committed=Decimal(0)))
            if r.commitments:
                out.append(self._aid(r, COMMITMENT_CATEGORY, allocated=Decimal(0), committed=eur(r.commitments)))
        return out

    def _aid(self, r: KielRow, category: str, *, allocated: Decimal, committed: Decimal) -> TrackedAid:
        return TrackedAid(key=f"{self.source}/{r.iso}/{r.month_label}/{category}", source=self.source,
                            member=r.iso, month=r.month_label, category=category, allocated_eur=allocated,
                            committed_eur=committed)


def eur(billions: Decimal) -> Decimal:
    """€ bn -> EUR, exactly."""
    return billions.scaleb(BILLION)


def _where(file: str, row: int, column: str) -> str:
    return f"{file}, row {row}, column {column}"


def decimal_cell(text: str) -> Decimal | None:
    """The number a cell writes in the one form the record takes (`t.NUMBER_FORM`), else None."""
    try:
        return t.number(text.strip())
    except ValueError:
        return None


def _int(text: str) -> int | None:
    text = text.strip()
    return int(text) if re.fullmatch(r"[0-9]{1,4}", text) else None


class Rows(list[dict[str, str | None]]):
    """A CSV file's data rows as dicts, with `lines`: each row's line number in the file (header = 1).

    Blank lines are skipped but counted, so a problem names the line a user sees in an editor or spreadsheet."""

    lines: list[int]


def read_csv(path: Path, problems: list[Problem]) -> tuple[list[str], Rows] | None:
    """(header, rows as dicts) of a CSV file, or None (with a problem) if it is missing or has no header."""
    try:
        if path.is_file() and (size := path.stat().st_size) > t.MAX_IMPORT_BYTES:
            problems.append(Problem(path.name, f"is {size:,} bytes; an imported file may have at most "
                                               f"{t.MAX_IMPORT_BYTES:,} bytes"))
            return None
        with path.open(encoding="utf-8-sig", newline="") as f:
            reader = csv.DictReader(f)
            duplicated = header_problems(path.name, reader.fieldnames or [])
            if duplicated:
                problems.extend(duplicated)
                return None
            rows = Rows()
            rows.lines = []
            for row in reader:
                if len(rows) == t.MAX_IMPORT_ROWS:
                    problems.append(Problem(path.name, f"has more than {t.MAX_IMPORT_ROWS:,} data rows; an import "
                                                       f"may have at most {t.MAX_IMPORT_ROWS:,}"))
                    return None
                rows.append({k: csv_unquote(v) if isinstance(v, str) else v for k, v in row.items()})
                rows.lines.append(reader.line_num)
            header = reader.fieldnames or []
    except FileNotFoundError:
        where = path.parent.resolve()
        problems.append(Problem(path.name, f"no such file (looked in {where})"))
        return None
    except IsADirectoryError:
        problems.append(Problem(str(path), "is a directory, not a CSV file"))
        return None
    except (UnicodeDecodeError, csv.Error) as exc:
        problems.append(Problem(path.name, f"not a readable UTF-8 CSV file: {exc}"))
        return None
    if not header:
        problems.append(Problem(_where(path.name, 1, "(header)"), "the file is empty"))
        return None
    return list(header), rows


def missing_columns(file: str, header: Iterable[str], required: Sequence[str]) -> list[Problem]:
    have = set(header)
    return [Problem(_where(file, 1, c), "missing column") for c in required if c not in have]


Cell = Callable[[str], str]
Bad = Callable[[str, str], None]


def is_donor_code(iso: str) -> bool:
    """A code the tracker's layout takes: an ISO 3166 alpha-3 country or a known organisation."""
    return bool(ISO3.fullmatch(iso) and codes.is_country(iso)) or iso in ORGANISATIONS


def _donor(cell: Cell, bad: Bad) -> tuple[str, str]:
    """The row's country name and code, each checked."""
    country, iso = cell("country"), cell("iso")
    if not country:
        bad("country", "missing value")
    for problem in t.name_problems("country", country):
        bad("country", problem.message)
    if not iso:
        bad("iso", "missing value")
    elif not is_donor_code(iso):
        bad("iso", f"{iso!r} is neither an ISO 3166 alpha-3 country code nor a known organisation "
                   f"({', '.join(ORGANISATIONS)})")
    return country, iso


def _amounts(cell: Cell, bad: Bad) -> dict[str, Decimal]:
    """The row's money columns that are valid (present, numbers, not negative)."""
    amounts: dict[str, Decimal] = {}
    for column in MONEY:
        text = cell(column)
        value = decimal_cell(text) if text else None
        if not text:
            bad(column, "missing value")
        elif value is None:
            bad(column, f"{text!r} is not {t.NUMBER_FORM}")
        elif value < 0:
            bad(column, f"{text} is negative")
        else:
            amounts[column] = value
    return amounts


def parse_rows(
    header: Sequence[str], rows: Sequence[Mapping[str, str | None]], file: str = DATA_FILE
) -> tuple[list[KielRow], list[Problem]]:
    """Validate every cell of the data rows; return the rows that are valid and every problem found."""
    problems: list[Problem] = []
    missing = missing_columns(file, header, REQUIRED)
    if missing:
        return [], missing
    out: list[KielRow] = []
    seen: dict[tuple[str, int, int], int] = {}
    gdp_of: dict[str, tuple[Decimal, int]] = {}
    lines = getattr(rows, "lines", None) or list(range(2, len(rows) + 2))
    for n, raw in zip(lines, rows, strict=True):
        found: list[Problem] = []

        def cell(column: str, raw: Mapping[str, str | None] = raw) -> str:
            return (raw.get(column) or "").strip()

        def bad(column: str, message: str, n: int = n, found: list[Problem] = found) -> None:
            found.append(Problem(_where(file, n, column), message))

        if None in raw:  # DictReader puts extra cells under the key None
            bad("(row)", "more cells than columns in the header")
        country, iso = _donor(cell, bad)
        year, month = _int(cell("year")), _int(cell("month"))
        if year is None or not 2000 <= year <= 2100:
            bad("year", f"{cell('year')!r} is not a year (2000-2100)")
        if month is None or not 1 <= month <= 12:
            bad("month", f"{cell('month')!r} is not a month (1-12)")
        amounts = _amounts(cell, bad)
        if all(c in amounts for c in ("total", *CATEGORIES)):
            parts = sum((amounts[c] for c in CATEGORIES), Decimal(0))
            if abs(amounts["total"] - parts) > TOLERANCE:
                bad("total", f"{amounts['total']} is not the sum of military, financial and humanitarian ({parts})")
        if iso and year is not None and month is not None:
            first = seen.setdefault((iso, year, month), n)
            if first != n:
                bad("iso", f"{iso} {year}-{month:02d} is already given in row {first}")
        if iso and "gdp" in amounts:
            gdp, first_row = gdp_of.setdefault(iso, (amounts["gdp"], n))
            if gdp != amounts["gdp"]:
                bad("gdp", f"{amounts['gdp']} differs from {iso}'s GDP {gdp} in row {first_row}")
        if found:
            problems.extend(found)
            continue
        assert year is not None and month is not None
        out.append(KielRow(row=n, country=country, iso=iso, year=year, month=month, **amounts))
    return out, problems


def read_release(directory: Path) -> KielRelease:
    """Read and validate a release directory; raises `ValidationFailed` listing every problem found."""
    directory = Path(directory)
    problems: list[Problem] = []
    if not directory.is_dir():
        raise ValidationFailed([Problem(str(directory), "not a directory")])
    release = label = ""
    read = read_csv(directory / INFO_FILE, problems)
    if read is not None:
        header, info = read
        missing = missing_columns(INFO_FILE, header, ("release", "label"))
        if missing:
            problems.extend(missing)
        elif len(info) != 1:
            problems.append(Problem(INFO_FILE, f"expected exactly one release row, found {len(info)}"))
        else:
            release, label = (info[0]["release"] or "").strip(), (info[0]["label"] or "").strip()
            if not re.fullmatch(r"\d{1,4}", release):
                problems.append(Problem(_where(INFO_FILE, 2, "release"), f"{release!r} is not a release number"))
    read = read_csv(directory / DATA_FILE, problems)
    rows: list[KielRow] = []
    if read is not None:
        header, data = read
        rows, found = parse_rows(header, data)
        problems.extend(found)
        if not data and not found:
            problems.append(Problem(_where(DATA_FILE, 2, "(row)"), "no data rows"))
    if problems:
        raise ValidationFailed(problems)
    return KielRelease(release=release, label=label or f"Release {release}", rows=tuple(rows))


# The columns of Release 29's data_explorer.csv, in its order: what a release written for the tracker carries.
COLUMNS = ("country", "iso", "year", "month", "total", "financial", "humanitarian", "military", "commitments",
           "to_be_allocated", "gdp", "pct_gdp")
INFO_COLUMNS = ("release", "period", "date", "label")


def billions(amount_eur: Decimal) -> Decimal:
    """EUR -> € bn, exactly (the inverse of `eur`)."""
    return amount_eur.scaleb(-BILLION)


def _number(value: Decimal) -> str:
    return format(value.normalize() if value else Decimal(0), "f")


def data_explorer_csv(rows: Iterable[KielRow]) -> str:
    """Rows in the tracker's own layout (€ bn written exactly; `to_be_allocated` = commitments not yet allocated,
    never below 0; `pct_gdp` = total as % of GDP, 0 without GDP), readable back by `read_release`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        pct = r.total / r.gdp * 100 if r.gdp else Decimal(0)
        writer.writerow([csv_text(r.country), r.iso, r.year, r.month, *(_number(v) for v in (
            r.total, r.financial, r.humanitarian, r.military, r.commitments, max(r.commitments - r.total, Decimal(0)),
            r.gdp, pct))])
    return buffer.getvalue()


def release_info_csv(release: str, period: str, day: str, label: str) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows([INFO_COLUMNS, (release, period, day, csv_text(label))])
    return buffer.getvalue()
