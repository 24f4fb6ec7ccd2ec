"""Where the time comes from: the system clock in production, a fixed or stepping clock in tests and the demo."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock that says what it is told; `at` may be moved forward by the caller."""

    at: datetime

    def now(self) -> datetime:
        return self.at
