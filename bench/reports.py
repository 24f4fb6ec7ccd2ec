"""Benchmark of the reports in every format on the demo data: each report (`coverage`, `burden`, `lag`, `gaps`)
as table, CSV, JSON, XLSX and PDF through the real command (in process, so without the ~0.5 s of Python start-up
a `contactgroup` call adds). Prints a Markdown table for docs/performance.md.

Usage: .venv/bin/python bench/reports.py [--repeat 3]

Each figure is the best of --repeat runs (the machine is shared). Each run loads the state from the database, as
a `contactgroup report` call does; the first PDF of a process also pays for starting vl-convert's JavaScript
engine, shown on its own line.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from typer.testing import CliRunner

from contactgroup.cli.main import app

REPORTS = {"coverage": (), "burden": (), "lag": (), "gaps": ("--limit", "50")}
FORMATS = ("table", "csv", "json", "xlsx", "pdf")


def best(repeat: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    runner = CliRunner()
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "demo.db")
        built = runner.invoke(app, ["demo", "--db", db, "--force"])
        assert built.exit_code == 0, built.output

        def run(report: str, fmt: str) -> Callable[[], None]:
            target = Path(tmp) / f"{report}.{fmt}"
            output = () if fmt == "table" else ("--output", str(target))

            def once() -> None:
                result = runner.invoke(app, ["report", report, *REPORTS[report], "--db", db, "-f", fmt, *output],
                                       env={"COLUMNS": "120"})
                assert result.exit_code == 0, result.output

            return once

        first_pdf = best(1, run("lag", "pdf"))
        rows = []
        for report in REPORTS:
            figures = [best(args.repeat, run(report, fmt)) for fmt in FORMATS]
            sizes = [(Path(tmp) / f"{report}.{fmt}").stat().st_size for fmt in ("xlsx", "pdf")]
            rows.append(f"| {report} | " + " | ".join(f"{t:.3f} s" for t in figures)
                        + f" | {sizes[0] / 1024:,.0f} KB / {sizes[1] / 1024:,.0f} KB |")
    print(f"best of {args.repeat}; each run loads the state, computes the report and writes it")
    print()
    print("| report | " + " | ".join(FORMATS) + " | XLSX / PDF size |")
    print("|---|" + "---|" * (len(FORMATS) + 1))
    print("\n".join(rows))
    print()
    print(f"first PDF in a process (starts vl-convert's JavaScript engine): {first_pdf:.3f} s")


if __name__ == "__main__":
    main()
