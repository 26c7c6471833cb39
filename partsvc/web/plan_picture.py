"""A day's plan drawn for the board: a timeline per engineer with labelled visits, a map
fitted to where most of the work is, a legend, and a summary in plain words.

Each engineer keeps one colour whatever the lanes of the day (by their place among all
engineers), so the dispatcher learns "Wang is blue". Every bar and site carries its
details as text the page shows on tap or click, not only on hover.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext
from sqlalchemy import select

from partsvc.calls.models import Engineer
from partsvc.core import drawing
from partsvc.http.context import now, zone
from partsvc.inventory.models import Location
from partsvc.inventory.rules import LocationKind
from partsvc.routing.models import DayPlan
from partsvc.web.language import local, reason_text
from partsvc.web.pages import db


def _(text: str, **values: Any) -> str:
    return str(gettext(text, **values))


LEFT_OUT = "#b3261e"
URGENT = ("P1", "P2")


@dataclass(frozen=True)
class Picture:
    """A plan drawn: a map of routes and places, a timeline per engineer, the legend."""

    height: int
    routes: list[dict[str, Any]]
    sites: list[dict[str, Any]]
    warehouses: list[dict[str, Any]]
    timeline: drawing.Timeline
    lanes: list[dict[str, Any]]
    legend: list[dict[str, Any]]
    late: int
    outside: int


def engineer_colours(engineers: list[Engineer]) -> dict[int, str]:
    """One colour per engineer, by their place among all engineers (not by lane)."""
    return {e.id: drawing.colour(i) for i, e in enumerate(sorted(engineers, key=lambda e: e.id))}


def picture(plan: DayPlan) -> Picture:
    engineers = {e.id: e for e in db().scalars(select(Engineer))}
    colours = engineer_colours(list(engineers.values()))
    warehouses = list(
        db().scalars(
            select(Location).where(
                Location.kind == LocationKind.WAREHOUSE, Location.lat.is_not(None)
            )
        )
    )
    work: list[tuple[float, float]] = []
    for route in plan.routes:
        work.extend(_place(stop) for stop in route.stops if stop.kind == "call")
    # A call left out because its site is not on the map yet is listed, not drawn.
    drawn_out = [u for u in plan.unassigned if u.call.site.placed]
    work.extend((u.call.site.lat, u.call.site.lon) for u in drawn_out)
    points = list(work)
    for route in plan.routes:
        engineer = engineers.get(route.engineer_id)
        if engineer and engineer.home_lat is not None and engineer.home_lon is not None:
            points.append((engineer.home_lat, engineer.home_lon))
    project = drawing.Projection.fitted(points)

    local_zone = zone()
    spans = [
        (r.leave_at.astimezone(local_zone), r.back_at.astimezone(local_zone)) for r in plan.routes
    ]
    timeline = drawing.timeline_around(spans, now().astimezone(local_zone))
    routes: list[dict[str, Any]] = []
    lanes: list[dict[str, Any]] = []
    by_site: dict[int, dict[str, Any]] = {}
    late = 0
    for route in plan.routes:
        engineer = engineers[route.engineer_id]
        colour = colours[engineer.id]
        places = [_place(s) for s in route.stops]
        if engineer.home_lat is not None and engineer.home_lon is not None:
            places.insert(0, (engineer.home_lat, engineer.home_lon))
        if places:
            home = project(*places[0])
            path = [project(*place) for place in places] + [home]
            routes.append(
                {
                    "colour": colour,
                    "points": " ".join(f"{x},{y}" for x, y in path),
                    "home": home,
                    "engineer": engineer,
                }
            )
        bars = []
        for stop in route.stops:
            begins, ends = (
                stop.arrive_at.astimezone(local_zone),
                stop.depart_at.astimezone(local_zone),
            )
            hours = f"{local(stop.arrive_at, 'time')}–{local(stop.depart_at, 'time')}"
            if stop.kind == "pickup":
                where = stop.warehouse.name if stop.warehouse else ""
                detail = _(
                    "%(hours)s %(engineer)s picks up parts at %(warehouse)s",
                    hours=hours,
                    engineer=engineer.name,
                    warehouse=where,
                )
                bars.append(timeline.bar(begins, ends, "pickup", "⇪", detail=detail))
                continue
            call = stop.call
            minutes = stop.late_minutes
            late += bool(minutes)
            label = (
                f"{call.priority} {call.id} {drawing.short_name(call.site.customer.name)}"
                if call.priority in URGENT
                else f"{call.id} {drawing.short_name(call.site.customer.name)}"
            )
            detail = _call_detail(call, hours, engineer.name, minutes)
            bars.append(
                timeline.bar(
                    begins,
                    ends,
                    "call",
                    label,
                    detail=detail,
                    late_minutes=minutes,
                    priority=call.priority,
                )
            )
            site = by_site.setdefault(call.site_id, _site(project, call, colour))
            site["details"].append(detail)
            site["planned"] = True
            site["colour"] = colour
            site["late"] = site["late"] or bool(minutes)
        lanes.append(
            {
                "engineer": engineer,
                "colour": colour,
                "bars": bars,
                "route": route,
                "span": timeline.bar(
                    route.leave_at.astimezone(local_zone),
                    route.back_at.astimezone(local_zone),
                    "day",
                    "",
                ),
            }
        )
    for left_out in drawn_out:
        call = left_out.call
        site = by_site.setdefault(call.site_id, _site(project, call, LEFT_OUT))
        site["details"].append(
            _(
                "Call %(call)s · %(priority)s · %(customer)s: left out, %(why)s",
                call=call.id,
                priority=call.priority,
                customer=call.site.customer.name,
                why=reason_text(left_out.reason),
            )
        )
        site["left_out"] += 1
    depots = [
        {"x": x, "y": y, "code": w.code, "name": w.name}
        for w in warehouses
        for x, y in [project(w.lat, w.lon)]  # type: ignore[arg-type]
    ]
    sites = sorted(by_site.values(), key=lambda s: s["planned"])  # planned drawn last, on top
    legend = [
        {
            "engineer": lane["engineer"],
            "colour": lane["colour"],
            "stops": sum(1 for b in lane["bars"] if b.kind == "call"),
        }
        for lane in lanes
    ]
    outside = sum(1 for s in sites if s["outside"])
    return Picture(project.height, routes, sites, depots, timeline, lanes, legend, late, outside)


def _site(project: drawing.Projection, call: Any, colour: str) -> dict[str, Any]:
    x, y = project(call.site.lat, call.site.lon)
    return {
        "x": x,
        "y": y,
        "colour": colour,
        "label": drawing.short_name(call.site.customer.name),
        "details": [],
        "planned": False,
        "left_out": 0,
        "late": False,
        "outside": project.outside(call.site.lat, call.site.lon),
    }


def _call_detail(call: Any, hours: str, engineer: str, late_minutes: int) -> str:
    text = _(
        "%(hours)s %(engineer)s at call %(call)s · %(priority)s · %(customer)s",
        hours=hours,
        engineer=engineer,
        call=call.id,
        priority=call.priority,
        customer=call.site.customer.name,
    )
    if late_minutes:
        text += " · " + _("%(minutes)s min past its on-site deadline", minutes=late_minutes)
    return text


def _place(stop: Any) -> tuple[float, float]:
    # A planned call's site is on the map: the planner leaves out those that are not.
    if stop.kind == "pickup" and stop.warehouse is not None and stop.warehouse.lat is not None:
        return stop.warehouse.lat, stop.warehouse.lon
    return stop.call.site.lat, stop.call.site.lon


def summary(plan: DayPlan, drawn: Picture) -> str:
    """The plan in one plain sentence: how much is planned, left out, late; how measured."""
    planned = sum(1 for r in plan.routes for s in r.stops if s.kind == "call")
    road = "Osrm" in (plan.travel_source or "")
    return _(
        "%(planned)s calls planned on %(routes)s routes, %(left)s left out, %(late)s late; "
        "travel times %(how)s. Planned at %(when)s in %(seconds)s s.",
        planned=planned,
        routes=len(plan.routes),
        left=len(plan.unassigned),
        late=drawn.late,
        how=_("by road") if road else _("estimated from straight-line distances"),
        when=local(plan.planned_at, "time"),
        seconds=f"{plan.solve_seconds:.1f}",
    )
