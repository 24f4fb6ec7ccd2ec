"""One-paragraph summaries of coverage and burden sharing, for the demo and other places that print a digest."""

from __future__ import annotations

from contactgroup.domain.state import State
from contactgroup.reports.burden import burden
from contactgroup.reports.coverage import coverage
from contactgroup.reports.facts import SYNTHETIC_CAPTION, is_synthetic


def _tag(state: State) -> str:
    return f" [{SYNTHETIC_CAPTION}]" if is_synthetic(state) else ""


def coverage_summary(state: State) -> str:
    """E.g. "Coverage: 212 requirements, 61.3% of 1,200,000 units committed, 40.2% delivered; 3 tiers ..."."""
    rows = coverage(state, "tier")
    needed = sum(r.needed for r in rows)
    if not needed:
        return f"Coverage: no validated requirements yet.{_tag(state)}"
    committed = sum(r.committed for r in rows)
    delivered = sum(r.delivered for r in rows)
    count = sum(r.requirements for r in rows)
    lines = [f"Coverage{_tag(state)}: {count} requirements, {needed:,} units needed; "
             f"{committed / needed:.1%} committed, {delivered / needed:.1%} delivered, "
             f"{sum(r.missing for r in rows):,} units missing."]
    for r in rows[:3]:
        lines.append(f"  priority {r.priority}: {r.committed:,}/{r.needed:,} committed ({r.committed_share:.0%}), "
                     f"{r.missing:,} missing")
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
