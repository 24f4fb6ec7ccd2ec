"""The one vocabulary of the reports: every field a report emits, defined once.

The source of the glossary in docs/reports.md (a test holds the two equal) and of the "Definitions" sheet of every
XLSX report. Burden's meaning of committed, allocated and delivered — the one that reproduces the Kiel tracker —
holds in every report; coverage and gaps say `confirmed` for what they used to call committed, and keep their old
JSON keys (`committed`, `allocated`) as legacy aliases.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# The three words every report uses in one meaning only.
VOCABULARY: Mapping[str, str] = {
    "committed": "pledged by a donor: its offers committed or further along (committed, allocated, in delivery, "
                 "delivered — not drafts, not withdrawn) at full value, money it pledged to funds, and a tracker's "
                 "commitments",
    "allocated": "tied to a recipient's need by a confirmed allocation (for a donor: the value share of its offers "
                 "in confirmed allocations, plus a tracker's allocations)",
    "delivered": "received: units that arrived in shipments marked received, net of short, damaged and wrong items",
}

# field (a JSON key, CSV column and XLSX heading of some report) -> its meaning.
GLOSSARY: Mapping[str, str] = {
    # coverage
    "grouping": "which rollup a coverage row is: requirement, class (item class), tier (priority) or area",
    "key": "the row's requirement id, item class code, priority number or capability area code",
    "name": "the item class's name, \"priority N\", or the capability coalition's or donor's name",
    "priority": "1 = most important; requirements of equal priority form one tier",
    "area": "the capability area (coalition) code",
    "status": "the requirement's status",
    "requirements": "how many requirements the row counts",
    "item_classes": "how many item classes the row's requirements ask for; unit totals are given only where "
                    "this is 1 (units of different classes are never added)",
    "needed": "units needed: the requirement's quantity",
    "pending": "units in allocations proposed or accepted, not yet confirmed",
    "confirmed": "units in confirmed allocations: the recipient's side of allocated",
    "delivered": "units delivered (received, net of short, damaged and wrong items)",
    "missing": "needed − confirmed (never below zero) plus the confirmed units owed after a short receipt, summed "
               "per requirement so one over-covered requirement cannot hide another's shortfall",
    "committed": "LEGACY key of coverage and gaps, kept for existing readers: the same number as confirmed "
                 "(not committed in the one vocabulary)",
    "allocated": "LEGACY key of coverage, kept for existing readers: units in allocations not declined "
                 "(pending + confirmed)",
    "unit_value_eur": "the reference value of one unit of the item class: the mean catalogue unit value of its "
                      "items that have one, to the cent (EUR); the yardstick for needed and covered value alike",
    "needed_eur": "value of the needed units at the reference unit value (EUR)",
    "confirmed_eur": "value of the confirmed units at the reference unit value (EUR)",
    "delivered_eur": "value delivered (EUR): in coverage at the reference unit value; in burden the value of the "
                     "units received of the donor's offers",
    "missing_eur": "value of the missing units at the reference unit value (EUR)",
    "confirmed_share_of_need": "confirmed_eur / needed_eur, a fraction (0..1 and above when over-covered)",
    "delivered_share_of_need": "delivered_eur / needed_eur, a fraction",
    # burden
    "member": "the donor: ISO 3166 alpha-3 code, or an organisation's code such as EU",
    "kind": "nation or organisation",
    "committed_eur": "committed value (EUR): " + VOCABULARY["committed"],
    "allocated_eur": "allocated value (EUR): " + VOCABULARY["allocated"],
    "share_of_total": "a fraction (0..1) of the sum of allocated_eur over all rows",
    "gdp_year": "the GDP year used (--gdp-year, else the donor's latest)",
    "gdp_eur": "that year's GDP in EUR (annual average ECB rate)",
    "allocated_pct_gdp": "allocated_eur as percent of GDP (0.5 = half of one percent)",
    "committed_pct_gdp": "committed_eur as percent of GDP",
    "unvalued_offers": "offers with neither a declared value nor a catalogue unit value: counted as zero",
    "tracked_only": "a donor known from a tracker's figures only, not a member",
    # lag
    "category": "item category: military, humanitarian or financial",
    "shipments": "received shipments observed (one observation each)",
    "units": "pieces received over those shipments, of whatever items: a count, not a quantity of one thing "
             "(JSON and CSV only; tables, workbooks and PDFs leave it out)",
    "median_days": "middle observation of days from commitment to receipt (mean of the two middle ones)",
    "p90_days": "nearest-rank 90th percentile of those days",
    "min_days": "fewest days from commitment to receipt",
    "max_days": "most days from commitment to receipt",
    # gaps
    "rank": "position among the unmet requirements, by priority, needed-by date and id",
    "requirement": "the requirement's id",
    "item_class": "the item class code the requirement asks for",
    "item_class_name": "the item class's name",
    "needed_by": "the date the recipient needs it by",
    "owed": "confirmed units owed after a short receipt (counted in missing)",
    "reason": "the reason covering the most missing units (arriving_late when none is missing but confirmed units "
              "are expected after the needed-by date)",
    "late": "confirmed units expected after the needed-by date, by the earliest route of each open shipment on the "
            "transport network (else the recorded transit days), leaving when its offer is available or when it "
            "was dispatched; not counted in missing",
    "eta": "the latest expected arrival of the late units",
    "breakdown": "every reason with its missing units (JSON)",
    "reasons": "every reason with its missing units, as text",
    "detail": "the reasons in words",
    # every report on a demo database
    "synthetic": "true on a demo database: the figures are generated, not real",
}


def defined(keys: Iterable[str]) -> list[tuple[str, str]]:
    """(field, meaning) for each field, in the order given; a field the glossary lacks is an error, not a gap."""
    fields = list(keys)
    missing = [f for f in fields if f not in GLOSSARY]
    if missing:
        raise KeyError(f"not in the glossary: {', '.join(missing)}")
    return [(f, GLOSSARY[f]) for f in fields]


def markdown() -> str:
    """The glossary as docs/reports.md shows it (between its glossary markers)."""
    lines = ["| term | one meaning in every report |", "|---|---|"]
    lines += [f"| **{term}** | {meaning} |" for term, meaning in VOCABULARY.items()]
    lines += ["", "| field (JSON key, CSV column, XLSX heading) | meaning |", "|---|---|"]
    lines += [f"| `{field}` | {meaning} |" for field, meaning in GLOSSARY.items()]
    return "\n".join(lines) + "\n"
