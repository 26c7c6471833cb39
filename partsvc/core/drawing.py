"""Geometry for the SVG pictures of the pages: a plan's map and its timeline.

Plain numbers for the templates to draw; no tile server, no JavaScript. The map is an
equirectangular projection (longitude scaled by the cosine of the middle latitude), which
is exact enough across a city or a province.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

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
    """Latitude and longitude to x, y in a viewBox ``WIDTH`` wide and ``height`` high.

    ``fitted`` projections frame where most of the places are: a place outside that frame
    (one far-away site) is drawn on the frame's edge, in its direction, and ``outside``
    says so, rather than squashing the city into a corner.
    """

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
        return cls._framing(min(lats), max(lats), min(lons), max(lons))

    @classmethod
    def fitted(cls, points: Iterable[tuple[float, float]]) -> Projection:
        """Framing where most of the places are: the places by their distance from the
        middle one; at least three in four are kept, and the rest too unless one lies more
        than twice as far as the one before it (a far-away site: drawn on the edge)."""
        places = sorted({(round(lat, 3), round(lon, 3)) for lat, lon in points if lat is not None})
        if len(places) < 4:
            return cls.around(places)
        middle_lat = statistics.median(lat for lat, _ in places)
        middle_lon = statistics.median(lon for _, lon in places)
        squeeze = math.cos(math.radians(middle_lat))

        def away(place: tuple[float, float]) -> float:
            return math.hypot(place[0] - middle_lat, (place[1] - middle_lon) * squeeze)

        places.sort(key=away)
        kept = math.ceil(len(places) * 0.75)
        while kept < len(places) and away(places[kept]) <= 2 * max(away(places[kept - 1]), 0.05):
            kept += 1
        return cls.around(places[:kept])

    @classmethod
    def _framing(cls, south: float, north: float, west: float, east: float) -> Projection:
        squeeze = math.cos(math.radians((south + north) / 2))
        span_x = max((east - west) * squeeze, 1e-3)
        span_y = max(north - south, 1e-3)
        scale = (WIDTH - 2 * PADDING) / max(span_x, span_y * 1.6)
        height = math.ceil(span_y * scale + 2 * PADDING)
        return cls(west, north, scale, squeeze, max(height, 200))

    def raw(self, lat: float, lon: float) -> tuple[float, float]:
        x = PADDING + (lon - self.west) * self.squeeze * self.scale
        y = PADDING + (self.north - lat) * self.scale
        return x, y

    def outside(self, lat: float, lon: float) -> bool:
        """Whether the place lies beyond the frame (and is drawn on its edge)."""
        x, y = self.raw(lat, lon)
        edge = PADDING / 2
        return not (edge <= x <= WIDTH - edge and edge <= y <= self.height - edge)

    def __call__(self, lat: float, lon: float) -> tuple[float, float]:
        x, y = self.raw(lat, lon)
        edge = PADDING / 2
        x = min(max(x, edge), WIDTH - edge)
        y = min(max(y, edge), self.height - edge)
        return round(x, 1), round(y, 1)


def fit_label(text: str, width: float, size: float = 11) -> str:
    """As much of ``text`` as fits in ``width`` at font ``size`` (a Chinese character about
    one ``size`` wide, a Latin one about 0.6), with an ellipsis when cut."""
    used, kept = 0.0, list[str]()
    room = width - size * 0.6
    for char in text:
        used += size if ord(char) > 0x2E7F else size * 0.6
        if used > room:
            return "".join(kept).rstrip() + "…" if kept else ""
        kept.append(char)
    return text


COMPANY_ENDINGS = ("股份有限公司", "有限责任公司", "有限公司", "集团", "公司")


def short_name(name: str, limit: int = 6) -> str:
    """A customer's name short enough for a bar: without 有限公司 and the like."""
    for ending in COMPANY_ENDINGS:
        if name.endswith(ending) and len(name) > len(ending):
            name = name[: -len(ending)]
            break
    return name[:limit]


@dataclass(frozen=True)
class Bar:
    """A stop on the timeline: x and width in the timeline's viewBox."""

    x: float
    width: float
    kind: str
    label: str
    detail: str = ""
    late_minutes: int = 0
    priority: str = ""

    @property
    def text(self) -> str:
        """The label as it fits inside the bar."""
        return fit_label(self.label, self.width)


@dataclass(frozen=True)
class Timeline:
    start: datetime
    end: datetime
    width: int = WIDTH

    def x(self, moment: datetime) -> float:
        span = (self.end - self.start).total_seconds() or 1.0
        share = (moment - self.start).total_seconds() / span
        return round(min(max(share, 0.0), 1.0) * self.width, 1)

    def bar(self, begins: datetime, ends: datetime, kind: str, label: str, **more: Any) -> Bar:
        x = self.x(begins)
        return Bar(x, max(self.x(ends) - x, 2.0), kind, label, **more)

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
