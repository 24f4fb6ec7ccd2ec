"""The offers spreadsheet a desk officer fills in: one row per offer, checked cell by cell before anything is
written. Columns: member, item, quantity, available_from, depot, and optionally ref (the desk's own reference),
id (an offer already recorded, as `offer list` exports it), source, visibility, value, currency, basis,
consent_from, end_use, status (draft, offered, committed for a new offer), committed_on (the pledge date of a
committed offer; default today). Row numbers are the file's own (header = 1, blank lines counted)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from contactgroup.domain.model import Offer, OfferStatus, Source, ValuationBasis, Visibility
from contactgroup.io.spreadsheet import Parsed, RowCheck, Sheet, header_checked

REQUIRED = ("member", "item", "quantity", "available_from", "depot")
OPTIONAL = ("ref", "id", "source", "visibility", "value", "currency", "basis", "consent_from", "end_use", "status",
            "committed_on")
NEW_STATUSES = (OfferStatus.DRAFT, OfferStatus.OFFERED, OfferStatus.COMMITTED)  # a row may enter
# What `offer list --format csv|xlsx` writes, in this order: a file it wrote imports unchanged.
EXPORT = ("id", "ref", "member", "item", "quantity", "available_from", "depot", "source", "status", "visibility",
          "value", "currency", "basis", "consent_from", "end_use", "committed_on")
# The fields a row compares with the offer it names (by id or ref): an amendment if any differs.
COMPARED = ("item", "quantity", "available_from", "depot", "source", "visibility", "value", "currency", "basis",
            "consent_from", "end_use")

# What each column means: the template's "columns" sheet and docs/formats/offers.md say the same.
HELP = {
    "ref": "your desk's own reference for the offer (optional; unique per member): importing the file again then "
           "changes nothing",
    "member": "the offering member (ISO3), or a fund code for what a fund bought",
    "item": "catalogue item code or name, in any case",
    "quantity": "whole number of units, at least 1",
    "available_from": "date: YYYY-MM-DD, DD.MM.YYYY or a date cell",
    "depot": "country the offer ships from (ISO3), or the code of a place of the network",
    "source": "stocks (default) or procurement",
    "visibility": "member (default), coalition, recipient or public",
    "value": "declared total value (optional); needs currency and basis",
    "currency": "ISO 4217 code of value",
    "basis": "market, replacement or book value",
    "consent_from": "member whose re-export consent is needed",
    "end_use": "end-use restrictions, free text",
    "status": "offered (default), draft or committed",
    "committed_on": "with status committed: the date it was pledged (default today)",
    "id": "leave empty: an offer already recorded, as offer list exports it",
}
TEMPLATE = ("ref", *REQUIRED, "source", "visibility", "value", "currency", "basis", "consent_from", "end_use",
            "status", "committed_on")


@dataclass(frozen=True, slots=True)
class OfferRow:
    line: int  # the spreadsheet's row number (header = 1)
    offer: Offer  # id: the `id` cell ("" if none)
    status: OfferStatus
    committed_on: date | None = None


def parse_offers(sheet: Sheet, source: str) -> Parsed[OfferRow]:
    """Every row checked; the offers and every problem found (file, row, column)."""
    header = header_checked(sheet, source, REQUIRED, OPTIONAL)
    if header.problems:
        return header
    problems, columns, ignored = header.problems, header.columns, header.ignored
    parsed = []
    for row in sheet.rows:
        check = RowCheck(source, row, REQUIRED, sheet.decimal_comma)
        value = check.number("value")
        if value is not None and value < 0:
            check.problem("value", f"must not be negative, got {value}")
        status = check.choice("status", OfferStatus) or OfferStatus.OFFERED
        committed_on = check.day("committed_on")
        if committed_on is not None and status is not OfferStatus.COMMITTED and not check.text("id"):
            check.problem("committed_on", "a commitment date needs status committed")
        offer = Offer(
            id=check.text("id"), member=check.text("member"), item=check.text("item"),
            quantity=check.units("quantity"), available_from=check.day("available_from") or date.min,
            depot=check.text("depot").upper(), source=check.choice("source", Source) or Source.STOCKS,
            status=OfferStatus.DRAFT, visibility=check.choice("visibility", Visibility) or Visibility.MEMBER,
            value=value, currency=check.text("currency").upper() or None, basis=check.choice("basis", ValuationBasis),
            consent_from=check.text("consent_from") or None, end_use=check.text("end_use"),
            ref=check.text("ref"),
        )
        problems.extend(check.found)
        if not check.found:
            parsed.append(OfferRow(row.line, offer, status, committed_on))
    return Parsed(parsed, problems, columns, ignored)
