"""What a form's fields say, read as the record's values: every field arrives as text (so that a refusal can show
the form again with what was typed), and a bad value is refused naming its field."""

from __future__ import annotations

from datetime import date

from contactgroup.domain.errors import ValidationFailed

MAX_UNITS = 10**12  # as the API's `Units`


def whole(text: str, where: str, *, least: int = 1) -> int:
    """A whole number typed into field `where`, from `least` to `MAX_UNITS` (thousands separators allowed)."""
    cleaned = text.strip().replace(",", "").replace("_", "").replace(" ", "")
    if not cleaned.isdigit() or len(cleaned) > 13 or not least <= int(cleaned) <= MAX_UNITS:
        raise ValidationFailed(f"{text.strip()[:40]!r} is not a whole number from {least:,} to {MAX_UNITS:,}",
                               where=where)
    return int(cleaned)


def day(text: str, where: str) -> date:
    """A date typed into field `where` (YYYY-MM-DD, as a date control sends it)."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationFailed(f"{text.strip()[:40]!r} is not a date (YYYY-MM-DD)", where=where) from None
