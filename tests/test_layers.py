"""The import-layer contract of docs/architecture.md: each package of `contactgroup` imports only the packages
below it, read from the source with `ast` (so a lazy import inside a function counts as well)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "contactgroup"

_PURE = {"encoding", "domain"}
# Package -> the packages of contactgroup it may import. Front doors on top, the pure core and encoding at the bottom.
MAY_IMPORT: dict[str, set[str]] = {
    "encoding": set(),
    "domain": {"encoding"},
    "allocation": _PURE,
    "ledger": _PURE,  # the error tree only (checked below)
    "io": _PURE | {"reports"},  # a report's description only (checked below), to write it as XLSX or PDF
    "reports": _PURE,
    "mobility": _PURE,
    "storage": _PURE | {"ledger"},
    "data": set(),
    "services": _PURE | {"allocation", "mobility", "ledger", "io", "reports", "storage"},
    "api": _PURE | {"allocation", "mobility", "ledger", "io", "reports", "storage", "services"},
    "cli": _PURE | {"allocation", "mobility", "ledger", "io", "reports", "storage", "services"},
    "web": _PURE | {"allocation", "mobility", "ledger", "io", "reports", "storage", "services"},
    "__main__": {"cli"},
    "__init__": set(),
}
# Single modules that cross a line on purpose, with the reason.
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("cli/ledger.py", "api"): "`contactgroup serve` starts the HTTP front door; the CLI is where a process starts",
    ("api/app.py", "web"): "the server's one ASGI app carries both front doors over HTTP: the API and the pages",
}
# What `io/` may take from `reports/`: how a report is described (fields, chart, glossary), never a computation.
IO_FROM_REPORTS = {"contactgroup.reports.document", "contactgroup.reports.charts", "contactgroup.reports.glossary"}
# What `ledger/` may take from `domain/`: the error tree, so a bad signature is an error like any other.
LEDGER_FROM_DOMAIN = {"contactgroup.domain.errors"}


def _imports(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module == "contactgroup":
                yield from (f"contactgroup.{a.name}" for a in node.names)
            else:
                yield node.module
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}: use absolute imports, so the contract can read them")
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names)


def _package(path: Path) -> str:
    first = path.relative_to(SRC).parts[0]
    return first.removesuffix(".py")


def test_every_package_is_placed_in_the_layers() -> None:
    found = {_package(p) for p in SRC.rglob("*.py")}
    assert found <= MAY_IMPORT.keys(), f"place {sorted(found - MAY_IMPORT.keys())} in MAY_IMPORT"


def test_imports_point_down_only() -> None:
    wrong = []
    for path in sorted(SRC.rglob("*.py")):
        package, where = _package(path), str(path.relative_to(SRC))
        for module in _imports(path):
            parts = module.split(".")
            if parts[0] != "contactgroup" or len(parts) < 2 or parts[1] == package:
                continue
            target = parts[1]
            if target in MAY_IMPORT[package] or (where, target) in EXCEPTIONS:
                continue
            wrong.append(f"{where} imports {module}: {package}/ may import only {sorted(MAY_IMPORT[package])}")
    assert not wrong, "\n".join(wrong)


def test_ledger_takes_only_the_error_tree_from_the_domain() -> None:
    wrong = [f"{p.relative_to(SRC)} imports {module}"
             for p in sorted((SRC / "ledger").rglob("*.py"))
             for module in _imports(p)
             if module.startswith("contactgroup.domain") and module not in LEDGER_FROM_DOMAIN]
    assert not wrong, "\n".join(wrong)


def test_the_pure_core_touches_no_database_and_no_front_door() -> None:
    forbidden = ("sqlalchemy", "alembic", "typer", "fastapi", "httpx", "uvicorn", "rich")
    wrong = [f"{p.relative_to(SRC)} imports {module}"
             for package in ("encoding", "domain", "allocation", "mobility", "ledger")
             for p in sorted((SRC / package).rglob("*.py"))
             for module in _imports(p)
             if module.split(".")[0] in forbidden]
    assert not wrong, "\n".join(wrong)


def test_the_exceptions_are_still_needed() -> None:
    for where, target in EXCEPTIONS:
        assert any(m.startswith(f"contactgroup.{target}") for m in _imports(SRC / where)), (where, target)


def test_io_takes_only_the_description_of_a_report() -> None:
    wrong = [f"{p.relative_to(SRC)} imports {module}"
             for p in sorted((SRC / "io").rglob("*.py"))
             for module in _imports(p)
             if module.startswith("contactgroup.reports") and module not in IO_FROM_REPORTS]
    assert not wrong, "\n".join(wrong)
