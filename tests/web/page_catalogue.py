"""Every page, who to view it as, and what it shows: the screenshots in docs/pages/ are taken of these
(`python -m tests.web.screenshots`), on the demo. A user is named as in the tests' web world (`admin`, `ukr`,
`deu`, `fra`, `usa`, `fra-lead`, `analyst`, or None: nobody signed in); `{offer}`, `{requirement}`, `{allocation}`,
`{consent}`, `{shipment}`, `{proposal}` in a path stand for an object of that kind the user may see."""

from __future__ import annotations

PAGES: list[tuple[str, str | None, str]] = [
    ("/", None, "The start page, before signing in"),
    ("/sign-in", None, "Sign in: password and the authenticator's code (or a passkey)"),
    ("/enrol", None, "Enrolment with the one-time code"),
    ("/public", None, "The public figures: what the transparency release shows"),
    ("/", "deu", "A desk officer's home: what awaits its action"),
    ("/account", "deu", "My account: tokens, passkeys, security log"),
    ("/reports", "analyst", "The reports"),
    ("/reports/coverage", "analyst", "Coverage by priority tier, as a chart and a table"),
    ("/reports/burden", "analyst", "Burden sharing in EUR and as % of GDP"),
    ("/reports/lag", "analyst", "Pledge-to-delivery lag"),
    ("/reports/gaps", "analyst", "Gaps at the top of the list, and why"),
    ("/network", "analyst", "The transport network drawn from its coordinates; a shipment's route over it"),
    # the desk's work (the coordinator sees every object, so the first of each kind shows whatever the demo holds)
    ("/offers", "deu", "A desk's offers: search, filters by status, member and item class"),
    ("/offers/new", "deu", "Entering an offer"),
    ("/offers/{offer}", "admin", "An offer: its terms, its allocations, its history, and what may be done to it"),
    ("/offers/{offer}/amend", "admin", "Amending an offer's terms (a form read from an older version is refused)"),
    ("/offers/upload", "deu", "Uploading a spreadsheet of offers: every bad row shown, nothing written until clean"),
    ("/allocations", "deu", "Allocations, with those awaiting the desk chosen by checkbox and moved together"),
    ("/allocations/{allocation}", "admin", "An allocation: the requirement and the offer it pairs, its value and "
                                           "why it stands as it does"),
    ("/consents", "fra", "Re-export consents asked of the desk's member"),
    ("/consents/{consent}", "admin", "A consent: what it consents to (item, quantity, end use, destination)"),
    # the lead's and the coordinator's
    ("/allocation-run", "fra-lead", "The allocation run for a coalition's area: a preview first"),
    ("/record", "analyst", "The record: latest checkpoint, each witness's last cosigned size, verify on request"),
    ("/governance", "admin", "Governance proposals, open and decided; proposing"),
    ("/governance/{proposal}", "admin", "A proposal: approvals refreshed as they arrive, the text to sign, a signed "
                                        "note handed in"),
    ("/governance/propose/admit-member", "deu", "Proposing to admit a member"),
    ("/users", "admin", "Users: add one (its enrolment code shown once); the security log"),
    ("/users", "deu", "A desk officer's users: its own member's"),
    ("/members", "admin", "Members with their latest GDP year and IATI identifier"),
    # the liaison's
    ("/requirements", "ukr", "The requirements, by priority, with what covers each"),
    ("/requirements/new", "ukr", "Entering a requirement (saved as a draft, or submitted)"),
    ("/requirements/{requirement}", "ukr", "A requirement: its allocations, history and what the liaison may do"),
    ("/requirements/{requirement}", "admin", "A requirement as the coordinator sees it (validate, open, close)"),
    ("/requirements/{requirement}/amend", "ukr", "Amending a requirement (a stale form is refused)"),
    ("/requirements/{requirement}/history", "ukr", "A requirement's history: every event, with its log index"),
    ("/requirements/ranking?area=artillery", "ukr", "Re-ranking one area's requirements: move up / move down"),
    ("/shipments", "deu", "Shipments: what the desk has to dispatch, and every shipment of its member"),
    ("/shipments", "ukr", "Shipments: what the liaison has to receive"),
    ("/shipments/dispatch", "deu", "Dispatching units of a confirmed allocation"),
    ("/shipments/{shipment}", "ukr", "A shipment as the liaison sees it: received, with units short, damaged or wrong"),
]
