"""The transport network in a browser: a map drawn from the places' coordinates (no map tiles, nothing fetched
from elsewhere) and, for an open shipment, its earliest-arrival route with the permissions it needs — the same
drawing as `contactgroup mobility map`."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from contactgroup.mobility import drawing
from contactgroup.mobility.route import NoRoute
from contactgroup.services import movement
from contactgroup.services.mobility import network_of
from contactgroup.web.pages import SECURITY_HEADERS, page_router, render
from contactgroup.web.session import Viewer

router = page_router()


def _drawn(request: Request, caller: Viewer, shipment: str) -> tuple[str, str]:
    """The map's SVG, and what it shows in words (the route's ETA or why there is none)."""
    state = request.app.state.store.snapshot()
    today = request.app.state.clock.now().date()
    network = network_of(state, today)
    if not shipment:
        return drawing.draw(network), f"{len(network.places):,} places and {len(network.legs):,} legs"
    route = movement.route_of(state, network, caller.user, shipment[:80], today)
    said = (f"no route: {route.reason}" if isinstance(route, NoRoute)
            else f"arrives {route.eta.isoformat()}, {len(route.steps)} legs")
    return drawing.draw(network, route), f"shipment {shipment[:80]}: {said}"


@router.get("/network", response_class=HTMLResponse)
def network(request: Request, caller: Viewer, shipment: str = "") -> HTMLResponse:
    _, said = _drawn(request, caller, shipment)
    return render(request, "network.html", title="Transport network", shipment=shipment[:80], said=said)


@router.get("/network/map.svg")
def network_map(request: Request, caller: Viewer, shipment: str = "") -> Response:
    svg, _ = _drawn(request, caller, shipment)
    return Response(svg, media_type="image/svg+xml",
                    headers={**SECURITY_HEADERS, "Content-Security-Policy": "default-src 'none'"})
