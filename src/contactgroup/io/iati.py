"""IATI activity XML 2.03 (https://iatistandard.org/en/iati-standard/203/activity-standard/): one activity per
publishing member and aid category, its monthly totals as transactions.

Elements are written in the order the 2.03 schema's sequence requires; codes are from IATI's code lists:
organisation type 10 (government), role 1 (funding), activity status 2 (implementation), transaction types
2 (outgoing commitment) and 3 (disbursement), sector vocabulary 1 (OECD DAC 5-digit)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

VERSION = "2.03"
OUTGOING_COMMITMENT = "2"
DISBURSEMENT = "3"


@dataclass(frozen=True, slots=True)
class Transaction:
    type: str  # OUTGOING_COMMITMENT or DISBURSEMENT
    on: date  # the first day of the month it totals
    value_eur: Decimal


@dataclass(frozen=True, slots=True)
class Activity:
    identifier: str  # <organisation identifier>-<activity's own part>
    organisation: str  # the member's IATI organisation identifier
    organisation_name: str
    title: str
    description: str
    recipient_country: str  # ISO 3166 alpha-2
    sector: str  # DAC 5-digit purpose code
    humanitarian: bool
    start: date
    transactions: tuple[Transaction, ...]


def _narrative(parent: ET.Element, tag: str, text: str, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    ET.SubElement(element, "narrative").text = text
    return element


def _activity(parent: ET.Element, a: Activity, updated: str) -> None:
    attrs = {"last-updated-datetime": updated, "{http://www.w3.org/XML/1998/namespace}lang": "en",
             "default-currency": "EUR", "humanitarian": "1" if a.humanitarian else "0"}
    activity = ET.SubElement(parent, "iati-activity", attrs)
    ET.SubElement(activity, "iati-identifier").text = a.identifier
    _narrative(activity, "reporting-org", a.organisation_name, ref=a.organisation, type="10")
    _narrative(activity, "title", a.title)
    _narrative(activity, "description", a.description)
    _narrative(activity, "participating-org", a.organisation_name, ref=a.organisation, role="1", type="10")
    ET.SubElement(activity, "activity-status", code="2")
    ET.SubElement(activity, "activity-date", {"iso-date": a.start.isoformat(), "type": "2"})
    ET.SubElement(activity, "recipient-country", code=a.recipient_country, percentage="100")
    ET.SubElement(activity, "sector", vocabulary="1", code=a.sector, percentage="100")
    for t in a.transactions:
        transaction = ET.SubElement(activity, "transaction")
        ET.SubElement(transaction, "transaction-type", code=t.type)
        ET.SubElement(transaction, "transaction-date", {"iso-date": t.on.isoformat()})
        value = ET.SubElement(transaction, "value", {"currency": "EUR", "value-date": t.on.isoformat()})
        value.text = format(t.value_eur, "f")


def activities_xml(activities: Sequence[Activity], generated: datetime) -> bytes:
    """An `iati-activities` document (UTF-8, with its XML declaration)."""
    stamp = generated.isoformat(timespec="seconds")
    root = ET.Element("iati-activities", {"version": VERSION, "generated-datetime": stamp})
    for a in activities:
        _activity(root, a, stamp)
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data
