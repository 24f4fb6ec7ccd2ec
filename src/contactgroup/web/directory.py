"""Users and members in the browser. The coordinator manages every user it may (under governance, a member's users
are its own desk officers' to manage), a desk officer its own member's: add one (its one-time enrolment code shown
once), reset one (a new code), disable or enable one, and read the security log of the accounts it may see. The
members list shows each member as the record holds it, with its latest GDP year and its IATI identifier."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, Response

from contactgroup.domain.errors import ContactGroupError, Forbidden, NotFound, ValidationFailed
from contactgroup.domain.model import Gdp, Role, User
from contactgroup.domain.state import State
from contactgroup.services import access, accounts, queries
from contactgroup.services import coordination as svc
from contactgroup.services.coordination import Caller
from contactgroup.services.tokens import SignedIn
from contactgroup.services.wording import detail
from contactgroup.web.listing import Column, Filter, listing
from contactgroup.web.pages import page_router, redirect, render, status_of
from contactgroup.web.session import Changer, Viewer, source

router = page_router()

_SHORT = 200
LOG_SHOWN = 100  # the newest entries of the security log on a page


def _manager(state: State, caller: SignedIn) -> User:
    """The signed-in user, if it manages users (the coordinator, a desk officer); else refused."""
    if caller.user.role not in access.POLICY["user:manage"]:
        raise Forbidden(f"{caller.user.name} ({caller.user.role.value}) does not manage users: the coordinator and "
                        "each member's desk officers do")
    return caller.user


def _visible(state: State, who: User) -> list[User]:
    """The users `who` manages the accounts of: every one for the coordinator, its member's for a desk officer."""
    return [u for u in queries.users(state) if who.role is Role.COORDINATOR or u.party == who.party]


def _user(state: State, who: User, name: str) -> User:
    found = next((u for u in _visible(state, who) if u.name == name), None)
    if found is None:
        raise NotFound(f"no user {name[:_SHORT]!r}", code="not-found", kind="user", id=name[:_SHORT])
    return found


# --- users -------------------------------------------------------------------------------------------------------

COLUMNS = (Column("name", "User", link="/users/{name}"), Column("party", "Acts for"), Column("role", "Role"),
           Column("state", "State"))


def _users_page(request: Request, caller: SignedIn, *, values: dict[str, str] | None = None, message: str = "",
                enrolment: accounts.Enrolment | None = None, status: int = 200) -> HTMLResponse:
    store = request.app.state.store
    state = store.snapshot()
    me = _manager(state, caller)
    rows: list[dict[str, Any]] = [{"name": u.name, "party": u.party, "role": u.role.value.replace("_", " "),
                                   "state": "active" if u.active else "disabled"} for u in _visible(state, me)]
    roles = [(r.value.replace("_", " "), r.value.replace("_", " ")) for r in Role]
    found = listing(request, rows, COLUMNS, search=("name", "party"),
                    filters=(Filter("role", "Role", roles),
                             Filter("state", "State", [("active", "active"), ("disabled", "disabled")])))
    log = accounts.security_log(store.db, state, me.name, limit=LOG_SHOWN)
    return render(request, "directory_users.html", status, title="Users", listing=found, log=log,
                  values=values or {"party": "" if me.role is Role.COORDINATOR else me.party,
                                    "role": Role.DESK_OFFICER.value},
                  message=message, enrolment=enrolment, roles=list(Role), own_party=me.party,
                  coordinator=me.role is Role.COORDINATOR)


@router.get("/users", response_class=HTMLResponse)
def users(request: Request, caller: Viewer) -> HTMLResponse:
    return _users_page(request, caller)


@router.post("/users", response_class=HTMLResponse)
def add_user(request: Request, caller: Changer, name: Annotated[str, Form(max_length=_SHORT)] = "",
             party: Annotated[str, Form(max_length=64)] = "", role: Annotated[str, Form(max_length=32)] = "",
             ) -> HTMLResponse:
    values = {"name": name, "party": party, "role": role}
    store = request.app.state.store
    try:
        _manager(store.snapshot(), caller)
        try:
            chosen = Role(role)
        except ValueError:
            raise ValidationFailed(f"role: choose one of {', '.join(r.value for r in Role)}",
                                       where="role") from None
        user = User(name.strip(), party.strip(), chosen)
        who = Caller(caller.user.name, request.app.state.clock)
        enrolment = store.run(lambda uow: accounts.register_user(uow, who, user, source=source(request)))
    except ContactGroupError as exc:
        return _users_page(request, caller, values=values, message=detail(exc), status=status_of(exc))
    return _users_page(request, caller, enrolment=enrolment, status=201)


def _user_page(request: Request, caller: SignedIn, name: str, *, message: str = "",
               enrolment: accounts.Enrolment | None = None, status: int = 200) -> HTMLResponse:
    store = request.app.state.store
    state = store.snapshot()
    me = _manager(state, caller)
    user = _user(state, me, name)
    log = accounts.security_log(store.db, state, me.name, user=user.name, limit=LOG_SHOWN)
    return render(request, "directory_user.html", status, title=f"User {user.name}", user=user, log=log,
                  message=message, enrolment=enrolment, itself=user.name == me.name)


@router.get("/users/{name}", response_class=HTMLResponse)
def show_user(request: Request, caller: Viewer, name: str) -> HTMLResponse:
    return _user_page(request, caller, name)


def _change(request: Request, caller: SignedIn, name: str, action: str) -> Any:
    """Reset, disable or enable user `name`, as the API does it; a user one may not manage is "not found"."""
    store = request.app.state.store
    _user(store.snapshot(), _manager(store.snapshot(), caller), name)
    who = Caller(caller.user.name, request.app.state.clock)
    actions = {
        "reset": lambda uow: accounts.reset_user(uow, who, name, source=source(request)),
        "disable": lambda uow: accounts.disable_user(uow, who, name, source=source(request)),
        "enable": lambda uow: svc.enable_user(uow, who, name),
    }
    return store.run(actions[action])


@router.post("/users/{name}/reset", response_class=HTMLResponse)
def reset_user(request: Request, caller: Changer, name: str) -> HTMLResponse:
    try:
        enrolment = _change(request, caller, name, "reset")
    except ContactGroupError as exc:
        return _user_page(request, caller, name, message=detail(exc), status=status_of(exc))
    return _user_page(request, caller, name, enrolment=enrolment, status=201)


@router.post("/users/{name}/disable", response_model=None)
def disable_user(request: Request, caller: Changer, name: str) -> Response:
    try:
        _change(request, caller, name, "disable")
    except ContactGroupError as exc:
        return _user_page(request, caller, name, message=detail(exc), status=status_of(exc))
    return redirect(request, f"/users/{name}")


@router.post("/users/{name}/enable", response_model=None)
def enable_user(request: Request, caller: Changer, name: str) -> Response:
    try:
        _change(request, caller, name, "enable")
    except ContactGroupError as exc:
        return _user_page(request, caller, name, message=detail(exc), status=status_of(exc))
    return redirect(request, f"/users/{name}")


# --- members -----------------------------------------------------------------------------------------------------

MEMBER_COLUMNS = (Column("code", "Member"), Column("name", "Name"), Column("kind", "Kind"),
                  Column("currency", "Currency"), Column("groups", "NATO / EU"), Column("gdp_year", "GDP year"),
                  Column("gdp", "GDP (millions, its currency)", numeric=True), Column("iati", "IATI identifier"),
                  Column("state", "State"))


@router.get("/members", response_class=HTMLResponse)
def members(request: Request, caller: Viewer) -> HTMLResponse:
    state = request.app.state.store.snapshot()
    latest: dict[str, Gdp] = {}
    for gdp in state.gdp.values():
        if gdp.member not in latest or gdp.year > latest[gdp.member].year:
            latest[gdp.member] = gdp
    rows = []
    for m in queries.members(state):
        gdp = latest.get(m.code)
        iati = state.iati_organisations.get(m.code)
        rows.append({"code": m.code, "name": m.name, "kind": m.kind.value, "currency": m.currency,
                     "groups": " / ".join(g for g, on in (("NATO", m.nato), ("EU", m.eu)) if on) or None,
                     "gdp_year": str(gdp.year) if gdp else None,
                     "gdp": int(gdp.amount / 1_000_000) if gdp else None,
                     "iati": iati.identifier if iati else None,
                     "state": "active" if m.active else "left"})
    found = listing(request, rows, MEMBER_COLUMNS, search=("code", "name", "iati"),
                    filters=(Filter("kind", "Kind", [("nation", "nation"), ("organisation", "organisation")]),
                             Filter("state", "State", [("active", "active"), ("left", "left")])))
    return render(request, "directory_members.html", title="Members", listing=found)
