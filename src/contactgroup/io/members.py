"""The reference member list shipped with the package (compiled from public sources; see SOURCES.md)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources

from contactgroup.domain.model import Gdp, Member, MemberKind


@dataclass(frozen=True, slots=True)
class ReferenceMember:
    member: Member
    gdp: Gdp | None


def reference_members() -> list[ReferenceMember]:
    """The contact group's members with NATO/EU flags, currency and 2023 GDP (World Bank, current US$)."""
    text = resources.files("contactgroup.data").joinpath("members.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    out = []
    for row in rows:
        member = Member(
            code=row["iso3"], name=row["name"], kind=MemberKind.NATION, currency=row["currency"],
            nato=row["nato_member"] == "yes", eu=row["eu_member"] == "yes",
        )
        gdp = None
        if row["gdp_usd_2023"]:
            gdp = Gdp(row["iso3"], 2023, Decimal(row["gdp_usd_2023"]), "USD", "World Bank WDI NY.GDP.MKTP.CD")
        out.append(ReferenceMember(member, gdp))
    return out
