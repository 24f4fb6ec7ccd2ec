"""Every page, the user to view it as and the data it needs: what the screenshot command visits (docs/pages/).
Each area adds its own pages."""

from __future__ import annotations

# (path, user, what the page needs to show something)
PAGES: list[tuple[str, str, str]] = [
    ("/requirements", "ukr", "requirements in several statuses, one open with a confirmed allocation (coverage)"),
    ("/requirements/new", "ukr", "the catalogue's item classes"),
    ("/requirements/R-00001", "ukr", "an open requirement with an allocation and a history"),
    ("/requirements/R-00001", "admin", "a submitted requirement: the coordinator's validate / return buttons"),
    ("/requirements/R-00001/amend", "ukr", "an open requirement"),
    ("/requirements/ranking", "ukr", "several open requirements of different priorities"),
    ("/shipments", "deu", "a confirmed allocation of DEU's still owing units (to dispatch), and shipments"),
    ("/shipments", "ukr", "a dispatched shipment (to receive)"),
    ("/shipments/dispatch?allocation=A-00001", "deu", "a confirmed allocation of DEU's owing units"),
    ("/shipments/D-00001", "ukr", "a dispatched shipment: the receipt form"),
    ("/shipments/D-00001", "deu", "a shipment of DEU's: the tracking buttons"),
]
