"""Gaps: the highest-priority requirements not fully met, with what is missing and why.

A requirement misses what is not confirmed for it, plus the confirmed units that arrived short, damaged or as the
wrong item and are still owed. Each missing unit gets one reason, in this order:
- `owed_after_receipt`: confirmed, shipped, but arrived short, damaged or wrong, and not yet replaced;
- `needs_consent`, `waiting_for_consent`, `consent_refused`: allocated, or free on a compatible offer, but the
  offer waits for a re-export consent — not requested, requested, or refused (the rule `allocate` follows too:
  `command.consent_standing`, whose words the detail repeats);
- `not_yet_confirmed`: held by an allocation pending acceptance or confirmation;
- `no_compatible_offer`: no open offer (offered, committed, allocated, in delivery) of a satisfying item;
- `not_yet_allocated`: compatible units are free — an allocation run would cover them;
- `declined`: compatible units are free, but their offer was declined for this requirement;
- `taken_by_higher_priority`: compatible units exist but are held by higher-priority requirements;
- `insufficient_quantity`: compatible offers simply do not add up to the need.
A row's `reason` is the one covering the most units. No offer id or donor is ever named: offers may be
confidential, so a reader gets counts and reasons only.

A requirement is a gap, too, while units confirmed for it are expected after its needed-by date (`late`, with the
latest ETA; the service that computes the report works the ETAs out from the transport network): a requirement
whose units are all confirmed but late has the reason `arriving_late`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from contactgroup.domain.command import ALLOCATABLE_OFFER, NOT_REQUESTED, consent_standing, declined_pair
from contactgroup.domain.model import Allocation, AllocationStatus, Offer, RequirementStatus
from contactgroup.domain.state import State
from contactgroup.reports.scope import EVERYTHING, Scope

REASONS = ("owed_after_receipt", "needs_consent", "waiting_for_consent", "consent_refused", "not_yet_confirmed",
           "no_compatible_offer", "not_yet_allocated", "declined", "taken_by_higher_priority",
           "insufficient_quantity")
# A met requirement is still a gap while units confirmed for it are owed after a short receipt.
OPEN = (RequirementStatus.OPEN, RequirementStatus.PARTIALLY_MET, RequirementStatus.MET)
DEFAULT_LIMIT = 20


@dataclass(frozen=True, slots=True)
class GapRow:
    rank: int
    requirement: str
    item_class: str
    item_class_name: str
    area: str
    priority: int
    needed_by: date
    status: str
    needed: int
    committed: int  # legacy key: = confirmed
    confirmed: int  # units in confirmed allocations
    pending: int
    owed: int  # confirmed units owed after a short receipt (counted in `missing`)
    missing: int
    reason: str
    breakdown: tuple[tuple[str, int], ...]  # (reason, units), in the order of REASONS
    detail: str
    late: int = 0  # confirmed units expected after the needed-by date (not counted in `missing`)
    eta: date | None = None  # the latest ETA of those units

    @property
    def reasons(self) -> str:
        return "; ".join(f"{reason}={units}" for reason, units in self.breakdown)


# reason -> (one unit, several units): the detail a reader sees, with thousands separators.
_DETAIL = {
    "owed_after_receipt": ("{n} unit owed after a short receipt", "{n} units owed after a short receipt"),
    "not_yet_confirmed": ("{n} allocated unit awaits acceptance or confirmation",
                          "{n} allocated units await acceptance or confirmation"),
    "no_compatible_offer": ("no open offer of an item in this class for {n} unit",
                            "no open offer of an item in this class for {n} units"),
    "not_yet_allocated": ("{n} compatible offered unit is free to allocate",
                          "{n} compatible offered units are free to allocate"),
    "declined": ("{n} compatible unit was declined for this requirement",
                 "{n} compatible units were declined for this requirement"),
    "taken_by_higher_priority": ("{n} compatible unit is held by higher-priority requirements",
                                 "{n} compatible units are held by higher-priority requirements"),
    "insufficient_quantity": ("compatible offers fall {n} unit short", "compatible offers fall {n} units short"),
}


def detail(reason: str, n: int) -> str:
    one, several = _DETAIL[reason]
    return (one if n == 1 else several).format(n=f"{n:,}")


def consent_reason(standing: str) -> str:
    """The reason code of a consent standing ("needs consent (not requested)", "consent refused on DATE")."""
    if standing == NOT_REQUESTED:
        return "needs_consent"
    return "consent_refused" if standing.startswith("consent refused") else "waiting_for_consent"


def consent_detail(n: int, standing: str) -> str:
    return f"{n:,} unit{'' if n == 1 else 's'}: {standing}"


class _Tally:
    """Missing units handed to reasons in order until none are left; consent units also by their standing."""

    def __init__(self, missing: int) -> None:
        self.left = missing
        self.units: dict[str, int] = defaultdict(int)
        self.consents: dict[str, int] = defaultdict(int)

    def count(self, reason: str, n: int, why: str | None = None) -> None:
        n = min(n, self.left)
        if n > 0:
            self.units[reason] += n
            self.left -= n
            if why is not None:
                self.consents[why] += n


ARRIVING_LATE = "arriving_late"  # a row's reason when nothing is missing but confirmed units arrive late


def _words(breakdown: Sequence[tuple[str, int]], consents: Mapping[str, int], late_units: int,
           eta: date | None, why: str = "") -> list[str]:
    """A gap's reasons in words, in the breakdown's order, then its late units (and why the latest waits)."""
    words = []
    for r, n in breakdown:
        if r in ("needs_consent", "waiting_for_consent", "consent_refused"):
            words += [consent_detail(k, why) for why, k in sorted(consents.items()) if consent_reason(why) == r]
        else:
            words.append(detail(r, n))
    if late_units:
        words.append(f"{late_units:,} confirmed unit{'' if late_units == 1 else 's'} expected after the "
                     f"needed-by date (latest {eta}{': ' + why if why else ''})")
    return words


def gaps(state: State, limit: int | None = DEFAULT_LIMIT, scope: Scope = EVERYTHING,
         late: Mapping[str, tuple[int, date, str]] | None = None) -> list[GapRow]:
    """The first `limit` unmet open requirements in scope (area, kind, needed by a day in the window) by priority
    (then needed-by date, then id), and those whose confirmed units arrive after their needed-by date (`late`:
    units, latest ETA and why that shipment waits, by requirement). A gap names no donor, so it takes no member
    filter; the reason names places and countries only."""
    late = late or {}
    held: dict[str, int] = defaultdict(int)  # offer -> units in allocations that are not declined (or released)
    confirmed: dict[str, int] = defaultdict(int)
    live: dict[str, list[Allocation]] = defaultdict(list)  # requirement -> pending allocations
    for a in state.allocations.values():
        if a.status is AllocationStatus.DECLINED:
            continue
        held[a.offer] += a.quantity + a.released
        if a.status is AllocationStatus.CONFIRMED:
            confirmed[a.requirement] += a.quantity
        else:
            live[a.requirement].append(a)
    by_item: dict[str, list[Offer]] = defaultdict(list)
    for o in state.offers.values():
        if o.status in ALLOCATABLE_OFFER:
            by_item[o.item].append(o)
    standing = {o.id: why for o in state.offers.values() if (why := consent_standing(state, o)) is not None}

    owed = {r.id: state.owed_after_receipt(r.id) for r in state.requirements.values() if r.status in OPEN}
    candidates = sorted(
        (r for r in state.requirements.values() if r.status in OPEN
         and (r.quantity - confirmed[r.id] + owed[r.id] > 0 or r.id in late)
         and scope.requirement(state, r) and scope.within(r.needed_by)),
        key=lambda r: (r.priority, r.needed_by, r.id),
    )
    if limit is not None:
        candidates = candidates[: max(limit, 0)]
    rows = []
    for rank, req in enumerate(candidates, start=1):
        missing = max(req.quantity - confirmed[req.id], 0) + owed[req.id]
        tally = _Tally(missing)
        count = tally.count
        count("owed_after_receipt", owed[req.id])
        for a in live[req.id]:
            why = standing.get(a.offer)
            count(consent_reason(why) if why else "not_yet_confirmed", a.quantity, why)
        cls = state.item_classes.get(req.item_class)
        compatible = [o for item in (cls.items if cls else ()) for o in by_item.get(item, [])]
        if not compatible:
            count("no_compatible_offer", tally.left)
        # Free units an allocation run could use first, then those waiting for a consent, then declined ones.
        kinds = [("declined" if declined_pair(state, o.id, req.id) is not None else "consent" if standing.get(o.id)
                  else "free", o) for o in compatible]
        for kind, o in sorted(kinds, key=lambda ko: ("free", "consent", "declined").index(ko[0])):
            free = max(o.quantity - held[o.id], 0)
            if kind == "consent":
                why = standing[o.id]
                count(consent_reason(why), free, why)
            else:
                count("not_yet_allocated" if kind == "free" else "declined", free)
        if tally.left:
            ids = {o.id for o in compatible}
            higher = sum(
                a.quantity for a in state.allocations.values()
                if a.offer in ids and a.status is not AllocationStatus.DECLINED
                and a.requirement != req.id and state.requirements[a.requirement].priority < req.priority
            )
            count("taken_by_higher_priority", higher)
        count("insufficient_quantity", tally.left)
        units, consents = tally.units, tally.consents
        breakdown = tuple((r, units[r]) for r in REASONS if units[r])
        main = max(breakdown, key=lambda ru: (ru[1], -REASONS.index(ru[0])))[0] if breakdown else ARRIVING_LATE
        late_units, eta, why = late.get(req.id, (0, None, ""))
        words = _words(breakdown, consents, late_units, eta, why)
        rows.append(GapRow(
            rank=rank, requirement=req.id, item_class=req.item_class, item_class_name=cls.name if cls else "",
            area=req.area, priority=req.priority, needed_by=req.needed_by, status=req.status.value,
            needed=req.quantity, committed=confirmed[req.id], confirmed=confirmed[req.id],
            pending=sum(a.quantity for a in live[req.id]),
            owed=owed[req.id], missing=missing, reason=main, breakdown=breakdown, detail="; ".join(words),
            late=late_units, eta=eta,
        ))
    return rows
