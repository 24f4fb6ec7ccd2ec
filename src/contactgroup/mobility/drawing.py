"""A map of the transport network as SVG, drawn from the places' coordinates alone (no map tiles: deployments are
often offline), with one shipment's route over it when given.

Every text from the record (codes, names, countries) is escaped for XML text or a quoted attribute, so that a
place named `<script>` or `" onload="` shows as written and nothing in the drawing can act."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from xml.sax.saxutils import escape, quoteattr

from contactgroup.mobility.network import Leg, Mode, Network, Place, PlaceKind
from contactgroup.mobility.route import NoRoute, Route

WIDTH, HEIGHT, MARGIN = 960, 720, 48
LEGEND = 150  # px on the right for the legend
FOCUS_PAD = 0.25  # around the theatre: the depots of its neighbours are drawn where they are
LABEL_ALL_UP_TO = 80  # more places than this: only the route's places are labelled, or the map is a smudge
MODE_STYLE = {  # colour and dash per mode (colour-blind-safe Okabe–Ito colours; air and sea dashed: not on land)
    Mode.ROAD: ("#0072B2", ""), Mode.RAIL: ("#009E73", ""), Mode.INLAND_WATERWAY: ("#56B4E9", "6 3"),
    Mode.SEA: ("#56B4E9", "2 3"), Mode.AIR: ("#CC79A7", "8 4")}
KIND_COLOUR = {
    PlaceKind.DEPOT: "#555555", PlaceKind.PORT: "#56B4E9", PlaceKind.RAIL_TERMINAL: "#009E73",
    PlaceKind.AIRFIELD: "#CC79A7", PlaceKind.LOGISTICS_HUB: "#E69F00", PlaceKind.BORDER_CROSSING: "#882255",
    PlaceKind.HANDOVER_POINT: "#000000"}
ROUTE_COLOUR = "#D55E00"


_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(text: str) -> str:
    """`text` as XML character data: markup escaped, and the characters XML 1.0 cannot hold at all (control
    characters, lone surrogates) shown as U+FFFD, so that the document always parses."""
    return escape(_NOT_XML.sub("\ufffd", text))


class _Projection:
    """Equirectangular, the longitude scaled by the cosine of the middle latitude: at the scale of a continent's
    corner that keeps shapes recognisable, and needs no library. The extent is that of `focus`, with `pad` (a
    fraction of its span) around it; a place beyond it is drawn on the map's rim, in its direction (`beyond`)."""

    def __init__(self, focus: Iterable[Place], pad: float = 0.0) -> None:
        listed = list(focus)
        lats = [p.lat for p in listed] or [0.0]
        lons = [p.lon for p in listed] or [0.0]
        pad_lat, pad_lon = (max(lats) - min(lats)) * pad, (max(lons) - min(lons)) * pad
        self.south, north = min(lats) - pad_lat, max(lats) + pad_lat
        self.west, east = min(lons) - pad_lon, max(lons) + pad_lon
        self.squeeze = math.cos(math.radians((self.south + north) / 2))
        span_x = max((east - self.west) * self.squeeze, 1e-6)
        span_y = max(north - self.south, 1e-6)
        self.scale = min((WIDTH - LEGEND - 2 * MARGIN) / span_x, (HEIGHT - 2 * MARGIN) / span_y)
        self.north = north
        self.right, self.bottom = MARGIN + span_x * self.scale, MARGIN + span_y * self.scale
        # The map's own height: a wide network needs less than the full page; the legend needs 340 px.
        self.height = round(max(span_y * self.scale + 2 * MARGIN + 40, 340))

    def _unclamped(self, place: Place) -> tuple[float, float]:
        return (MARGIN + (place.lon - self.west) * self.squeeze * self.scale,
                MARGIN + (self.north - place.lat) * self.scale)

    def beyond(self, place: Place) -> bool:
        x, y = self._unclamped(place)
        return not (MARGIN - 0.5 <= x <= self.right + 0.5 and MARGIN - 0.5 <= y <= self.bottom + 0.5)

    def __call__(self, place: Place) -> tuple[float, float]:
        x, y = self._unclamped(place)
        if self.beyond(place):  # onto the rim, along the line from the map's centre
            cx, cy = (MARGIN + self.right) / 2, (MARGIN + self.bottom) / 2
            dx, dy = x - cx, y - cy
            t = min((self.right - cx) / abs(dx) if dx else math.inf, (self.bottom - cy) / abs(dy) if dy else math.inf)
            x, y = cx + dx * t, cy + dy * t
        return round(x, 1), round(y, 1)


def _projection(places: list[Place]) -> _Projection:
    """The map's projection: over the theatre (every place but the depots: its ports, hubs, crossings and handover
    points), with `FOCUS_PAD` around it, if there are two or more such places; members' depots from across the
    world would otherwise shrink the theatre to a smudge. Otherwise over every place."""
    theatre = [p for p in places if p.kind is not PlaceKind.DEPOT]
    return _Projection(theatre, FOCUS_PAD) if len(theatre) >= 2 else _Projection(places)


def _text(x: float, y: float, content: str, *, size: int = 11, weight: str = "normal", anchor: str = "start") -> str:
    return (f'<text x="{x}" y="{y}" font-size="{size}" font-weight="{weight}" text-anchor="{anchor}">'
            f"{_xml(content)}</text>")


def _line(a: tuple[float, float], b: tuple[float, float], colour: str, width: float, dash: str = "",
          title: str = "") -> str:
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    inner = f"<title>{_xml(title)}</title>" if title else ""
    return (f'<line x1="{a[0]}" y1="{a[1]}" x2="{b[0]}" y2="{b[1]}" stroke="{colour}" stroke-width="{width}"'
            f'{dashed} stroke-linecap="round">{inner}</line>')


def _leg_title(leg: Leg) -> str:
    capacity = f", at most {leg.capacity}" if leg.capacity is not None else ""
    return f"{leg.origin} → {leg.to} by {leg.mode.value.replace('_', ' ')}: {leg.transit_days} days{capacity}"


def _legend(x: float) -> list[str]:
    parts = [_text(x, MARGIN, "Legs", weight="bold")]
    y = MARGIN + 18
    for mode, (colour, dash) in MODE_STYLE.items():
        parts.append(_line((x, y - 4), (x + 28, y - 4), colour, 2.5, dash))
        parts.append(_text(x + 34, y, mode.value.replace("_", " ")))
        y += 16
    parts.append(_text(x, y + 10, "Places", weight="bold"))
    y += 28
    for kind, colour in KIND_COLOUR.items():
        parts.append(f'<circle cx="{x + 6}" cy="{y - 4}" r="4.5" fill="{colour}"/>')
        parts.append(_text(x + 16, y, kind.value.replace("_", " ")))
        y += 16
    return parts


def draw(network: Network, route: Route | NoRoute | None = None, *, title: str = "") -> str:
    """The network (and `route`, drawn over it) as one standalone SVG document."""
    places = {p.code: p for p in network.places}
    at = _projection(list(network.places))
    on_route = set() if route is None else {route.shipment.origin, route.shipment.destination}
    if isinstance(route, Route):
        on_route |= {s.leg.to for s in route.steps}
    height = at.height
    body: list[str] = [f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>']
    for leg in network.legs:
        colour, dash = MODE_STYLE[leg.mode]
        body.append(_line(at(places[leg.origin]), at(places[leg.to]), colour, 1.5, dash, _leg_title(leg)))
    if isinstance(route, Route):
        for step in route.steps:
            wait = f", waited {step.waited} days" if step.waited else ""
            body.append(_line(at(places[step.leg.origin]), at(places[step.leg.to]), ROUTE_COLOUR, 5, "",
                              f"{_leg_title(step.leg)}; leaves {step.departs}, arrives {step.arrives}{wait}"))
    label_all = len(network.places) <= LABEL_ALL_UP_TO
    far = 0  # places drawn on the rim
    for place in network.places:
        x, y = at(place)
        capacity = f", at most {place.capacity}" if place.capacity is not None else ""
        tip = f"{place.code} — {place.name} ({place.country}, {place.kind.value.replace('_', ' ')}{capacity})"
        size = 6 if place.code in on_route else 4
        fill, stroke = KIND_COLOUR[place.kind], 'stroke="#ffffff"'
        if at.beyond(place):  # hollow, on the rim: the place is further out, that way
            far += 1
            tip += ", beyond the map's edge"
            fill, stroke = "#ffffff", f'stroke="{KIND_COLOUR[place.kind]}" stroke-width="2"'
        body.append(f'<circle cx="{x}" cy="{y}" r="{size}" fill="{fill}" {stroke}><title>{_xml(tip)}</title></circle>')
        if label_all or place.code in on_route:
            body.append(_text(x + 7, y - 6, place.code, size=10, weight="bold" if place.code in on_route else "normal"))
    heading = title or (f"Route of {route.shipment.id}" if route is not None else "Transport network")
    body.append(_text(MARGIN, 24, heading, size=15, weight="bold"))
    if far:
        body.append(_text(MARGIN, 40, f"{far} places beyond the map's edge are drawn hollow on it, in their direction",
                          size=10))
    if isinstance(route, Route):
        crossings = "; ".join(f"{p.country} by {p.mode.value.replace('_', ' ')} ready {p.ready}"
                              for p in route.permissions) or "none"
        body.append(_text(MARGIN, height - 16, f"Leaves {route.shipment.leaves}, arrives {route.eta}. "
                                               f"Permissions: {crossings}"))
    elif isinstance(route, NoRoute):
        body.append(_text(MARGIN, height - 16, f"No route: {route.reason}"))
    body += _legend(WIDTH - LEGEND + 10)
    label = quoteattr(_NOT_XML.sub("\ufffd", heading))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
            f'viewBox="0 0 {WIDTH} {height}" font-family="Helvetica, Arial, sans-serif" role="img" '
            f"aria-label={label}>\n<title>{_xml(heading)}</title>\n" + "\n".join(body) + "\n</svg>\n")
