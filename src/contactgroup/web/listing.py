"""Lists on pages: one page of rows at a time, sorted by any column, filtered and searched, every choice in the
address (so a list can be bookmarked, shared and reloaded, and works without JavaScript). A value that is not a
column, a filter's option or a page number is ignored, never an error: an address typed wrong shows the list."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import Request

PER_PAGE = 50
_QUERY = 200  # the longest search kept


@dataclass(frozen=True, slots=True)
class Column:
    """A column: the row's `key`, its heading, whether it holds a figure (right-aligned, with thousands
    separators), and where its cell links to (`link` formats the row, e.g. `/offers/{id}`)."""

    key: str
    label: str
    numeric: bool = False
    link: str | None = None


@dataclass(frozen=True, slots=True)
class Filter:
    """A choice among `options` (value, label) that keeps only the rows whose `key` equals it."""

    key: str
    label: str
    options: Sequence[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Listing:
    columns: Sequence[Column]
    rows: Sequence[Mapping[str, Any]]  # this page's
    total: int  # the rows that pass the search and filters
    page: int
    pages: int
    sort: str
    descending: bool
    search: str
    filters: Sequence[Filter]
    chosen: Mapping[str, str] = field(default_factory=dict)
    path: str = ""

    def href(self, **changes: Any) -> str:
        """This list's address with `changes` (sort, desc, page, q, or a filter's key)."""
        params: dict[str, Any] = {"q": self.search, "sort": self.sort, "desc": "1" if self.descending else "",
                                  "page": self.page, **self.chosen, **changes}
        kept = {k: v for k, v in params.items() if v not in ("", None) and not (k == "page" and v == 1)}
        return f"{self.path}?{urlencode(kept)}" if kept else self.path

    def sorted_by(self, column: Column) -> str:
        """The column's `aria-sort` value."""
        if column.key != self.sort:
            return "none"
        return "descending" if self.descending else "ascending"


def _sort_key(key: str) -> Callable[[Mapping[str, Any]], tuple[int, Any]]:
    def value(row: Mapping[str, Any]) -> tuple[int, Any]:
        v = row.get(key)
        if v is None:
            return (1, "")  # blanks last
        return (0, v.casefold() if isinstance(v, str) else v)
    return value


def listing(request: Request, rows: Sequence[Mapping[str, Any]], columns: Sequence[Column], *,
            search: Sequence[str] = (), filters: Sequence[Filter] = (), default_sort: str | None = None,
            descending: bool = False, per_page: int = PER_PAGE) -> Listing:
    """The page of `rows` the request's address asks for: `q` searches the `search` columns (case-insensitive,
    every word must appear), each filter's key keeps its option, `sort`/`desc` order, `page` chooses the page."""
    params = request.query_params
    q = params.get("q", "")[:_QUERY].strip()
    chosen: dict[str, str] = {}
    kept = list(rows)
    for f in filters:
        value = params.get(f.key, "")
        if value and value in {v for v, _ in f.options}:
            chosen[f.key] = value
            kept = [row for row in kept if str(row.get(f.key, "")) == value]
    if q:
        words = q.casefold().split()
        kept = [row for row in kept
                if all(any(w in str(row.get(k, "")).casefold() for k in search) for w in words)]
    keys = {c.key for c in columns}
    sort = params.get("sort", "")
    if sort not in keys:
        sort = default_sort or columns[0].key
        desc = descending
    else:
        desc = params.get("desc", "") == "1"
    kept.sort(key=_sort_key(sort), reverse=desc)
    pages = max(1, -(-len(kept) // per_page))
    page = params.get("page", "1")
    number = min(max(int(page), 1), pages) if page.isdigit() and len(page) < 7 else 1
    start = (number - 1) * per_page
    return Listing(columns, kept[start:start + per_page], len(kept), number, pages, sort, desc, q, filters, chosen,
                   request.scope.get("root_path", "") + request.url.path)
