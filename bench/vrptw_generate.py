"""Seeded 200-customer VRPTW instances of Solomon's six kinds, in Solomon's file format.

The Gehring & Homberger 200-customer set is not in this repository, and nothing here
downloads it; these instances are made the way Solomon and Gehring & Homberger describe
theirs, at 200 customers: a square of side 140 (twice Solomon's area, the same density),
the depot in its centre, 50 vehicles.

- R: customers uniform in the square; C: 20 clusters of about 10 customers (σ 3); RC: half
  of each. Demand 1–40 (C: 10, 20, 30 or 40). Service 10 (C: 90).
- Type 1: a short horizon (R, RC 320; C 1,730: Solomon's × 1.4) and capacity 200, so many
  short routes. Type 2: a long horizon (R, RC 1,400; C 4,750) and capacity 1,000 (C: 700),
  so few long routes.
- Time windows on a share of the customers (instance 1: all, 2: three quarters, 3: half),
  centred uniformly where a vehicle leaving the depot at 0 could be served and still get
  back; half-widths type 1: 5–30 (C: 30–90), type 2: 30–200 (C: 80–320). The others are
  open the whole horizon. Every customer can be served alone, so each instance is feasible.

    .venv/bin/python bench/vrptw_generate.py [--out bench/data/generated200] [--per-class 2]
    .venv/bin/python bench/vrptw.py --data bench/data/generated200 --processes 1

No best-known distances exist for them: `bench/vrptw.py` compares with PyVRP in the same run.
"""

from __future__ import annotations

import argparse
import math
import random
from pathlib import Path

OUT = Path(__file__).resolve().parent / "data" / "generated200"
CUSTOMERS = 200
SIDE = 140
VEHICLES = 50
KINDS = ("C1", "C2", "R1", "R2", "RC1", "RC2")
HORIZON = {"C1": 1730, "C2": 4750, "R1": 320, "R2": 1400, "RC1": 320, "RC2": 1400}
CAPACITY = {"C1": 200, "C2": 700, "R1": 200, "R2": 1000, "RC1": 200, "RC2": 1000}
HALF_WIDTH = {
    "C1": (30, 90), "C2": (80, 320), "R1": (5, 30), "R2": (30, 200), "RC1": (5, 30),
    "RC2": (30, 200),
}  # fmt: skip
WINDOW_SHARE = (1.0, 0.75, 0.5)


def generate(kind: str, number: int, seed: int) -> str:
    """Instance `number` (1-based) of `kind`, as the text of a Solomon-format file."""
    rng = random.Random(f"{seed}-{kind}-{number}")
    depot = (SIDE / 2, SIDE / 2)
    clustered = kind.startswith("C") and not kind.startswith("RC")
    centres = [(rng.uniform(10, SIDE - 10), rng.uniform(10, SIDE - 10)) for _ in range(20)]
    places = []
    for n in range(CUSTOMERS):
        if clustered or (kind.startswith("RC") and n % 2 == 0):
            cx, cy = centres[n % len(centres)]
            x, y = rng.gauss(cx, 3), rng.gauss(cy, 3)
        else:
            x, y = rng.uniform(0, SIDE), rng.uniform(0, SIDE)
        places.append((round(min(max(x, 0), SIDE)), round(min(max(y, 0), SIDE))))
    horizon, service = HORIZON[kind], 90 if clustered else 10
    share = WINDOW_SHARE[(number - 1) % len(WINDOW_SHARE)]
    low, high = HALF_WIDTH[kind]
    name = f"{kind}_2_{number}"
    lines = [name, "", "VEHICLE", "NUMBER     CAPACITY", f"  {VEHICLES}         {CAPACITY[kind]}"]
    lines += [
        "",
        "CUSTOMER",
        "CUST NO.  XCOORD.   YCOORD.    DEMAND   READY TIME  DUE DATE   SERVICE   TIME",
        "",
    ]
    lines.append(f"{0:5d} {depot[0]:8.0f} {depot[1]:8.0f} {0:8d} {0:8d} {horizon:8d} {0:8d}")
    for n, (x, y) in enumerate(places, start=1):
        demand = rng.choice((10, 20, 30, 40)) if clustered else rng.randint(1, 40)
        away = math.ceil(math.dist(depot, (x, y)))
        ready, due = 0, horizon - away - service
        if rng.random() < share:
            centre = rng.uniform(away, due)
            half = rng.uniform(low, high)
            ready, due = max(0, round(centre - half)), min(due, round(centre + half))
        lines.append(f"{n:5d} {x:8d} {y:8d} {demand:8d} {ready:8d} {due:8d} {service:8d}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--per-class", type=int, default=2)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for kind in KINDS:
        for number in range(1, args.per_class + 1):
            path = args.out / f"{kind}_2_{number}.txt"
            path.write_text(generate(kind, number, args.seed))
            print(path)


if __name__ == "__main__":
    main()
