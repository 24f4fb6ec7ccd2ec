"""One-paragraph summaries of coverage and burden sharing, for the demo and other places that print a digest."""

from __future__ import annotations

from decimal import Decimal

from contactgroup.domain.state import State
from contactgroup.reports.burden import burden
from contactgroup.reports.coverage import coverage
from contactgroup.reports.facts import SYNTHETIC_CAPTION, is_synthetic


def _tag(state: State) -> str:
    return f" [{SYNTHETIC_CAPTION}]" if is_synthetic(state) else ""


def coverage_summary(state: State) -> str:
    """E.g. "Coverage: 212 requirements in 30 item classes, €4.6bn needed; 61.3% confirmed, 40.2% delivered ..."
    — in value, since units of different item classes do not add up."""
    rows = coverage(state, "tier")
    count = sum(r.requirements for r in rows)
    if not count:
        return f"Coverage: no validated requirements yet.{_tag(state)}"
    classes = len(coverage(state, "class"))
    needed = sum((r.needed_eur or Decimal(0) for r in rows), Decimal(0))
    if not needed or any(r.needed_eur is None for r in rows):
        return f"Coverage{_tag(state)}: {count} requirements in {classes} item classes (some without a unit value)."
    confirmed = sum((r.confirmed_eur or Decimal(0) for r in rows), Decimal(0))
    delivered = sum((r.delivered_eur or Decimal(0) for r in rows), Decimal(0))
    missing = sum((r.missing_eur or Decimal(0) for r in rows), Decimal(0))
    lines = [f"Coverage{_tag(state)}: {count} requirements in {classes} item classes, €{needed:,.0f} needed; "
             f"{confirmed / needed:.1%} confirmed, {delivered / needed:.1%} delivered, €{missing:,.0f} missing."]
    for r in rows[:3]:
        lines.append(f"  priority {r.priority}: {r.confirmed_share_of_need or 0:.0%} of €{r.needed_eur or 0:,.0f} "
                     f"confirmed, €{r.missing_eur or 0:,.0f} missing")
    return "\n".join(lines)


def burden_summary(state: State, top: int = 5) -> str:
    """Total committed/allocated/delivered in EUR and the largest contributors by allocated value."""
    rows = burden(state)
    allocated = sum(r.allocated_eur for r in rows)
    committed = sum(r.committed_eur for r in rows)
    delivered = sum(r.delivered_eur for r in rows)
    lines = [f"Burden sharing{_tag(state)}: €{committed:,.0f} committed, €{allocated:,.0f} allocated, "
             f"€{delivered:,.0f} delivered."]
    for r in rows[:top]:
        if not r.allocated_eur:
            break
        pct = f", {r.allocated_pct_gdp:.3f}% of GDP {r.gdp_year}" if r.allocated_pct_gdp is not None else ""
        lines.append(f"  {r.member} {r.name}: €{r.allocated_eur:,.0f} allocated ({r.share_of_total:.1%} of total{pct})")
    return "\n".join(lines)
