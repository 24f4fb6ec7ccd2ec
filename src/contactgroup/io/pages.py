"""A static page set: tables of a release, one page per subject, that open from the file system with no server.

Every text is HTML-escaped; the pages load nothing but the style sheet beside them (`assets/release.css`, shipped in
the package), and their Content-Security-Policy forbids any other fetch or script."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from importlib import resources

STYLE_SHEET = "assets/release.css"
CSP = "default-src 'none'; style-src 'self' file:; img-src 'self' file: data:"
CHARTS_SECTION = "charts"  # the index page's section of charts (reports/charts.py, drawn as SVG)


@dataclass(frozen=True, slots=True)
class Table:
    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: frozenset[int] = frozenset()  # columns right-aligned as numbers


@dataclass(frozen=True, slots=True)
class Page:
    file: str  # "donors.html"
    title: str
    intro: str
    tables: tuple[Table, ...]


def style_sheet() -> bytes:
    return resources.files("contactgroup.io").joinpath(STYLE_SHEET).read_bytes()


def _table(t: Table) -> str:
    head = "".join(f"<th scope=\"col\">{escape(c)}</th>" for c in t.columns)
    body = "\n".join("<tr>" + "".join(
        f"<td class=\"number\">{escape(v)}</td>" if i in t.numeric else f"<td>{escape(v)}</td>"
        for i, v in enumerate(row)) + "</tr>" for row in t.rows)
    return (f"<table>\n<caption>{escape(t.caption)}</caption>\n<thead><tr>{head}</tr></thead>\n"
            f"<tbody>\n{body}\n</tbody>\n</table>")


def _nav(pages: Sequence[Page], current: Page) -> str:
    current_mark = ' aria-current="page"'
    links = "".join(f'<li><a href="{escape(p.file)}"{current_mark if p is current else ""}>{escape(p.title)}</a></li>'
                    for p in pages)
    return f"<nav><ul>{links}</ul></nav>"


def _charts(charts: Sequence[tuple[str, str]]) -> str:
    """The charts, each an SVG drawing (our own renderer's: escaped labels, no script) inline in the page."""
    figures = "\n".join(f"<figure>{svg}<figcaption>{escape(title)}: the figures are in the table below."
                        f"</figcaption></figure>" for title, svg in charts)
    return f"<section id=\"{CHARTS_SECTION}\"><h2>Charts</h2>\n{figures}\n</section>"


def render(site: str, pages: Sequence[Page], note: str, charts: Sequence[tuple[str, str]] = ()) -> dict[str, str]:
    """File name -> HTML text, for every page; the first page is the index and holds the `charts` (title, SVG)."""
    out = {}
    for n, page in enumerate(pages):
        tables = "\n".join(_table(t) for t in page.tables)
        charts_html = _charts(charts) if n == 0 and charts else ""
        out[page.file] = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(page.title)} · {escape(site)}</title>
<link rel="stylesheet" href="{STYLE_SHEET}">
</head>
<body>
<header><p>{escape(site)}</p></header>
{_nav(pages, page)}
<main>
<h1>{escape(page.title)}</h1>
<p>{escape(page.intro)}</p>
{charts_html}
{tables}
</main>
<footer><p class="note">{escape(note)}</p></footer>
</body>
</html>
"""
    return out
