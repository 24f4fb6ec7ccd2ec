"""The heaviest pages against the same data as JSON, fetched by Chromium from one server in one run (issue 13).

On the demo, signed in as the coordinator (who sees every offer), Chromium loads each page and its JSON
counterpart in turn, `--rounds` times:
- the offers list (`/offers`, its first page of 50) against `GET /api/v1/offers?limit=50`;
- the burden report (`/reports/burden`) against `GET /api/v1/reports/burden`.
For each it reports the median time to first byte (Navigation Timing: responseStart - requestStart) and its ratio
to the JSON's (the target: within 2x), the median full load time (to the load event, charts included) and the
page's weight (the document and every resource it loaded, as transferred). The server is `contactgroup serve`'s
own (uvicorn, one worker) on 127.0.0.1.

Usage: .venv/bin/python bench/pages.py [--rounds 15] [--db demo.db]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from contactgroup.services import accounts
from contactgroup.storage.database import Database
from tests.ledger_integration.conftest import serving

CHROMIUM = "/usr/bin/chromium"
PAIRS = (("offers list", "/offers", "/api/v1/offers?limit=50"),
         ("burden report", "/reports/burden", "/api/v1/reports/burden"))
TIMING = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const resources = performance.getEntriesByType("resource");
  return {ttfb: nav.responseStart - nav.requestStart, load: nav.loadEventEnd - nav.startTime,
          bytes: nav.transferSize + resources.reduce((sum, r) => sum + r.transferSize, 0)};
}"""


def measure(page: Page, url: str) -> dict[str, float]:
    page.goto(url, wait_until="load")
    page.wait_for_function("performance.getEntriesByType('navigation')[0].loadEventEnd > 0")
    timing: dict[str, float] = page.evaluate(TIMING)
    return timing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--db", type=Path, help="a demo database to use (default: build one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db_path = args.db or Path(folder) / "demo.db"
        if args.db is None:
            print("building the demo ...", file=sys.stderr)
            subprocess.run([str(Path(sys.executable).with_name("contactgroup")), "demo", "--db", str(db_path)],
                           check=True, capture_output=True)
        db = Database(f"sqlite:///{db_path}")
        started = accounts.start_session(db, db.state().users["admin"], now=datetime.now(UTC), source="bench")
        with serving(db.url, None) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.add_cookies([{"name": accounts.SESSION_COOKIE, "value": started.cookie, "url": url},
                                 {"name": accounts.CSRF_COOKIE, "value": started.csrf, "url": url}])
            page = context.new_page()
            rows = []
            for name, html, json_path in PAIRS:
                measure(page, url + html)  # warm: the first drawing of a chart starts its renderer
                measure(page, url + json_path)
                pages, jsons = [], []
                for n in range(args.rounds):
                    print(f"\r{name}: round {n + 1}/{args.rounds}", end="", file=sys.stderr)
                    pages.append(measure(page, url + html))
                    jsons.append(measure(page, url + json_path))
                print(file=sys.stderr)
                ttfb = statistics.median(p["ttfb"] for p in pages)
                json_ttfb = statistics.median(j["ttfb"] for j in jsons)
                rows.append((name, html, ttfb, json_ttfb, statistics.median(p["load"] for p in pages),
                             statistics.median(p["bytes"] for p in pages),
                             statistics.median(j["bytes"] for j in jsons)))
            browser.close()
    print(f"Chromium {CHROMIUM}, {args.rounds} rounds, medians; demo database; one uvicorn worker on 127.0.0.1\n")
    print("| page | TTFB HTML | TTFB JSON | ratio (target ≤ 2) | full load | page weight | JSON weight |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, path, ttfb, json_ttfb, load, weight, json_weight in rows:
        print(f"| {name} (`{path}`) | {ttfb:.1f} ms | {json_ttfb:.1f} ms | {ttfb / json_ttfb:.2f} | {load:.0f} ms "
              f"| {weight / 1024:.0f} KiB | {json_weight / 1024:.0f} KiB |")


if __name__ == "__main__":
    main()
