"""What every command shares: the --db and --as options, error rendering, and table/CSV/JSON output."""

from __future__ import annotations

import csv
import enum
import functools
import io
import json
import re
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich import box
from rich.console import Console
from rich.errors import MarkupError
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from contactgroup.cli import remote
from contactgroup.domain.errors import ContactGroupError, DatabaseBusy, DatabaseUnavailable, ValidationFailed
from contactgroup.domain.state import State
from contactgroup.domain.text import visible, whole
from contactgroup.encoding.canonical import plain
from contactgroup.io.spreadsheet import Cell, csv_text, write_xlsx
from contactgroup.reports.facts import SYNTHETIC_CAPTION
from contactgroup.services import queries
from contactgroup.services.clock import SystemClock
from contactgroup.services.coordination import Caller
from contactgroup.storage.database import Database, resolve_url, retrying

P = ParamSpec("P")
R = TypeVar("R")


class PlainConsole(Console):
    """A console that stored text cannot act through: every string it renders has its control and invisible
    formatting characters written out (`\\x1b`, `\\u202e`), so no escape sequence or OSC 8 link from the record
    reaches a reader's terminal, and a message whose markup does not parse (a stored `[/]`) is shown as plain text
    instead of failing. Values from the record go into tables as plain `Text` (see `fit_table`), never as markup."""

    def render_str(self, text: str, **kwargs: Any) -> Text:
        text = visible(text)
        try:
            return super().render_str(text, **kwargs)
        except MarkupError:
            return super().render_str(text, **{**kwargs, "markup": False})


out = PlainConsole(soft_wrap=True)
err = PlainConsole(stderr=True, soft_wrap=True)

DbOption = Annotated[
    str | None,
    typer.Option("--db", envvar="CONTACTGROUP_DB", show_envvar=True,
                 help="Database: a file path (SQLite) or a URL like postgresql+psycopg://host/db. "
                      "Default ./contactgroup.db."),
]
AsOption = Annotated[
    str | None,
    typer.Option("--as", envvar="CONTACTGROUP_USER", show_envvar=True,
                 help="The registered user you act as (see `contactgroup user list`)."),
]


class Format(enum.StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    XLSX = "xlsx"


FormatOption = Annotated[Format, typer.Option("--format", "-f", help="Output: a table, CSV, JSON, or an XLSX "
                                                                      "workbook written to standard output "
                                                                      "(redirect it: `> offers.xlsx`).")]


def whole_number(value: str | int) -> int:
    """A whole-number option as the record takes it (`parser=whole_number`): `1_000` or `١٠` are refused, not
    read as 1000 and 10 the way `int()` would (click then says which option and why, exit 2)."""
    return value if isinstance(value, int) else whole(value)


def whole_number_in(low: int, high: int | None = None) -> Callable[[str | int], int]:
    """`whole_number` kept within low..high (`parser=whole_number_in(1, 3650)`): click's min and max do not apply to
    an option that has a parser of its own, so the range is checked here."""

    def parse(value: str | int) -> int:
        number = whole_number(value)
        if number < low or (high is not None and number > high):
            upper = f" and less than or equal to {high}" if high is not None else ""
            raise ValueError(f"{number} must be greater than or equal to {low}{upper}")
        return number

    return parse


def fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    return typer.Exit(code)


def handles_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Render platform errors as one clear message and a non-zero exit, never a traceback. The command runs in
    the unit-of-work runner (`retrying`): a writer that lost a race to another wrote nothing and runs again."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return retrying(lambda: fn(*args, **kwargs))
        except ValidationFailed as exc:
            lines = [worded(exc)] if exc.code in HINTS else [str(p) for p in exc.problems]
            raise fail(lines[0] if len(lines) == 1 else f"{len(lines)} problems:\n  " + "\n  ".join(lines),
                       exc.exit_code) from None
        except (DatabaseBusy, DatabaseUnavailable) as exc:
            raise fail(_database_error(exc), exc.exit_code) from None
        except ContactGroupError as exc:
            raise fail(worded(exc), exc.exit_code) from None

    return wrapper


# How the command line words the errors whose hint is one of its own options or commands: the domain and the
# services say what went wrong (`code` and `params`), each front door says what to do about it.
_LISTED_BY = {"member": "member list", "capability area": "coalition list", "fund": "fund list"}
_GOVERNED_BY = {
    "member:admit": "`contactgroup governance propose admit-member`",
    "coalition:form": "`contactgroup governance propose change-lead --area AREA --name NAME --lead M`",
}
HINTS: Mapping[str, Callable[[ContactGroupError], str]] = {
    "unknown-user": lambda e: f"{e}: pass --as NAME or set CONTACTGROUP_USER to a registered user "
                              "(`contactgroup user list`)",
    "disabled-user": lambda e: f"{e}: whoever manages its party's users can enable it "
                               f"(`contactgroup user enable {e.params['user']}`)",
    "missing-rate": lambda e: f"{e}; supply one with `contactgroup import rates FILE`",
    "past-needed-by": lambda e: f"{e} (--on DATE)",
    "governed": lambda e: f"{e} ({_GOVERNED_BY[str(e.params['action'])]})",
    "received-requirement": lambda e: f"{str(e).removesuffix(')')}: "
                                      f"`contactgroup requirement move {e.params['id']} close`)",
    "not-found": lambda e: (f"{e} (see `contactgroup {_LISTED_BY[str(e.params['kind'])]}`)"
                            if e.params.get("kind") in _LISTED_BY else str(e)),
    "no-checkpoint": lambda e: f"{e}: run `contactgroup ledger checkpoint`",
    "no-covering-checkpoint": lambda e: f"{e}: sign one with `contactgroup ledger checkpoint`"
                                        + (" and let the witnesses cosign it" if e.params["witnessed"] else ""),
    "tree-mismatch": lambda e: f"{e}: run `contactgroup verify`",
    "no-log-key": lambda e: f"{e}: `contactgroup init` records it (or `contactgroup ledger init-key`)",
    "witness-key-change": lambda e: f"{e}; pass --replace to change its key to {e.params['key']}",
    "schema-behind": lambda e: f"{e}: back it up, then run `contactgroup migrate`",
    "not-signed-in": lambda e: f"{e}: `contactgroup login`",
    "no-database": lambda e: f"{e}: run `contactgroup init` (or `contactgroup demo`) first",
    "report-filter": lambda e: "; ".join(f"--{p.where.replace('_', '-')}: {p.message}"
                                         for p in getattr(e, "problems", ())),
}


def worded(exc: ContactGroupError) -> str:
    """The error as this command line says it: its message, with the hint that names a CLI option or command."""
    hint = HINTS.get(exc.code)
    return hint(exc) if hint else str(exc)


def _database_error(exc: DatabaseBusy | DatabaseUnavailable) -> str:
    """One line a user can act on, instead of a driver's traceback; nothing was written."""
    if isinstance(exc, DatabaseBusy):
        return f"{exc}: run the command again"
    return f"{exc}: check --db / CONTACTGROUP_DB" if exc.reason in ("not-a-database", "unusable") else str(exc)


SUPPORTED_DATABASES = ("sqlite", "postgresql+psycopg")


def database(db: str | None, *, local: bool = False) -> Database:
    """The database `--db` / CONTACTGROUP_DB names; an unsupported URL is refused before any driver loads. With a
    server named (CONTACTGROUP_SERVER), only a command `local` by nature (setting up a database, checking a copy)
    opens one: the others refuse rather than quietly act on a local database."""
    if not local:
        _not_beside_a_server(db)
    elif (where := remote.server()) is not None:
        err.print(f"note: this command works on a local database by nature, not on {where}", highlight=False)
    url = resolve_url(db)
    scheme = url.split("://", 1)[0].lower()
    if scheme not in SUPPORTED_DATABASES:
        hint = " (write postgresql+psycopg://...)" if scheme in ("postgresql", "postgres") else ""
        raise fail(f"--db: {scheme}:// databases are not supported{hint}; use a file path or sqlite:///PATH "
                   "(SQLite), or postgresql+psycopg://USER@HOST/DB (PostgreSQL)", 2)
    return Database(db)


def open_to_all(db: str | None, as_: str | None) -> State:
    """The state, for a list or show open to every user: it still takes --as, like every command, and refuses an
    unknown name."""
    remote.refuse_local_identity(as_, db)
    state = database(db).state()
    queries.reader(state, as_)
    return state


def _not_beside_a_server(db: str | None) -> None:
    if remote.server() is None:
        return
    remote.refuse_local_identity(None, db)
    raise ValidationFailed(f"this command does not run against a server yet: unset {remote.SERVER_ENV} to run it "
                           "on a local database, or use the server's API (docs/api.md)", code="local-command")


def caller(as_: str | None) -> Caller:
    if remote.server() is not None:
        remote.refuse_local_identity(as_, None)
        _not_beside_a_server(None)
    if not as_:
        raise fail("say who you are: pass --as NAME or set CONTACTGROUP_USER (see `contactgroup user list`)", 2)
    return Caller(as_, SystemClock())


@contextmanager
def writer(db: str | None) -> Iterator[Any]:
    """A unit of work on the chosen database; all or nothing."""
    with database(db).transaction() as uow:
        yield uow


def emit(rows: Sequence[Mapping[str, Any]], fmt: Format, *, title: str = "", columns: Sequence[str] = (),
         caption: str = "", drop: Sequence[str] = (), synthetic: bool = False) -> None:
    """Print rows as a Rich table, CSV or JSON (JSON keeps numbers exact: decimals are strings).

    `synthetic` (a demo database) labels every form as the reports do: the title and caption, and a `synthetic`
    field of every CSV and JSON row."""
    cols = list(columns) or (list(rows[0].keys()) if rows else [])
    if synthetic:
        rows = [{**r, "synthetic": True} for r in rows]
        cols = [*cols, "synthetic"] if fmt is not Format.TABLE else cols
        title = f"{title} — {SYNTHETIC_CAPTION}" if title else SYNTHETIC_CAPTION
        caption = f"{SYNTHETIC_CAPTION}. {caption}" if caption else SYNTHETIC_CAPTION
    if fmt is Format.JSON:
        sys.stdout.write(json.dumps([plain(dict(r)) for r in rows], indent=2, ensure_ascii=False) + "\n")
        return
    if fmt is Format.XLSX:
        _xlsx_out(rows, cols)
        return
    if fmt is Format.CSV:
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: csv_text(v) if isinstance(v := r.get(k), str) else _cell(v) for k in cols})
        sys.stdout.write(buf.getvalue())
        return
    if not rows:
        out.print(f"{title}: none" if title else "none", highlight=False, markup=False)
        if caption:
            out.print(caption, highlight=False, markup=False)
        return
    table_cols = []
    for c in cols:
        sample = next((r.get(c) for r in rows if r.get(c) is not None), None)
        numeric = isinstance(sample, int | float | Decimal) and not isinstance(sample, bool)
        cells = [_cell(r.get(c)) for r in rows]
        table_cols.append(Column(c, HEADINGS.get(c, c), cells, numeric=numeric, short=c not in TEXT_COLUMNS))
    out.print(fit_table(table_cols, title=title, caption=caption, width=out.width, drop=drop))


def _xlsx_out(rows: Sequence[Mapping[str, Any]], cols: Sequence[str]) -> None:
    """The rows as a one-sheet workbook of typed cells (`write_xlsx`), written to standard output as bytes; a
    terminal is refused, since a workbook shown there is noise."""
    if sys.stdout.isatty():
        raise fail("--format xlsx writes a workbook: redirect it to a file (`> list.xlsx`)", 2)

    def value(v: Any) -> Cell:
        if isinstance(v, enum.Enum):
            return str(v.value)
        if isinstance(v, tuple | list):
            return ", ".join(str(x) for x in v)
        if isinstance(v, str):
            return _typed(v)
        return v if isinstance(v, int | Decimal | date | bool) or v is None else str(v)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "list.xlsx"
        write_xlsx(path, cols, ([value(r.get(c)) for c in cols] for r in rows))
        sys.stdout.flush()
        sys.stdout.buffer.write(path.read_bytes())
        sys.stdout.buffer.flush()


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CANONICAL_NUMBER = re.compile(r"-?(0|[1-9][0-9]{0,14})(\.[0-9]{0,14}[1-9])?")


def _typed(text: str) -> Cell:
    """A row's text (rows carry dates and decimals as their canonical strings) as the cell a spreadsheet shows:
    a date as a date, a number as a number, but only where the cell reads back as the same text (no leading or
    trailing zeros, at most 15 digits a spreadsheet's float keeps exactly); anything else stays text."""
    if _ISO_DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            return text
    if _CANONICAL_NUMBER.fullmatch(text) and len(text.replace("-", "").replace(".", "")) <= 15:
        return int(text) if "." not in text else Decimal(text)
    return text


# Table headings (CSV and JSON keep the field names): short, so that numbers and ids keep their room at 80 columns.
HEADINGS: Mapping[str, str] = {
    "quantity": "qty", "available_from": "from", "visibility": "visible", "currency": "cur", "consent_from": "consent",
    "allocation": "alloc", "dispatched_on": "sent", "received_on": "received on", "received": "good",
    "wrong_item": "wrong", "damaged": "dmg", "item_class": "class", "needed_by": "needed by", "priority": "prio",
    "destination": "to", "requirement": "req", "proposed_on": "proposed", "requested_on": "requested",
    "decided_on": "decided", "unit_value_eur": "EUR/unit", "committed_on": "committed", "contributors": "donors",
    "pledged_on": "pledged", "member_share": "share %", "contribution": "id", "value_eur": "EUR",
}
# Free text that may fold onto several lines; every other column (ids, codes, numbers, dates) is never cut.
TEXT_COLUMNS = frozenset({"name", "note", "end_use", "destination", "items", "leads", "detail", "reason", "value_text"})


@dataclass
class Column:
    """A table column: its key, heading and rendered cells; `short` columns are never wrapped or cut."""

    key: str
    heading: str
    cells: list[str]
    numeric: bool = False
    short: bool = True

    def __post_init__(self) -> None:
        # Widths are measured on what is shown: escapes written out, tabs as the spaces a terminal would show.
        self.cells = [visible(c).expandtabs() for c in self.cells]

    @property
    def need(self) -> int:
        """The width this column cannot do without."""
        widest = max((len(c) for c in self.cells), default=0)
        if self.short:
            return max(widest, len(self.heading), 1)
        return min(max(widest, len(self.heading)), 12)


def fit_table(columns: Sequence[Column], *, title: str = "", caption: str = "", width: int = 80,
              drop: Sequence[str] = ()) -> Table:
    """A Rich table that fits `width` without cutting a number, id, code or date.

    Empty columns are left out; then, while the table is too wide, the columns named in `drop` (in that order,
    else the last ones) are left out and the caption says which. Text columns fold onto several lines."""
    cols = [c for c in columns if any(c.cells)] or list(columns[:1])
    dropped: list[str] = []
    order = [k for k in drop if any(c.key == k for c in cols)] or [c.key for c in reversed(cols[1:])]

    def total(cs: Sequence[Column]) -> int:
        return sum(c.need for c in cs) + 3 * (len(cs) - 1)

    while total(cols) > width and len(cols) > 1 and order:
        gone = order.pop(0)
        cols = [c for c in cols if c.key != gone]
        dropped.append(gone)
    if dropped:
        note = f"left out at this width: {', '.join(dropped)} (widen the terminal or use --format csv)"
        caption = f"{caption}; {note}" if caption else note
    # Title, caption and cells are plain Text: a value from the record is shown as written, never read as markup.
    table = Table(title=Text(visible(title)) if title else None, caption=Text(visible(caption)) if caption else None,
                  caption_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for c in cols:
        if c.short:
            table.add_column(c.heading, justify="right" if c.numeric else "left", no_wrap=True, min_width=c.need)
        else:
            table.add_column(c.heading, justify="left", overflow="fold", ratio=1, min_width=c.need)
    for i in range(len(columns[0].cells) if columns else 0):
        table.add_row(*(Text(c.cells[i]) for c in cols))
    return table


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"  # as in JSON, and as the docs write it
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, tuple | list):
        return ", ".join(str(v) for v in value)
    return str(value)
