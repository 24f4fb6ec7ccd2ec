"""Screenshots of every page (tests/web/page_catalogue.py) at 1280 px, on the demo, into docs/pages/, and the
index docs/pages.md that shows them. One command regenerates them all:

    .venv/bin/python -m tests.web.screenshots [--db demo.db]

Each page is viewed as its user (a demo user of the same role and member as the tests' web world's) through a
real server over the demo database, signed in with a real session; the server signs a checkpoint first, so that
the public page has one to show."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import sync_playwright

from contactgroup.domain.state import State
from contactgroup.services import accounts
from contactgroup.services import governance as gov
from contactgroup.services.clock import SystemClock
from contactgroup.services.coordination import Caller
from contactgroup.storage.database import Database
from tests.conftest import CHROMIUM
from tests.ledger_integration.conftest import serving
from tests.web.page_catalogue import PAGES

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "pages"
# The tests' web world's users, as the demo names users of the same role and member.
DEMO_USER = {"admin": "admin", "ukr": "ukr-liaison", "deu": "deu-desk", "fra": "fra-desk", "usa": "usa-desk",
             "fra-lead": "fra-lead", "analyst": "est-analyst"}


def _first(ids: object) -> str:
    return sorted(ids)[0] if ids else "none"  # type: ignore[call-overload]


def placeholders(state: State) -> dict[str, str]:
    """An object of each kind to show, from the demo."""
    return {"offer": _first(state.offers), "requirement": _first(state.requirements),
            "allocation": _first(state.allocations), "consent": _first(state.consents),
            "shipment": _first(state.deliveries), "proposal": _first(state.proposals)}


def file_name(path: str, user: str | None) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"
    return f"{slug}--{user or 'public'}.png"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="a demo database (default: build one; it is not changed but for "
                                                "the sessions and a checkpoint)")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        db_path = args.db or Path(folder) / "demo.db"
        if args.db is None:
            print("building the demo ...", file=sys.stderr)
            subprocess.run([str(Path(sys.executable).with_name("contactgroup")), "demo", "--db", str(db_path)],
                           check=True, capture_output=True)
        db = Database(f"sqlite:///{db_path}")
        if not db.state().proposals:  # the demo decides none: one open proposal, to show its page
            with db.transaction() as uow:
                gov.propose(uow, Caller("admin", SystemClock()), gov.ProposalKind.REMOVE_MEMBER, {"code": "USA"})
        state = db.state()
        ids = placeholders(state)
        key = Path(f"{db_path}.logkey")
        lines = ["# The pages", "",
                 "Every page at 1280 px on the demo's synthetic data, as the user it is for sees it.",
                 "Regenerate them all with `.venv/bin/python -m tests.web.screenshots` (they are taken by Chromium "
                 "from a real server).", ""]
        with serving(db.url, key if key.exists() else None) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
            for n, (path, user, what) in enumerate(PAGES, 1):
                context = browser.new_context(viewport={"width": 1280, "height": 1000})
                if user is not None:
                    started = accounts.start_session(db, state.users[DEMO_USER[user]], now=datetime.now(UTC),
                                                     source="screenshots")
                    context.add_cookies([{"name": accounts.SESSION_COOKIE, "value": started.cookie, "url": url},
                                         {"name": accounts.CSRF_COOKIE, "value": started.csrf, "url": url}])
                page = context.new_page()
                shown = path.format(**ids)
                print(f"[{n}/{len(PAGES)}] {shown} as {user or 'nobody'}", file=sys.stderr)
                answer = page.goto(url + shown, wait_until="networkidle")
                if answer is None or answer.status >= 400:
                    print(f"  answered {answer.status if answer else 'nothing'}", file=sys.stderr)
                name = file_name(path, user)
                page.screenshot(path=OUT / name)  # the first screenful: what a reader sees on arrival
                context.close()
                viewer = f"as {DEMO_USER[user]}" if user else "before signing in"
                lines += [f"## {what}", "", f"`{shown}`, {viewer}.", "", f"![{what}](pages/{name})", ""]
            browser.close()
    (ROOT / "docs" / "pages.md").write_text("\n".join(lines), encoding="utf-8")
    print(f"{len(PAGES)} pages in {OUT.relative_to(ROOT)}; index docs/pages.md", file=sys.stderr)


if __name__ == "__main__":
    main()
