"""Screening: who could serve each call on an otherwise empty route, or why nobody can.

Calls nobody can serve are not given to the search; they come back with their reason.
A call's parts come either from the engineer's own van or from a pick-up at one of the
nearest warehouses that hold them all. Pure: standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass

from partsvc.routing.problem import Call, Engineer, Problem, Reason, Warehouse

PICKUPS_PER_CALL = 2
"""Warehouses offered as pick-ups for one call: the nearest that hold what it needs."""


@dataclass(frozen=True)
class Screening:
    """Per call: the engineers who could serve it on an otherwise empty route, or why none."""

    able: dict[str, list[int]]
    reasons: dict[str, Reason]
    pickups: dict[str, list[int]]
    """Per call, the warehouses (by position) offered as pick-ups."""

    def nothing_found(self) -> Screening:
        """The search ended without any plan: say so for every call it was given."""
        reasons = dict(self.reasons)
        reasons.update({key: Reason.NO_PLAN for key in self.able})
        return Screening(self.able, reasons, self.pickups)


def screen(problem: Problem) -> Screening:
    able: dict[str, list[int]] = {}
    reasons: dict[str, Reason] = {}
    pickups: dict[str, list[int]] = {}
    for call in problem.calls:
        if not call.placed:
            reasons[call.key] = Reason.NOT_PLACED  # no travel to it can be worked out
            continue
        skilled = [
            i for i, engineer in enumerate(problem.engineers) if call.skills <= engineer.skills
        ]
        offered = _pickup_warehouses(problem, call)
        stocked = [i for i in skilled if offered or van_covers(problem.engineers[i], call)]
        timely = [i for i in stocked if _reaches(problem, problem.engineers[i], call, offered)]
        done = [i for i in timely if _returns(problem, problem.engineers[i], call, offered)]
        if done:
            able[call.key] = done
            pickups[call.key] = offered
        else:
            reasons[call.key] = _first_reason(problem, call, skilled, offered, timely)
    return Screening(able, reasons, pickups)


def _first_reason(
    problem: Problem, call: Call, skilled: list[int], offered: list[int], timely: list[int]
) -> Reason:
    """Why nobody can serve the call, the first that holds in `Reason`'s order."""
    if call.skills and not any(
        call.skills <= skills
        for skills in (*(e.skills for e in problem.engineers), *problem.off_shift)
    ):
        return Reason.NO_SKILL
    if (
        call.parts
        and not offered
        and not any(van_covers(problem.engineers[i], call) for i in skilled)
    ):
        return Reason.NO_PARTS
    if not skilled:
        return Reason.NOBODY_ON_SHIFT
    if not timely:
        return Reason.TOO_LATE
    return Reason.OUT_OF_SHIFT


def carried(warehouse: Warehouse, call: Call) -> dict[str, int]:
    """What a pick-up for `call` takes from `warehouse`: what it needs, as far as in stock."""
    taken = {sku: min(qty, warehouse.stock.get(sku, 0)) for sku, qty in call.parts.items()}
    return {sku: qty for sku, qty in taken.items() if qty > 0}


def holds_all(warehouse: Warehouse, call: Call) -> bool:
    return all(warehouse.stock.get(sku, 0) >= qty for sku, qty in call.parts.items())


def _pickup_warehouses(problem: Problem, call: Call) -> list[int]:
    """The nearest warehouses that hold everything the call needs."""
    if not call.parts:
        return []
    useful = [w for w, warehouse in enumerate(problem.warehouses) if holds_all(warehouse, call)]
    seconds = problem.travel.seconds
    useful.sort(key=lambda w: seconds[problem.warehouses[w].place][call.place])
    return useful[:PICKUPS_PER_CALL]


def van_covers(engineer: Engineer, call: Call) -> bool:
    return all(engineer.van.get(sku, 0) >= qty for sku, qty in call.parts.items())


def _ways(problem: Problem, engineer: Engineer, call: Call, offered: list[int]) -> list[int]:
    """When the engineer could start the call: straight there, or by way of a pick-up."""
    seconds = problem.travel.seconds
    starts = []
    if van_covers(engineer, call):
        starts.append(engineer.leaves_at + seconds[engineer.start][call.place])
    for w in offered:
        warehouse = problem.warehouses[w]
        starts.append(
            engineer.leaves_at
            + seconds[engineer.start][warehouse.place]
            + warehouse.service
            + seconds[warehouse.place][call.place]
        )
    return [max(arrive, call.earliest) for arrive in starts]


def _reaches(problem: Problem, engineer: Engineer, call: Call, offered: list[int]) -> bool:
    return any(start <= call.closes for start in _ways(problem, engineer, call, offered))


def _returns(problem: Problem, engineer: Engineer, call: Call, offered: list[int]) -> bool:
    home = problem.travel.seconds[call.place][engineer.end]
    return any(
        start <= call.closes and start + call.service + home <= engineer.shift_end
        for start in _ways(problem, engineer, call, offered)
    )


def share_out(problem: Problem, screening: Screening) -> dict[str, list[int]]:
    """Offer each warehouse's scarce stock to the most urgent calls only.

    Where the calls offered a pick-up at a warehouse need more of a part than it has free,
    the pick-ups go to the calls by priority, then nearest first, while stock lasts, so
    the routes can never take more than is there together (no global constraint needed).
    """
    offered = {key: list(ws) for key, ws in screening.pickups.items() if key in screening.able}
    calls = {call.key: call for call in problem.calls if call.key in offered}
    seconds = problem.travel.seconds
    for w, warehouse in enumerate(problem.warehouses):
        asking = [calls[key] for key, ws in offered.items() if w in ws]
        left = dict(warehouse.stock)

        # Calls some able engineer's van covers come last: they need the warehouse least.
        def need(c: Call, at: int = warehouse.place) -> tuple[bool, int, int, str]:
            covered = any(van_covers(problem.engineers[e], c) for e in screening.able[c.key])
            return (covered, c.priority, seconds[at][c.place], c.key)

        for call in sorted(asking, key=need):
            if all(left.get(sku, 0) >= qty for sku, qty in call.parts.items()):
                for sku, qty in call.parts.items():
                    left[sku] -= qty
            else:
                offered[call.key].remove(w)
    return offered
