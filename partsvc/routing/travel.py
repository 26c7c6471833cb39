"""Travel times for the dispatch planner, from a pluggable source (R30).

`HaversineSource` is the default: great-circle distance times a road factor, driven at an
average speed. `OsrmSource` asks a road-routing server's table service (OSRM) and falls back
to straight-line times, with a WARNING, whenever the server cannot answer.

Both return a `routing.problem.Travel`: whole metres (rounded) and whole seconds (rounded up,
so a plan that fits in whole seconds also fits the real times). Imports only the standard
library and numpy; settings are taken by duck typing so no Flask or database is pulled in.
"""

from __future__ import annotations

import http.client
import json
import logging
import math
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from partsvc.routing.problem import Travel

if TYPE_CHECKING:
    from numpy.typing import NDArray

log = logging.getLogger(__name__)

Point = tuple[float, float]
"""(latitude, longitude) in degrees."""

EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius (IUGG), metres."""

OSRM_MAX_TABLE_SIZE = 100
"""OSRM's default `--max-table-size`: at most this many sources × this many destinations."""


class TravelSource(Protocol):
    def travel(self, points: Sequence[Point]) -> Travel: ...


class TravelSettings(Protocol):
    """The part of `partsvc.platform.config.Settings` that `travel_source` reads."""

    @property
    def osrm_url(self) -> str | None: ...
    @property
    def osrm_timeout_s(self) -> float: ...
    @property
    def road_factor(self) -> float: ...
    @property
    def average_speed_kmh(self) -> float: ...


def _check_points(points: Sequence[Point]) -> None:
    """Bad coordinates are a caller's bug, not a routing failure: raise, don't fall back."""
    for index, (lat, lon) in enumerate(points):
        if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
            raise ValueError(f"point {index} is not a (latitude, longitude) pair: {(lat, lon)}")


def _as_tuples(matrix: NDArray[np.int64]) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(int(value) for value in row) for row in matrix)


class HaversineSource:
    """Straight-line travel: great-circle distance × `road_factor`, at `average_speed_kmh`.

    Seconds are worked out from the unrounded distance, so they are zero only between
    identical points (the diagonal), however close two distinct points are.
    """

    def __init__(self, road_factor: float = 1.3, average_speed_kmh: float = 30.0) -> None:
        if not road_factor > 0 or not math.isfinite(road_factor):
            raise ValueError(f"road_factor must be positive, got {road_factor}")
        if not average_speed_kmh > 0 or not math.isfinite(average_speed_kmh):
            raise ValueError(f"average_speed_kmh must be positive, got {average_speed_kmh}")
        self.road_factor = road_factor
        self.average_speed_kmh = average_speed_kmh

    def __repr__(self) -> str:
        return (
            f"HaversineSource(road_factor={self.road_factor}, "
            f"average_speed_kmh={self.average_speed_kmh})"
        )

    def travel(self, points: Sequence[Point]) -> Travel:
        _check_points(points)
        metres = self._metres(points)
        speed_m_per_s = self.average_speed_kmh / 3.6
        return Travel(
            seconds=_as_tuples(np.ceil(metres / speed_m_per_s).astype(np.int64)),
            metres=_as_tuples(np.rint(metres).astype(np.int64)),
        )

    def _metres(self, points: Sequence[Point]) -> NDArray[np.float64]:
        """Road metres between every pair of points, unrounded."""
        coordinates = np.radians(np.asarray(points, dtype=np.float64).reshape(-1, 2))
        lat, lon = coordinates[:, 0], coordinates[:, 1]
        dlat = lat[:, None] - lat[None, :]
        dlon = lon[:, None] - lon[None, :]
        hav = np.sin(dlat / 2) ** 2 + np.cos(lat[:, None]) * np.cos(lat[None, :]) * (
            np.sin(dlon / 2) ** 2
        )
        # Rounding can push `hav` a hair past 1 for antipodal points.
        angle = 2 * np.arcsin(np.sqrt(np.clip(hav, 0.0, 1.0)))
        result: NDArray[np.float64] = angle * EARTH_RADIUS_M * self.road_factor
        return result


class OsrmError(Exception):
    """OSRM did not give a usable answer; the message says why."""


class OsrmSource:
    """Road travel times from an OSRM server's table service, straight-line when it fails.

    One `GET {url}/table/v1/driving/{lon,lat;...}?annotations=duration,distance` per block:
    with more than `block_size` points the matrix is fetched in square blocks of at most
    `block_size` sources × `block_size` destinations (OSRM's `--max-table-size` limits that
    product), each request sending only the coordinates of its two blocks. `timeout_s` holds
    for each request, not for the whole matrix.

    Any failure (no connection, timeout, HTTP status other than 200, `code` other than "Ok",
    a malformed answer) logs a WARNING and returns `fallback.travel(points)` as a whole:
    mixing a partial road matrix with straight-line blocks would make some pairs look
    cheaper than others for no reason the planner could see.

    A null cell (OSRM found no route between that pair, e.g. a point snapped to an island of
    road cut off from the rest) is different: the server works, so only those cells are
    filled from the fallback, with one WARNING saying how many. Throwing away the whole road
    matrix for one badly placed customer would make every other route worse.
    """

    def __init__(
        self,
        url: str,
        timeout_s: float = 5.0,
        fallback: HaversineSource | None = None,
        block_size: int = OSRM_MAX_TABLE_SIZE,
    ) -> None:
        scheme = urllib.parse.urlsplit(url).scheme
        if scheme not in ("http", "https"):
            raise ValueError(f"OSRM url must be http or https, got {url!r}")
        if block_size < 1:
            raise ValueError(f"block_size must be at least 1, got {block_size}")
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        self.fallback = HaversineSource() if fallback is None else fallback
        self.block_size = block_size

    def __repr__(self) -> str:
        return (
            f"OsrmSource({self.url!r}, timeout_s={self.timeout_s}, "
            f"fallback={self.fallback!r}, block_size={self.block_size})"
        )

    def travel(self, points: Sequence[Point]) -> Travel:
        _check_points(points)
        if len(points) < 2:
            return self.fallback.travel(points)
        try:
            durations, distances = self._table(points)
        except OsrmError as error:
            log.warning(
                "OSRM at %s failed (%s); using straight-line travel times for %d points",
                self.url,
                error,
                len(points),
            )
            return self.fallback.travel(points)

        missing = np.isnan(durations) | np.isnan(distances)
        if missing.any():
            log.warning(
                "OSRM at %s failed for %d of %d pairs (no route found); "
                "using straight-line travel times for those pairs",
                self.url,
                int(missing.sum()),
                missing.size,
            )
            straight = self.fallback.travel(points)
            durations = np.where(missing, np.asarray(straight.seconds, np.float64), durations)
            distances = np.where(missing, np.asarray(straight.metres, np.float64), distances)
        return Travel(
            seconds=_as_tuples(np.ceil(durations).astype(np.int64)),
            metres=_as_tuples(np.rint(distances).astype(np.int64)),
        )

    def _table(self, points: Sequence[Point]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Durations and distances for all pairs, NaN where OSRM found no route."""
        size = len(points)
        durations = np.full((size, size), np.nan)
        distances = np.full((size, size), np.nan)
        blocks = [
            range(start, min(start + self.block_size, size))
            for start in range(0, size, self.block_size)
        ]
        for rows in blocks:
            for columns in blocks:
                block_durations, block_distances = self._block(points, rows, columns)
                durations[rows.start : rows.stop, columns.start : columns.stop] = block_durations
                distances[rows.start : rows.stop, columns.start : columns.stop] = block_distances
        return durations, distances

    def _block(
        self, points: Sequence[Point], rows: range, columns: range
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        if rows == columns:
            indices = list(rows)
            query = ""
        else:
            indices = [*rows, *columns]
            sources = ";".join(str(i) for i in range(len(rows)))
            destinations = ";".join(str(i) for i in range(len(rows), len(indices)))
            query = f"&sources={sources}&destinations={destinations}"
        # OSRM wants longitude first.
        coordinates = ";".join(f"{points[i][1]:.6f},{points[i][0]:.6f}" for i in indices)
        url = f"{self.url}/table/v1/driving/{coordinates}?annotations=duration,distance{query}"
        answer = self._get(url)
        shape = (len(rows), len(columns))
        return _matrix(answer, "durations", shape), _matrix(answer, "distances", shape)

    def _get(self, url: str) -> dict[str, Any]:
        # The scheme is checked to be http(s) in __init__: no file: or other scheme.
        request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310  # nosec B310
                if response.status != 200:
                    raise OsrmError(f"HTTP status {response.status}")
                body = response.read()
        except urllib.error.HTTPError as error:
            try:
                with error:
                    detail = _osrm_message(error.read())
            except (OSError, http.client.HTTPException):
                detail = ""
            raise OsrmError(f"HTTP status {error.code}{detail}") from error
        except urllib.error.URLError as error:
            raise OsrmError(f"cannot reach it: {error.reason}") from error
        except TimeoutError as error:
            raise OsrmError(f"no answer within {self.timeout_s} s") from error
        except (OSError, http.client.HTTPException) as error:
            raise OsrmError(f"{type(error).__name__}: {error}") from error
        try:
            answer = json.loads(body)
        except ValueError as error:
            raise OsrmError(f"answer is not JSON: {error}") from error
        if not isinstance(answer, dict):
            raise OsrmError("answer is not a JSON object")
        if answer.get("code") != "Ok":
            raise OsrmError(f"code {answer.get('code')!r}{_osrm_message(body)}")
        return answer


def _osrm_message(body: bytes) -> str:
    """`: <message>` from an OSRM error body, or nothing if there is none."""
    try:
        answer = json.loads(body)
    except ValueError:
        return ""
    if isinstance(answer, dict) and isinstance(answer.get("message"), str):
        return f": {answer['message']}"
    return ""


def _matrix(answer: dict[str, Any], key: str, shape: tuple[int, int]) -> NDArray[np.float64]:
    """`answer[key]` as floats of the given shape, NaN for null; OsrmError if malformed."""
    rows = answer.get(key)
    if not isinstance(rows, list) or len(rows) != shape[0]:
        raise OsrmError(f"{key!r} is missing or not {shape[0]} rows")
    result = np.empty(shape)
    for i, row in enumerate(rows):
        if not isinstance(row, list) or len(row) != shape[1]:
            raise OsrmError(f"{key!r} row {i} is not a list of {shape[1]} values")
        for j, value in enumerate(row):
            if value is None:
                result[i, j] = np.nan
            elif (
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and math.isfinite(value)
                and value >= 0
            ):
                result[i, j] = value
            else:
                raise OsrmError(f"{key!r}[{i}][{j}] is not a non-negative number: {value!r}")
    return result


def travel_source(settings: TravelSettings) -> HaversineSource | OsrmSource:
    """OSRM when `osrm_url` is set, straight-line otherwise; both use the settings' factors."""
    straight = HaversineSource(settings.road_factor, settings.average_speed_kmh)
    if settings.osrm_url:
        return OsrmSource(settings.osrm_url, settings.osrm_timeout_s, fallback=straight)
    return straight
