"""A seeded city day for the dispatch planner: engineers, calls, warehouses and travel.

A 40 km × 40 km city around Shanghai (or a region of the same density for more
engineers): calls 10 % P1, 25 % P2, 65 % P3, 6 skills, 50 part types; travel is
straight-line × 1.3 at 30 km/h (`routing.travel.HaversineSource`). `bench/day.py` plans
and measures such days; the planner's tests plan smaller ones.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace

from partsvc.routing.problem import Call, Engineer, Problem, Travel, Warehouse
from partsvc.routing.travel import HaversineSource

CENTRE = (31.23, 121.47)
"""Shanghai, People's Square."""
HALF_SIDE_M = 20_000
METRES_PER_DEGREE = 111_320
CLUSTERS = 8
CITY_ENGINEERS = 40
"""Engineers of the 40 km city; a day with more is a region of the same density."""
CLUSTERED_SHARE = 0.6
"""Share of call sites around a few busy districts; the rest anywhere in the city."""
SKILLS = [f"S{n}" for n in range(1, 7)]
PARTS = [f"P{n:02d}" for n in range(50)]
SHIFTS = [(8, 18), (8, 17), (9, 18)]
PRIORITY_SHARES = {1: 0.10, 2: 0.25, 3: 0.65}
URGENT_SECONDS = 2 * 3600
"""R20: a P1/P2 engineer on site within 2 hours of being reported."""
TOP_UP_POOL = 12
"""Extra P3 calls near each engineer's home, to top a short route up (bench/day.py's ranking)."""
HOUR = 3600


@dataclass(frozen=True)
class Day:
    problem: Problem
    """The day to plan: engineers, the day's calls, warehouses, travel between their places."""
    reported: dict[str, int]
    top_up: dict[str, list[Call]]
    """Per engineer, spare P3 calls near their home (places past the day's)."""
    urgent: list[Call]
    """New urgent calls for the ranking; `earliest` and `latest` are set when ranked."""
    full_travel: Travel


class City:
    """Seeded places, skills and parts for one day."""

    def __init__(self, rng: random.Random, scale: float = 1.0) -> None:
        self.rng = rng
        self.scale = scale
        """How many times wider and taller than the 40 km city (a region is larger)."""
        self.half_side = HALF_SIDE_M * scale
        self.points: list[tuple[float, float]] = []
        reach = 15_000 * scale
        self.clusters = [
            (rng.uniform(-reach, reach), rng.uniform(-reach, reach))
            for _ in range(round(CLUSTERS * scale * scale))
        ]
        # Some parts fail far more often than others.
        self.popularity = [1 / (rank + 1) ** 0.8 for rank in range(len(PARTS))]

    def place(self, x: float, y: float) -> int:
        x = min(max(x, -self.half_side), self.half_side)
        y = min(max(y, -self.half_side), self.half_side)
        lat = CENTRE[0] + y / METRES_PER_DEGREE
        lon = CENTRE[1] + x / (METRES_PER_DEGREE * math.cos(math.radians(CENTRE[0])))
        self.points.append((lat, lon))
        return len(self.points) - 1

    def anywhere(self) -> int:
        return self.place(
            self.rng.uniform(-self.half_side, self.half_side),
            self.rng.uniform(-self.half_side, self.half_side),
        )

    def site(self) -> int:
        if self.rng.random() < CLUSTERED_SHARE:
            cx, cy = self.rng.choice(self.clusters)
            return self.place(self.rng.gauss(cx, 2_500), self.rng.gauss(cy, 2_500))
        return self.anywhere()

    def near(self, place: int, radius_m: float) -> int:
        lat, lon = self.points[place]
        x = (lon - CENTRE[1]) * METRES_PER_DEGREE * math.cos(math.radians(CENTRE[0]))
        y = (lat - CENTRE[0]) * METRES_PER_DEGREE
        return self.place(
            x + self.rng.uniform(-radius_m, radius_m), y + self.rng.uniform(-radius_m, radius_m)
        )

    def part(self) -> str:
        return self.rng.choices(PARTS, weights=self.popularity)[0]

    def needs(self) -> tuple[frozenset[str], dict[str, int]]:
        """A call's skill (none or one) and parts (none, one, or a few times two)."""
        skills = frozenset([self.rng.choice(SKILLS)]) if self.rng.random() < 0.5 else frozenset()
        roll = self.rng.random()
        count = 2 if roll < 0.05 else 1 if roll < 0.45 else 0
        parts: dict[str, int] = {}
        while len(parts) < count:
            parts[self.part()] = 1
        return skills, parts

    def service(self) -> int:
        return self.rng.randrange(30, 91, 5) * 60


def generate(seed: int, n_calls: int, n_engineers: int, n_urgent: int) -> Day:
    rng = random.Random(seed)
    # A region keeps the city's density of engineers: 150 engineers live on 3.75 times its
    # area (77 km × 77 km), with as many more busy districts and warehouses.
    scale = max(1.0, math.sqrt(n_engineers / CITY_ENGINEERS))
    city = City(rng, scale)
    engineers = []
    for n in range(n_engineers):
        home = city.anywhere()
        begin, end = SHIFTS[n % len(SHIFTS)]
        van: dict[str, int] = {}
        for _ in range(rng.randint(4, 6)):
            van[city.part()] = rng.randint(1, 2)
        engineers.append(
            Engineer(
                key=f"E{n:02d}",
                start=home,
                end=home,
                shift_start=begin * HOUR,
                shift_end=end * HOUR,
                skills=frozenset(rng.sample(SKILLS, rng.randint(2, 4))),
                van=van,
            )
        )
    warehouse_places = [
        city.place(
            rng.uniform(-12_000 * scale, 12_000 * scale),
            rng.uniform(-12_000 * scale, 12_000 * scale),
        )
        for _ in range(round(3 * scale * scale))
    ]
    stocks: list[dict[str, int]] = [{} for _ in warehouse_places]
    for sku in PARTS:
        roll = rng.random()
        # Most parts everywhere, some at one or two warehouses, two on back-order.
        holders = 0 if roll < 0.04 else 1 if roll < 0.16 else 2 if roll < 0.28 else 3
        for w in rng.sample(range(len(stocks)), round(holders * len(stocks) / 3)):
            stocks[w][sku] = rng.randint(2, 10)
    warehouses = tuple(
        Warehouse(f"W{n}", place, stock)
        for n, (place, stock) in enumerate(zip(warehouse_places, stocks, strict=True))
    )
    calls, reported = [], {}
    priorities = rng.choices(
        list(PRIORITY_SHARES), weights=list(PRIORITY_SHARES.values()), k=n_calls
    )
    for n, priority in enumerate(priorities):
        key = f"C{n:03d}"
        skills, parts = city.needs()
        if priority < 3:
            # Reported during the morning; on site within 2 hours (R20).
            earliest = rng.randrange(8 * HOUR, 12 * HOUR, 60)
            latest = earliest + URGENT_SECONDS
            reported[key] = earliest
        elif rng.random() < 0.3:
            # A window the customer chose: 2 to 3 hours, on the quarter hour.
            width = rng.choice([2, 2.5, 3]) * HOUR
            earliest = rng.randrange(8 * HOUR, int(18 * HOUR - width) + 1, 900)
            latest = earliest + int(width)
        else:
            earliest, latest = 8 * HOUR, 18 * HOUR
        calls.append(
            Call(key, city.site(), city.service(), earliest, latest, priority, skills, parts)
        )
    day_places = len(city.points)
    top_up: dict[str, list[Call]] = {}
    for engineer in engineers:
        top_up[engineer.key] = []
        for n in range(TOP_UP_POOL):
            _, parts = city.needs()
            top_up[engineer.key].append(
                Call(
                    f"T{engineer.key}-{n}",
                    city.near(engineer.start, 6_000),
                    city.service(),
                    8 * HOUR,
                    18 * HOUR,
                    3,
                    frozenset(),
                    parts,
                )
            )
    urgent = []
    for n in range(n_urgent):
        skills, parts = city.needs()
        urgent.append(Call(f"U{n:03d}", city.site(), city.service(), 0, 0, 1, skills, parts))
    full = HaversineSource(road_factor=1.3, average_speed_kmh=30).travel(city.points)
    travel = Travel(
        tuple(row[:day_places] for row in full.seconds[:day_places]),
        tuple(row[:day_places] for row in full.metres[:day_places]),
    )
    problem = Problem(tuple(engineers), tuple(calls), warehouses, travel)
    return Day(problem, reported, top_up, urgent, full)


def late_until_closing(day: Day) -> Day:
    """The day with its P1/P2 calls servable late until 18:00, as `routing.loading` gives them."""
    calls = tuple(
        replace(call, late_until=18 * HOUR) if call.priority <= 2 else call
        for call in day.problem.calls
    )
    return replace(day, problem=replace(day.problem, calls=calls))
