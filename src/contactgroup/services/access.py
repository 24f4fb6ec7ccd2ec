"""Who may do what, and who may see what: one table, checked before any command decides anything."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from contactgroup.domain import governance as gov
from contactgroup.domain.command import name_key
from contactgroup.domain.errors import Conflict, Forbidden, NotFound
from contactgroup.domain.model import Allocation, Consent, Delivery, Offer, Role, User, Visibility
from contactgroup.domain.state import State

C, D, R, L, A, U = (Role.COORDINATOR, Role.DESK_OFFICER, Role.RECIPIENT_LIAISON, Role.COALITION_LEAD,
                    Role.ANALYST, Role.AUDITOR)

# action -> the roles that may take it. Scope rules (own member, own area, current authority) follow below.
POLICY: Mapping[str, frozenset[Role]] = {
    "coordination:found": frozenset({C}),
    "member:admit": frozenset({C}),
    "member:gdp": frozenset({C}),
    "member:iati": frozenset({C}),
    "user:register": frozenset({C, D}),  # a desk officer: users of its own member (see `check_new_user`)
    "coalition:form": frozenset({C}),
    "catalogue:edit": frozenset({C}),
    "requirement:draft": frozenset({R, C}),
    "requirement:submit": frozenset({R}),
    "requirement:reprioritise": frozenset({R}),
    "requirement:amend": frozenset({R, C}),
    "user:manage": frozenset({C, D}),  # disable, enable, change role: whoever may add that user (`check_user_change`)
    "requirement:cancel": frozenset({R, C}),
    "requirement:validate": frozenset({C}),
    "requirement:return": frozenset({C}),
    "requirement:open": frozenset({C}),
    "requirement:close": frozenset({C}),
    "offer:enter": frozenset({D, C}),
    "fund:create": frozenset({C}),
    "fund:contribute": frozenset({D, C}),
    "allocation:propose": frozenset({C, L}),
    "allocation:accept-donor": frozenset({D}),
    "allocation:accept-recipient": frozenset({R}),
    "allocation:confirm": frozenset({C}),
    "allocation:decline": frozenset({D, R, C}),
    "allocation:reopen": frozenset({D, R, C}),  # and only the party that declined, or the coordinator
    "allocation:release-owed": frozenset({C}),
    "allocation:supersede": frozenset({C, L}),  # an optimiser run replacing a mere proposal, within one's area
    "consent:request": frozenset({D, C}),
    "consent:decide": frozenset({D}),
    "delivery:ship": frozenset({D, C}),
    "delivery:receive": frozenset({R}),
    "permission:request": frozenset({D}),  # the donor's desk, for its own member's shipments
    # the granting member's desk (the country entered is its member), or the recipient's liaison for the recipient
    "permission:decide": frozenset({D, R}),
    "import:reference": frozenset({C}),
    "transit:set": frozenset({C}),  # transit days between countries, read by `allocate`
    "place:define": frozenset({C}),  # handover points requirements may name as their destination
    "network:define": frozenset({C}),  # legs, border rules and mobility zones of the transport network
    "keys:manage": frozenset({D}),
    "governance:propose": frozenset({C, D}),
    "governance:withdraw": frozenset({C, D}),  # and only the proposer's party (see `domain.governance`)
    "governance:approve": frozenset({C, D, R, L, A, U}),
    "report:read": frozenset({C, D, R, L, A, U}),
    "record:verify": frozenset({C, D, R, L, A, U}),
}


def user(state: State, name: str) -> User:
    """The registered, enabled user `name`; each adapter words how to name one (`code="unknown-user"`) and what a
    disabled one can do about it (`code="disabled-user"`). Every service and read that takes a caller asks here,
    so a disabled user can do nothing from its next command on."""
    try:
        found = state.users[name]
    except KeyError:
        raise NotFound(f"no user {name!r}", code="unknown-user", user=name) from None
    if not found.active:
        raise Forbidden(f"user {name} is disabled", code="disabled-user", user=name)
    return found


def owner_party(state: State, owner: str) -> str:
    """The member that answers for `owner`: itself, or the manager of a fund."""
    fund = state.funds.get(owner)
    return fund.manager if fund else owner


def authorize(state: State, who: User, action: str, *, owner: str | None = None, area: str | None = None,
              named: str | None = None) -> None:
    """Refuse with `Forbidden` (naming the user, the action and why) unless `who` may take `action`.

    `named` is what a refusal calls the action when the permission covers several (`offer:commit` is checked as
    `offer:enter`), so that the user reads the action they tried."""
    roles = POLICY[action]
    said = named or action
    if who.role not in roles:
        allowed = ", ".join(sorted(r.value for r in roles))
        raise Forbidden(f"{who.name} ({who.role.value} for {who.party}) may not {said}; this needs: {allowed}",
                        code="role", user=who.name, action=said, roles=tuple(sorted(r.value for r in roles)))
    if who.role is Role.COORDINATOR:
        authority = state.authority
        if authority is None or who.party != authority.name:
            current = authority.name if authority else "nobody"
            raise Forbidden(
                f"{who.name} acts for {who.party}, which is not the coordinating authority (now {current})"
            )
    elif who.role is Role.DESK_OFFICER and owner is not None and owner_party(state, owner) != who.party:
        raise Forbidden(f"{who.name} is a desk officer for {who.party} and may not {said} for {owner}",
                        code="other-member", user=who.name, action=said, owner=owner)
    elif who.role is Role.COALITION_LEAD:
        coalition = state.coalitions.get(area or "")
        if coalition is None or who.party not in coalition.leads:
            where = f"the capability coalition for {area}" if area else "every area: pass the area you lead"
            raise Forbidden(f"{who.name} ({who.party}) does not lead {where}")
    if who.party in state.members and not state.members[who.party].active:
        raise Forbidden(f"{who.party} has left the coordination; {who.name} may no longer {said}")
    _governed(state, who, action)


# Once governance is in force (`governance.in_force`: a member key was registered), these decisions pass from
# the coordinating authority to the members, so that it cannot stack a vote.
GOVERNED: Mapping[str, str] = {
    "member:admit": "members are admitted only by an admit-member proposal that a quorum approves",
    "coalition:form": "capability coalitions are formed only by a change-lead proposal that names the new "
                      "coalition",
}


def _governed(state: State, who: User, action: str) -> None:
    if action in GOVERNED and gov.in_force(state):
        raise Forbidden(f"{who.name} may not {action}: governance is in force (members registered keys), so "
                        f"{GOVERNED[action]}", code="governed", user=who.name, action=action)


def check_new_user(state: State, who: User, user: User, at: datetime) -> None:
    """Who may register `user`, beyond `authorize(..., "user:register", owner=user.party)`.

    A name an open handover proposal will create is reserved for it. Once governance is in force, a member's
    users are added by that member's own desk officers: the coordinating authority may add only its own users,
    the recipient's, and the first user of a member that has none (a member just admitted) — otherwise it
    could register a desk officer in a member's name and, through it, keys, votes and withdrawals."""
    users_reserved, _ = gov.reserved(state, at)
    if (key := name_key(user.name)) in users_reserved:
        raise Conflict(f"user name {user.name} is reserved by open handover proposal {users_reserved[key]} "
                       f"(a coordinator of the new authority; case and '.', '_', '-' do not tell names apart): "
                       "choose another name")
    if who.role is Role.COORDINATOR and user.party in state.members and gov.in_force(state):
        existing = sorted(u.name for u in state.users.values() if u.party == user.party)
        if existing:
            raise Forbidden(f"{who.name} may not add users for {user.party}: governance is in force, so "
                            f"{user.party}'s users are added by its own desk officers ({', '.join(existing[:3])}"
                            f"{', ...' if len(existing) > 3 else ''}); the coordinating authority adds only the "
                            f"first user of a member that has none")


def check_user_change(state: State, who: User, target: User) -> None:
    """Who may disable, enable or change the role of `target`, beyond `authorize(..., "user:manage",
    owner=target.party)`: whoever may add such a user. Once governance is in force, a member's users are its own
    desk officers' to manage, not the coordinating authority's."""
    if who.role is Role.COORDINATOR and target.party in state.members and gov.in_force(state):
        raise Forbidden(f"{who.name} may not manage {target.party}'s user {target.name}: governance is in force, so "
                        f"{target.party}'s users are managed by its own desk officers", code="governed-user",
                        user=who.name, target=target.name, party=target.party)


def check_new_member(state: State, code: str, at: datetime) -> None:
    """A member code an open handover names as the new authority is reserved for it."""
    _, parties_reserved = gov.reserved(state, at)
    if code in parties_reserved:
        raise Conflict(f"{code} is the new coordinating authority named by open handover proposal "
                       f"{parties_reserved[code]}, not a member code")


_LEVEL = {Visibility.MEMBER: 0, Visibility.COALITION: 1, Visibility.RECIPIENT: 2, Visibility.PUBLIC: 3}


def offer_areas(state: State, offer: Offer) -> set[str]:
    """The capability areas whose item classes the offer's item satisfies (only areas that exist)."""
    return {c.area for c in state.item_classes.values() if offer.item in c.items and c.area in state.coalitions}


def can_see_offer(state: State, who: User, offer: Offer) -> bool:
    """Member + the authority in office always (not a former one); then widening circles: the area's coalition
    leads, the recipient, the public. (`offer_sight` applies the same rule to many offers at once.)"""
    level = _LEVEL[offer.visibility]
    authority = state.authority
    chairs = who.role is Role.COORDINATOR and authority is not None and who.party == authority.name
    if chairs or owner_party(state, offer.member) == who.party:
        return True
    if level >= _LEVEL[Visibility.PUBLIC]:
        return True
    if who.role is Role.RECIPIENT_LIAISON:
        return level >= _LEVEL[Visibility.RECIPIENT]
    if who.role is Role.COALITION_LEAD and level >= _LEVEL[Visibility.COALITION]:
        leads = {lead for area in offer_areas(state, offer) for lead in state.coalitions[area].leads}
        return who.party in leads
    return False


def offer_sight(state: State, who: User) -> Callable[[Offer], bool]:
    """`can_see_offer` for one reader, to apply to many offers (a list of offers: 0.2 ms instead of 2.5 ms on the
    demo): what depends only on the reader (whether it chairs, the owners it answers for, the items of the areas it
    leads) is worked out once, so that each offer costs a set look-up or two rather than a walk of the funds and
    item classes. tests/services/test_access.py holds the two to the same answer for every reader and offer."""
    authority = state.authority
    if who.role is Role.COORDINATOR and authority is not None and who.party == authority.name:
        return _everything
    # The owners whose offers are the reader's member's own (`owner_party`): the funds it manages, and itself
    # unless its code is a fund's.
    own = {code for code, fund in state.funds.items() if fund.manager == who.party}
    if who.party not in state.funds:
        own.add(who.party)
    seen = _SEEN_BY_LIAISON if who.role is Role.RECIPIENT_LIAISON else _SEEN_BY_ALL
    if who.role is not Role.COALITION_LEAD:
        return lambda offer: offer.member in own or offer.visibility in seen
    led: set[str] | None = None  # the items of the areas the lead leads, worked out when first needed

    def sees(offer: Offer) -> bool:
        nonlocal led
        if offer.member in own or offer.visibility in seen:
            return True
        if offer.visibility not in _SEEN_BY_LEADS:
            return False
        if led is None:
            led = {item for c in state.item_classes.values()
                   if c.area in state.coalitions and who.party in state.coalitions[c.area].leads for item in c.items}
        return offer.item in led

    return sees


def _everything(_: Offer) -> bool:
    return True


def _from(lowest: Visibility) -> frozenset[Visibility]:
    return frozenset(v for v, level in _LEVEL.items() if level >= _LEVEL[lowest])


_SEEN_BY_ALL, _SEEN_BY_LIAISON, _SEEN_BY_LEADS = _from(Visibility.PUBLIC), _from(Visibility.RECIPIENT), \
    _from(Visibility.COALITION)


def can_see_allocation(state: State, who: User, allocation: Allocation) -> bool:
    """Whoever may see the offer; and the recipient's liaison, from the moment the allocation is proposed to the
    recipient's requirement, because it must accept the allocation and receive its shipments (the offer itself
    stays as visible as its member chose)."""
    if can_see_offer(state, who, state.offers[allocation.offer]):
        return True
    return (who.role is Role.RECIPIENT_LIAISON and who.party == state.recipient
            and allocation.requirement in state.requirements)


def can_see_consent(state: State, who: User, consent: Consent) -> bool:
    """A consent is seen by whoever may see its offer, and by the member it is asked of."""
    return consent.origin == who.party or can_see_offer(state, who, state.offers[consent.offer])


def can_see_delivery(state: State, who: User, delivery: Delivery) -> bool:
    """A shipment is seen by whoever may see its allocation."""
    return can_see_allocation(state, who, state.allocations[delivery.allocation])
