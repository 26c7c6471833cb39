"""Geometry for the SVG pictures of the pages: a plan's map and its timeline.

Plain numbers for the templates to draw; no tile server, no JavaScript. The map is an
equirectangular projection (longitude scaled by the cosine of the middle latitude), which
is exact enough across a city or a province.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

WIDTH = 1000
PADDING = 30
PALETTE = (
    "#1d5fa8",
    "#c2410c",
    "#15803d",
    "#7c3aed",
    "#b91c1c",
    "#0e7490",
    "#a16207",
    "#be185d",
    "#4d7c0f",
    "#334155",
)
"""One colour per engineer's route, repeating after ten."""
_HOUR = timedelta(hours=1)


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


@dataclass(frozen=True)
class Projection:
    """Latitude and longitude to x, y in a viewBox ``WIDTH`` wide and ``height`` high."""

    west: float
    north: float
    scale: float
    squeeze: float
    height: int

    @classmethod
    def around(cls, points: Iterable[tuple[float, float]]) -> Projection:
        places = [(lat, lon) for lat, lon in points if lat is not None and lon is not None]
        if not places:
            places = [(0.0, 0.0)]
        lats = [lat for lat, _ in places]
        lons = [lon for _, lon in places]
        squeeze = math.cos(math.radians((min(lats) + max(lats)) / 2))
        span_x = max((max(lons) - min(lons)) * squeeze, 1e-3)
        span_y = max(max(lats) - min(lats), 1e-3)
        scale = (WIDTH - 2 * PADDING) / max(span_x, span_y * 1.6)
        height = math.ceil(span_y * scale + 2 * PADDING)
        return cls(min(lons), max(lats), scale, squeeze, max(height, 200))

    def __call__(self, lat: float, lon: float) -> tuple[float, float]:
        x = PADDING + (lon - self.west) * self.squeeze * self.scale
        y = PADDING + (self.north - lat) * self.scale
        return round(x, 1), round(y, 1)


@dataclass(frozen=True)
class Bar:
    """A stop on the timeline: x and width in the timeline's viewBox."""

    x: float
    width: float
    kind: str
    label: str


@dataclass(frozen=True)
class Timeline:
    start: datetime
    end: datetime
    width: int = WIDTH

    def x(self, moment: datetime) -> float:
        span = (self.end - self.start).total_seconds() or 1.0
        share = (moment - self.start).total_seconds() / span
        return round(min(max(share, 0.0), 1.0) * self.width, 1)

    def bar(self, begins: datetime, ends: datetime, kind: str, label: str) -> Bar:
        x = self.x(begins)
        return Bar(x, max(self.x(ends) - x, 2.0), kind, label)

    def hours(self) -> list[tuple[float, int]]:
        """A tick at each whole hour: (x, hour of the day on the timeline's clock)."""
        ticks = []
        moment = self.start.replace(minute=0, second=0, microsecond=0)
        while moment <= self.end:
            if moment >= self.start:
                ticks.append((self.x(moment), moment.hour))
            moment += _HOUR
        return ticks


def timeline_around(spans: Sequence[tuple[datetime, datetime]], fallback: datetime) -> Timeline:
    """A timeline from the earliest start to the latest end, on whole hours."""
    if not spans:
        return Timeline(fallback, fallback + 9 * _HOUR)
    start = min(s for s, _ in spans).replace(minute=0, second=0, microsecond=0)
    end = max(e for _, e in spans)
    if end.minute or end.second:
        end = end.replace(minute=0, second=0, microsecond=0) + _HOUR
    return Timeline(start, max(end, start + _HOUR))
