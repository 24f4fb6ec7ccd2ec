"""`allocate`: propose the optimal allocation of offers to requirements, from a problem file or from the record."""

from __future__ import annotations

import json
import os
import stat
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from contactgroup.cli import seam
from contactgroup.cli.common import AsOption, DbOption, handles_errors, worded
from contactgroup.domain.errors import ContactGroupError, Problem, ValidationFailed
from contactgroup.ledger.atomicfile import write_atomic
from contactgroup.services import allocation as runs
from contactgroup.services.coordination import Caller
from contactgroup.storage.database import UnitOfWork

if TYPE_CHECKING:  # the solver (numpy, OR-Tools) is imported only when a command allocates
    from contactgroup.allocation import AllocationProblem, Plan


def allocate(
    problem: Path | None = typer.Option(
        None, "--problem", help="AllocationProblem file (JSON, see docs/formats/allocation.md); no database is used."
    ),
    plan: Path | None = typer.Option(None, "--plan", help="Where to write the plan (JSON); '-' for stdout."),
    compare: bool = typer.Option(
        True, "--compare/--no-compare", help="Also run the greedy top-down fill and show what the optimum gains."
    ),
    area: str | None = typer.Option(None, "--area", help="Database mode: only this capability area's requirements."),
    request_consent: bool = typer.Option(
        False, "--request-consent",
        help="Database mode: also request the re-export consents not yet requested of the offers held back for one."),
    db: DbOption = None,
    as_: AsOption = None,
) -> None:
    """Allocate offers to requirements: most units at the highest priorities, then least lateness.

    With --problem, it works on a problem file without any database and writes the plan (JSON).

    The plan lists the allocations, each requirement's coverage, and the reasons for every shortfall.

    Without --problem, it allocates the open requirements of the database, or of one --area.

    A coalition lead names the area it leads. The plan is recorded as proposed allocations.

    Confirmed and accepted allocations stay; earlier proposals stay where no better plan differs.

    A pair a party declined is not proposed again until reopened.

    The run lists the offers it held back for a consent or a decline, naming only offers you may see.

    --request-consent (the coordinator) requests the consents not yet requested of those offers.

    On invalid input it lists every bad field and writes nothing.
    """
    if problem is None:
        _from_database(db, as_, area, plan, request_consent)
        return
    if request_consent:
        _fail([Problem("--request-consent", "applies to the database only; a problem file records nothing")], 2)
    if area is not None:
        _fail([Problem("--area", "applies to the database only; a problem file holds the requirements to plan")], 2)
    if db is not None and db != os.environ.get("CONTACTGROUP_DB"):  # given on the command line, not inherited
        _fail([Problem("--db", "applies without --problem only; a problem file needs no database")], 2)
    if plan is None:
        _fail([Problem("--plan", "missing: say where to write the plan (a file, or '-' for stdout)")], 2)
    to_stdout = str(plan) == "-"
    console = Console(stderr=to_stdout, soft_wrap=True)
    try:
        from contactgroup.allocation import plan_to_dict, problem_from_dict, solve

        value = problem_from_dict(_read(problem))
        started = time.perf_counter()
        exact = solve(value)
        exact_seconds = time.perf_counter() - started
        text = json.dumps(plan_to_dict(exact), indent=2, ensure_ascii=False) + "\n"
        if to_stdout:
            typer.echo(text, nl=False)
        else:
            _write(plan, text, problem)
        comparison = _compare(value) if compare else None
    except ValidationFailed as exc:
        _fail(exc.problems, exc.exit_code)
    except ContactGroupError as exc:
        _fail([Problem("", worded(exc))], exc.exit_code)
    _summary(console, exact, exact_seconds, comparison, None if to_stdout else plan)


@dataclass(frozen=True, slots=True)
class Ran:
    """What an allocation run did, as this command prints it, whether it ran here or on the server (whose
    `/allocation-runs` answers with the same fields)."""

    tiers: tuple[runs.Tier, ...]
    proposed: tuple[str, ...]
    kept: int
    declined: int
    seconds: float
    plan: dict[str, Any]
    events: tuple[int, int] | None = None
    held_back: tuple[runs.HeldBack, ...] = ()
    consents_requested: tuple[str, ...] = ()


@handles_errors
def _from_database(db: str | None, as_: str | None, area: str | None, plan: Path | None,
                   request_consent: bool) -> None:
    """Database mode: propose allocations for the open requirements from the record's current state (or the
    server's, recorded through its `/allocation-runs`)."""

    def run_here(uow: UnitOfWork, who: Caller) -> Ran:
        from contactgroup.allocation import plan_to_dict
        from contactgroup.services.allocation import propose_optimal

        run = propose_optimal(uow, who, area, request_consent=request_consent)
        ran = Ran(run.tiers, run.proposed, run.kept, run.declined, run.seconds, plan_to_dict(run.plan), run.events,
                  run.held_back, run.consents_requested)
        _plan_out(plan, ran)  # inside the transaction: a plan that cannot be written records nothing
        return ran

    served = seam.Remote("POST", "/api/v1/allocation-runs", seam.typed(Ran),
                         json={"area": area, "request_consent": request_consent, "record": True})
    run = seam.change(db, as_, run_here, served)
    if seam.against_server():
        _plan_out(plan, run)
    _run_summary(run, plan)


def _plan_out(plan: Path | None, run: Ran) -> None:
    if plan is not None:
        text = json.dumps(run.plan, indent=2, ensure_ascii=False) + "\n"
        typer.echo(text, nl=False) if str(plan) == "-" else _write(plan, text, None)


def _run_summary(run: Ran, plan: Path | None) -> None:
    table = Table(title="Units per priority", title_justify="left")
    for column in ("priority", "needed", "before", "after", "greedy", "gain"):
        table.add_column(column, justify="right", no_wrap=True)
    for t in run.tiers:
        table.add_row(str(t.priority), f"{t.needed:,}", f"{t.before:,}", f"{t.after:,}", f"{t.greedy:,}",
                      f"{t.after - t.greedy:+,}")
    sums = [sum(getattr(t, f) for t in run.tiers) for f in ("needed", "before", "after", "greedy")]
    table.add_row("all", *(f"{v:,}" for v in sums), f"{sums[2] - sums[3]:+,}", style="bold")
    console = Console(stderr=plan is not None and str(plan) == "-")
    console.print(table)
    console.print("before: units these requirements held before this run (confirmed, accepted, and earlier "
                  "proposals not yet accepted); after: the new plan's; greedy: the top-down fill's; gain: after "
                  "minus greedy.", highlight=False)
    recorded = (f"recorded as events {run.events[0]:,} to {run.events[1]:,}" if run.events
                else "nothing recorded")
    console.print(f"{len(run.proposed):,} allocations proposed, {run.kept:,} earlier proposals kept, "
                  f"{run.declined:,} superseded; {recorded}; solve time {run.seconds:.3f} s. Donors and the "
                  f"recipient now accept them (`contactgroup allocation move ID accept`).", highlight=False)
    for held in run.held_back:
        named = ", ".join(held.offers)
        others = f"{held.hidden:,} offer{'s' if held.hidden != 1 else ''} you may not see"
        which = "; ".join(x for x in (named, others if held.hidden else "") if x)
        console.print(f"held back, {held.reason}: {which} ({held.units:,} units)", highlight=False, markup=False)
    if run.consents_requested:
        console.print(f"consents requested: {', '.join(run.consents_requested)}", highlight=False)


def _fail(problems: list[Problem], code: int) -> NoReturn:
    err = Console(stderr=True, soft_wrap=True)
    for finding in problems:
        err.print(f"[bold red]error:[/] {escape(str(finding))}", highlight=False)
    raise typer.Exit(code)


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValidationFailed(f"no such file: {path}", where="--problem") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationFailed(f"cannot read {path}: {exc}", where="--problem") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"not valid JSON: {exc.msg}", where=f"{path}:{exc.lineno}:{exc.colno}") from None


def _write(path: Path, text: str, problem: Path | None) -> None:
    """Write the whole plan or nothing: a reader never sees half a file, and a failure leaves none.

    A symbolic link is written through (its target is replaced, the link stays); a device or pipe such as
    /dev/null is written into directly, since there is no file to replace. A new file gets the usual mode
    (0666 less the umask), a replaced one keeps its mode.
    """
    try:
        found = path.stat()  # follows links
    except FileNotFoundError:
        found = None
    except OSError as exc:
        raise ValidationFailed(f"cannot write {path}: {exc.strerror}", where="--plan") from None
    if found is not None and stat.S_ISDIR(found.st_mode):
        raise ValidationFailed(f"{path} is a directory; name the plan file to write", where="--plan")
    if found is not None and problem is not None and _same_file(path, problem):
        raise ValidationFailed(f"{path} is the problem file; write the plan to another file", where="--plan")
    data = text.encode("utf-8")
    try:
        if found is not None and not stat.S_ISREG(found.st_mode):
            with path.open("wb") as f:
                f.write(data)
            return
        write_atomic(os.path.realpath(path), data,
                     mode=stat.S_IMODE(found.st_mode) if found is not None else 0o666 & ~_umask())
    except OSError as exc:
        raise ValidationFailed(f"cannot write {path}: {exc.strerror or exc}", where="--plan") from None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it; it is put back at once
    os.umask(mask)
    return mask


def _compare(value: AllocationProblem) -> tuple[Plan, float]:
    started = time.perf_counter()
    from contactgroup.allocation import greedy

    quick = greedy(value)
    return quick, time.perf_counter() - started


def _summary(
    console: Console, exact: Plan, seconds: float, comparison: tuple[Plan, float] | None, written: Path | None
) -> None:
    quick = comparison[0] if comparison else None
    table = Table(title="Allocation: units covered per priority", title_justify="left")
    for column in ("priority", "needed", "covered", *(("greedy", "gain") if quick else ()), "short"):
        table.add_column(column, justify="right", no_wrap=True)
    for level in exact.levels:
        row = [str(level.priority), f"{level.needed:,}", f"{level.covered:,}"]
        if quick:
            other = quick.covered(level.priority)
            row += [f"{other:,}", f"{level.covered - other:+,}"]
        table.add_row(*row, f"{level.needed - level.covered:,}")
    needed = sum(level.needed for level in exact.levels)
    covered = sum(level.covered for level in exact.levels)
    total = ["all", f"{needed:,}", f"{covered:,}"]
    if quick:
        other = sum(level.covered for level in quick.levels)
        total += [f"{other:,}", f"{covered - other:+,}"]
    table.add_row(*total, f"{needed - covered:,}", style="bold")
    console.print(table)
    lateness = f"lateness: {exact.total_lateness:,} unit-days"
    pairs = f"offer-requirement pairs: {exact.pairs:,}"
    if quick:
        lateness += f" (greedy {quick.total_lateness:,})"
        pairs += f" (greedy {quick.pairs:,})"
    console.print(lateness, highlight=False)
    console.print(pairs, highlight=False)
    reasons = Counter(str(r) for c in exact.requirements for r in c.reasons)
    short = sum(1 for c in exact.requirements if c.shortfall)
    if short:
        why = ", ".join(f"{name} {n}" for name, n in sorted(reasons.items(), key=lambda x: (-x[1], x[0])))
        console.print(f"requirements not fully covered: {short} ({why})", highlight=False)
    timing = f"solve time: {seconds:.3f} s"
    if comparison:
        timing += f" (greedy fill {comparison[1]:.3f} s)"
    console.print(timing, highlight=False)
    if written is not None:
        console.print(f"plan written to {written}", highlight=False)
