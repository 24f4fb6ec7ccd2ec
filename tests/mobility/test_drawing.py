"""The SVG map: a document that parses, every leg and place drawn where its coordinates say, the route over it,
and hostile names shown as text."""

from __future__ import annotations

from dataclasses import replace
from xml.etree import ElementTree as ET

from contactgroup.mobility import Network, NoRoute, Place, PlaceKind, Route, Router, drawing
from tests.mobility.test_route import CALENDAR, CORRIDOR, ship

SVG = "{http://www.w3.org/2000/svg}"
# Real coordinates, so that the map's shape can be checked: Rotterdam is west of Duisburg, Rzeszów south-east.
WHERE = {"RTM": (51.92, 4.48), "VENLO": (51.37, 6.17), "DUI": (51.43, 6.76), "FFO": (52.35, 14.55),
         "SWI": (52.33, 14.60), "RZE-HUB": (50.04, 22.00), "CZ-HUB": (50.08, 14.44)}
MAPPED = replace(CORRIDOR, places=tuple(replace(p, lat=WHERE[p.code][0], lon=WHERE[p.code][1])
                                        for p in CORRIDOR.places))


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(svg.encode())


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def test_the_network_is_drawn_from_its_coordinates() -> None:
    root = parsed(drawing.draw(MAPPED))
    circles = {c.findtext(f"{SVG}title", "").split(" ")[0]: (float(c.get("cx", 0)), float(c.get("cy", 0)))
               for c in root.iter(f"{SVG}circle") if c.find(f"{SVG}title") is not None}
    assert set(circles) == set(WHERE)
    assert circles["RTM"][0] < circles["DUI"][0] < circles["FFO"][0] < circles["RZE-HUB"][0]  # west to east
    assert circles["FFO"][1] < circles["RZE-HUB"][1]  # north above south
    legs = [line for line in root.iter(f"{SVG}line") if line.find(f"{SVG}title") is not None]
    assert len(legs) == len(MAPPED.legs)
    assert "Transport network" in texts(root) and "RZE-HUB" in texts(root)


def test_a_route_is_drawn_over_the_network_with_its_days_and_permissions() -> None:
    route = Router(MAPPED, CALENDAR).route(ship())
    assert isinstance(route, Route)
    root = parsed(drawing.draw(MAPPED, route))
    thick = [line for line in root.iter(f"{SVG}line") if line.get("stroke-width") == "5"]
    assert len(thick) == len(route.steps) == 4
    assert "leaves 2026-03-05, arrives 2026-03-06, waited 2 days" in thick[1].findtext(f"{SVG}title", "")
    assert ("Leaves 2026-03-02, arrives 2026-03-12. Permissions: DEU by road ready 2026-03-05; CZE by road ready "
            "2026-03-04; POL by road ready 2026-03-06") in texts(root)


def test_no_route_says_why() -> None:
    root = parsed(drawing.draw(MAPPED, NoRoute(ship(), "no legs lead from RTM to RZE-HUB")))
    assert "No route: no legs lead from RTM to RZE-HUB" in texts(root)


def test_hostile_names_are_shown_as_text() -> None:
    hostile = '<script>alert(1)</script> " onload="x" & \x1b[31m'
    network = Network((Place("A", hostile, "POL", PlaceKind.PORT, 50.0, 20.0),
                       Place("B", "B", "POL", PlaceKind.DEPOT, 51.0, 21.0)), ())
    svg = drawing.draw(network, title=hostile)
    root = parsed(svg)  # parses: nothing broke out of its text or attribute
    assert not list(root.iter(f"{SVG}script")) and "<script>" not in svg
    assert root.get("aria-label") == hostile.replace("\x1b", "\ufffd")
    tips = [c.findtext(f"{SVG}title", "") for c in root.iter(f"{SVG}circle")]
    assert any("<script>alert(1)</script>" in t for t in tips)


def test_depots_far_from_the_theatre_are_drawn_on_the_rim_in_their_direction() -> None:
    washington = Place("DEPOT-USA", "Washington depot", "USA", PlaceKind.DEPOT, 38.9, -77.0)
    canberra = Place("DEPOT-AUS", "Canberra depot", "AUS", PlaceKind.DEPOT, -35.3, 149.1)
    theatre = tuple(replace(p, kind=PlaceKind.LOGISTICS_HUB) for p in MAPPED.places)
    network = replace(MAPPED, places=(*theatre, washington, canberra))
    root = parsed(drawing.draw(network))
    circles = {c.findtext(f"{SVG}title", "").split(" ")[0]: c for c in root.iter(f"{SVG}circle")
               if c.find(f"{SVG}title") is not None}
    at = {code: (float(c.get("cx", 0)), float(c.get("cy", 0))) for code, c in circles.items()}
    # The theatre spans the map as it did without the far depots: Rotterdam to Rzeszów across most of its width.
    assert at["RZE-HUB"][0] - at["RTM"][0] > (drawing.WIDTH - drawing.LEGEND - 2 * drawing.MARGIN) / 2
    # Washington lies west and south of the theatre, Canberra east and far south: each is drawn where the line from
    # the map's centre towards it leaves the map (here its bottom edge, the theatre being wide and flat).
    xs, ys = [at[p.code][0] for p in theatre], [at[p.code][1] for p in theatre]
    centre = (min(xs) + max(xs)) / 2
    assert at["DEPOT-USA"][0] < centre < at["DEPOT-AUS"][0]
    assert at["DEPOT-USA"][1] == at["DEPOT-AUS"][1] > max(ys)  # both on the bottom rim, below the theatre
    for code in ("DEPOT-USA", "DEPOT-AUS"):
        assert circles[code].get("fill") == "#ffffff" and "beyond the map's edge" in circles[code].findtext(
            f"{SVG}title", "")
    assert circles["RTM"].get("fill") != "#ffffff"
    assert "2 places beyond the map's edge are drawn hollow on it, in their direction" in texts(root)
