"""Users and members in the browser."""

from __future__ import annotations

from contactgroup.web.pages import page_router

router = page_router()
