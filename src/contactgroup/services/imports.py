"""Reference-data imports: the Kiel Ukraine Support Tracker and exchange rates. All rows valid, or nothing.

Each import runs inside the caller's unit of work: any error (a bad cell, a refused permission, a release
already imported) leaves the database as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from contactgroup.domain import command
from contactgroup.domain.errors import Conflict
from contactgroup.domain.model import Gdp, TrackedDonor
from contactgroup.io import kiel
from contactgroup.io.rates import read_rates
from contactgroup.services import coordination as svc
from contactgroup.storage.database import UnitOfWork

Progress = Callable[[int, int], None]  # (done, total) entries
BATCH = 250


@dataclass(frozen=True, slots=True)
class KielSummary:
    source: str  # "Kiel UST Release 29"
    label: str
    rows: int
    donors: int
    donors_tracked: tuple[str, ...]  # donors that are not members, recorded as tracked donors (not admitted)
    gdp_recorded: int
    entries: int  # TrackedAid entries recorded
    allocated_eur: Decimal
    committed_eur: Decimal


@dataclass(frozen=True, slots=True)
class RatesSummary:
    file: str
    rates: int
    currencies: tuple[str, ...]
    first: str
    last: str


def import_kiel(
    uow: UnitOfWork, caller: svc.Caller, directory: Path, progress: Progress | None = None
) -> KielSummary:
    """Import a Kiel UST release: 2021 GDP in EUR and monthly aid per category of every donor. A donor that is not a
    member is recorded as a tracked donor, never admitted: admitting is the members' decision once governance is in
    force, and a tracker's figures say nothing about who coordinates.

    A release already imported is refused (`Conflict`): importing it again would count it twice. A newer
    release may be imported; reports then use the newest release only.
    """
    svc.authorized(uow, caller, "import:reference")
    release = kiel.read_release(directory)
    state = uow.state
    already = sum(1 for a in state.tracked_aid.values() if a.source == release.source)
    if already:
        raise Conflict(f"{release.source} is already imported ({already} entries); "
                       f"importing it again would count it twice")
    aid = release.tracked_aid()
    donors = release.donors()
    total = len(aid)
    if progress:
        progress(0, total)
    tracked = []
    gdp_recorded = 0
    for donor in donors:
        if donor.iso not in state.members and donor.iso not in state.tracked_donors:
            ctx = svc.authorized(uow, caller, "import:reference")
            svc.record_events(uow, command.track_donor(state, ctx, TrackedDonor(donor.iso, donor.name, donor.kind,
                                                                                  release.source)))
            tracked.append(donor.iso)
        if donor.gdp_eur is not None:
            svc.record_gdp(uow, caller, Gdp(donor.iso, kiel.GDP_YEAR, donor.gdp_eur, "EUR", release.source))
            gdp_recorded += 1
    for start in range(0, total, BATCH):
        svc.track_aid(uow, caller, aid[start:start + BATCH])
        if progress:
            progress(min(start + BATCH, total), total)
    return KielSummary(
        source=release.source, label=release.label, rows=len(release.rows), donors=len(donors),
        donors_tracked=tuple(tracked), gdp_recorded=gdp_recorded, entries=total,
        allocated_eur=sum((a.allocated_eur for a in aid), Decimal(0)),
        committed_eur=sum((a.committed_eur for a in aid), Decimal(0)),
    )


def import_rates(uow: UnitOfWork, caller: svc.Caller, path: Path) -> RatesSummary:
    """Record every rate of a `currency,date,per_eur` file; a rate for a currency and date already known is
    replaced by the file's."""
    svc.authorized(uow, caller, "import:reference")
    rates = read_rates(path)
    svc.record_rates(uow, caller, rates)
    days = sorted(r.on for r in rates)
    return RatesSummary(file=Path(path).name, rates=len(rates),
                        currencies=tuple(sorted({r.currency for r in rates})),
                        first=days[0].isoformat(), last=days[-1].isoformat())
