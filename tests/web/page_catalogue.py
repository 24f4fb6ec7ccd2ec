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
    ("/allocation-run", "fra-lead", "The allocation run for a coalition's area: a preview first"),
    ("/record", "analyst", "The record: latest checkpoint, each witness's last cosigned size, verify on request"),
    ("/governance", "admin", "Governance proposals, open and decided; proposing"),
    ("/governance/{proposal}", "admin", "A proposal: approvals refreshed as they arrive, the text to sign, a signed "
                                        "note handed in"),
    ("/governance/propose/admit-member", "deu", "Proposing to admit a member"),
    ("/users", "admin", "Users: add one (its enrolment code shown once); the security log"),
    ("/users", "deu", "A desk officer's users: its own member's"),
    ("/members", "admin", "Members with their latest GDP year and IATI identifier"),
]
