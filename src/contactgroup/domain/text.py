"""What text the record takes, and how a number or a date must be written: the limits and character rules every
front door (command line, file imports, HTTP) applies through the domain's checks. See docs/limits.md.

The record is append-only, so whatever it takes it keeps for ever: a field is bounded at entry, and characters
that could act on a reader's terminal or disguise a name are refused there, the same on every database (PostgreSQL
refuses NUL in text, SQLite would keep it)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal

from contactgroup.domain.errors import Problem

MAX_TEXT = 4000  # characters of free text: a note, an end use, a reason
MAX_NAME = 200  # characters of a name or an identifier
MAX_IMPORT_ROWS = 10_000  # data rows of one imported file
MAX_IMPORT_BYTES = 5_000_000  # bytes of one imported file (CSV as it is; XLSX packed)
MAX_XLSX_UNPACKED = 50_000_000  # bytes of an XLSX workbook's parts once unpacked (its XML is verbose)

# Invisible characters that reorder or join what a reader sees: bidirectional embeddings, overrides, isolates and
# marks, and zero-width spaces and joiners. Unicode puts all of them in category Cf ("format"), with the soft
# hyphen and the byte order mark; names refuse the whole category, free text keeps them but shows them escaped.
_FORMAT = "Cf"
_LINE_SEPARATORS = ("Zl", "Zp")


def _describe(ch: str) -> str:
    name = unicodedata.name(ch, "")
    return f"U+{ord(ch):04X}" + (f" {name}" if name else "")


def _length(field: str, value: str, limit: int, kind: str) -> list[Problem]:
    if len(value) > limit:
        return [Problem(field, f"is {len(value):,} characters long; {kind} may have at most {limit:,}")]
    return []


def name_problems(field: str, value: str, *, limit: int = MAX_NAME) -> list[Problem]:
    """A name or identifier: one line of at most `limit` characters, no control or invisible formatting character."""
    found = _length(field, value, limit, "a name")
    if found:
        return found
    for ch in value:
        category = unicodedata.category(ch)
        if category in ("Cc", "Cs") or category == _FORMAT or category in _LINE_SEPARATORS:
            what = "a control character" if category in ("Cc", "Cs") else "an invisible formatting character"
            return [Problem(field, f"contains {what} ({_describe(ch)}) at position {value.index(ch) + 1}; a name is "
                                   "one line of visible characters")]
    return []


def text_problems(field: str, value: str, *, limit: int = MAX_TEXT) -> list[Problem]:
    """Free text (a note, an end use, a reason): at most `limit` characters; line breaks and tabs are allowed, no
    other control character (no NUL, no escape sequence, no carriage return)."""
    found = _length(field, value, limit, "free text")
    if found:
        return found
    for i, ch in enumerate(value):
        if ch in "\n\t":
            continue
        category = unicodedata.category(ch)
        if category in ("Cc", "Cs"):
            return [Problem(field, f"contains a control character ({_describe(ch)}) at position {i + 1}; free text "
                                   "may hold line breaks and tabs, no other control character")]
    return []


def visible(value: str, *, multiline: bool = True) -> str:
    """`value` as a reader may safely see it: every control and invisible formatting character written out as an
    escape (`\\x1b`, `\\u202e`), so that stored text can neither act on a terminal nor hide what it says. Line breaks
    and tabs stay as they are where the text may hold several lines."""
    if value.isprintable():
        return value
    out = []
    for ch in value:
        if multiline and ch in "\n\t":
            out.append(ch)
            continue
        category = unicodedata.category(ch)
        if category in ("Cc", "Cs", _FORMAT, *_LINE_SEPARATORS):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(ch)
    return "".join(out)


# --- numbers and dates as a person writes them -------------------------------------------------------------------
# Python's own parsers are generous: int("1_000") and int("١٢٣") (Arabic-Indic digits) succeed, and
# date.fromisoformat("20250301") too. The record takes one written form of each, so that a file means the same
# thing to every reader and a slip is refused instead of guessed.

WHOLE_FORM = "a whole number: write the digits 0-9 only, like 1000 (no separators)"
NUMBER_FORM = "a number: write the digits 0-9 and an optional '.', like 1234.56 (no separators or exponent)"
DATE_FORM = "a date (YYYY-MM-DD): write it like 2025-03-01"
_WHOLE = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def whole(text: str) -> int:
    """The whole number `text` writes; ValueError naming the expected form otherwise."""
    if not _WHOLE.fullmatch(text):
        raise ValueError(f"{text!r} is not {WHOLE_FORM}")
    return int(text)


def number(text: str) -> Decimal:
    """The exact decimal `text` writes; ValueError naming the expected form otherwise."""
    if not _NUMBER.fullmatch(text):
        raise ValueError(f"{text!r} is not {NUMBER_FORM}")
    return Decimal(text)


def day(text: str) -> date:
    """The calendar date `text` writes; ValueError naming the expected form otherwise."""
    try:
        if _DATE.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise ValueError(f"{text!r} is not {DATE_FORM}")
