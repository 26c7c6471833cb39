"""The OSRM table client against a fake OSRM server on 127.0.0.1 (R30).

The fake answers `/table/v1/driving/{lon,lat;...}` with numbers computed from the coordinates
it was sent — durations[i][j] = source latitude × 100 + destination longitude + 0.2,
distances[i][j] = source longitude × 1000 + destination latitude + 0.4 — so a swapped
lon,lat, a transposed matrix or a block put in the wrong place shows up as wrong numbers.
"""

from __future__ import annotations

import json
import logging
import math
import socket
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from partsvc.platform.config import Settings
from partsvc.routing.travel import HaversineSource, OsrmSource, Point, travel_source

LOGGER = "partsvc.routing.travel"

POINTS: list[Point] = [
    (31.23, 121.47),
    (31.14, 121.81),
    (31.2, 121.34),
    (31.24, 121.5),
    (31.05, 121.4),
    (30.9, 121.93),
    (31.38, 121.27),
]


def fake_duration(source: Point, destination: Point) -> float:
    return source[0] * 100 + destination[1] + 0.2


def fake_distance(source: Point, destination: Point) -> float:
    return source[1] * 1000 + destination[0] + 0.4


class FakeOsrm(ThreadingHTTPServer):
    # Non-daemon handler threads, so server_close() waits for every one of them.
    daemon_threads = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.mode = "ok"
        self.paths: list[str] = []
        self.release = threading.Event()
        """Set at teardown, so a handler playing slow stops waiting."""

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def queries(self) -> list[dict[str, list[str]]]:
        return [urllib.parse.parse_qs(urllib.parse.urlsplit(path).query) for path in self.paths]


class Handler(BaseHTTPRequestHandler):
    server: FakeOsrm

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.server.paths.append(self.path)
        mode = self.server.mode
        if mode == "slow":
            self.server.release.wait(10)
            return
        if mode == "error":
            self.reply(500, {"code": "Error", "message": "boom"})
            return
        if mode == "invalid":
            self.reply(400, {"code": "InvalidQuery", "message": "Query string malformed"})
            return
        if mode == "not ok":
            self.reply(200, {"code": "InvalidQuery"})
            return
        if mode == "short":
            self.reply(200, {"code": "Ok", "durations": [[0.0]], "distances": [[0.0]]})
            return
        self.reply(200, self.table())

    def table(self) -> dict[str, Any]:
        split = urllib.parse.urlsplit(self.path)
        prefix = "/table/v1/driving/"
        assert split.path.startswith(prefix)
        # OSRM order: longitude, latitude. Turn them back into (lat, lon) points.
        points = [
            (float(lat), float(lon))
            for lon, lat in (pair.split(",") for pair in split.path[len(prefix) :].split(";"))
        ]
        query = urllib.parse.parse_qs(split.query)
        assert query["annotations"] == ["duration,distance"]
        everyone = ";".join(str(i) for i in range(len(points)))
        sources = [points[int(i)] for i in query.get("sources", [everyone])[0].split(";")]
        targets = [points[int(i)] for i in query.get("destinations", [everyone])[0].split(";")]
        durations: list[list[float | None]] = [
            [fake_duration(s, t) for t in targets] for s in sources
        ]
        distances: list[list[float | None]] = [
            [fake_distance(s, t) for t in targets] for s in sources
        ]
        if self.server.mode == "null":
            durations[0][-1] = None
            distances[0][-1] = None
        return {"code": "Ok", "durations": durations, "distances": distances}

    def reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def osrm() -> Iterator[FakeOsrm]:
    server = FakeOsrm()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (it was just freed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def expected(points: list[Point]) -> tuple[list[list[int]], list[list[int]]]:
    seconds = [[math.ceil(fake_duration(a, b)) for b in points] for a in points]
    metres = [[round(fake_distance(a, b)) for b in points] for a in points]
    return seconds, metres


def as_lists(matrix: tuple[tuple[int, ...], ...]) -> list[list[int]]:
    return [list(row) for row in matrix]


def assert_straight_line(travel: Any, points: list[Point]) -> None:
    straight = HaversineSource().travel(points)
    assert travel == straight


def test_returns_the_servers_numbers_rounded(
    osrm: FakeOsrm, caplog: pytest.LogCaptureFixture
) -> None:
    points = POINTS[:4]
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        travel = OsrmSource(osrm.url).travel(points)
    seconds, metres = expected(points)
    assert as_lists(travel.seconds) == seconds
    assert as_lists(travel.metres) == metres
    # E.g. 31.23 × 100 + 121.34 + 0.2 = 3244.54 s → 3245; 121.47 × 1000 + 31.2 + 0.4 → 121502.
    assert travel.seconds[0][2] == 3245
    assert travel.metres[0][2] == 121502
    assert len(osrm.paths) == 1
    path = urllib.parse.urlsplit(osrm.paths[0]).path
    assert path.startswith("/table/v1/driving/121.470000,31.230000;121.810000,31.140000;")
    assert "sources" not in osrm.queries()[0]
    assert caplog.records == []


def test_more_points_than_the_block_size_are_fetched_in_blocks(osrm: FakeOsrm) -> None:
    travel = OsrmSource(osrm.url, block_size=3).travel(POINTS)
    seconds, metres = expected(POINTS)
    assert as_lists(travel.seconds) == seconds
    assert as_lists(travel.metres) == metres
    # Blocks of 3, 3 and 1 points: 3 × 3 requests, none over 3 sources × 3 destinations.
    assert len(osrm.paths) == 9
    for path, query in zip(osrm.paths, osrm.queries(), strict=True):
        coordinates = urllib.parse.urlsplit(path).path.rsplit("/", 1)[1].split(";")
        if "sources" in query:
            sources = query["sources"][0].split(";")
            destinations = query["destinations"][0].split(";")
            assert len(sources) <= 3
            assert len(destinations) <= 3
            assert len(coordinates) == len(sources) + len(destinations)
        else:
            assert len(coordinates) <= 3


def test_unreachable_pairs_are_filled_with_straight_line_times(
    osrm: FakeOsrm, caplog: pytest.LogCaptureFixture
) -> None:
    osrm.mode = "null"
    points = POINTS[:4]
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        travel = OsrmSource(osrm.url).travel(points)
    seconds, metres = expected(points)
    straight = HaversineSource().travel(points)
    seconds[0][3], metres[0][3] = straight.seconds[0][3], straight.metres[0][3]
    assert as_lists(travel.seconds) == seconds
    assert as_lists(travel.metres) == metres
    [record] = caplog.records
    assert record.levelno == logging.WARNING
    assert "failed for 1 of 16 pairs (no route found)" in record.getMessage()
    assert "straight-line" in record.getMessage()


def check_fell_back(
    caplog: pytest.LogCaptureFixture, source: OsrmSource, reason: str, points: list[Point]
) -> None:
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        travel = source.travel(points)
    assert_straight_line(travel, points)
    [record] = caplog.records
    assert record.name == LOGGER
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert "OSRM" in message
    assert "failed" in message
    assert "straight-line" in message
    assert reason in message


def test_server_down_falls_back(closed_port: int, caplog: pytest.LogCaptureFixture) -> None:
    source = OsrmSource(f"http://127.0.0.1:{closed_port}", timeout_s=2)
    check_fell_back(caplog, source, "cannot reach it", POINTS)


def test_slow_server_falls_back(osrm: FakeOsrm, caplog: pytest.LogCaptureFixture) -> None:
    osrm.mode = "slow"
    source = OsrmSource(osrm.url, timeout_s=0.2)
    check_fell_back(caplog, source, "no answer within 0.2 s", POINTS)
    assert len(osrm.paths) == 1


def test_http_500_falls_back(osrm: FakeOsrm, caplog: pytest.LogCaptureFixture) -> None:
    osrm.mode = "error"
    check_fell_back(caplog, OsrmSource(osrm.url), "HTTP status 500", POINTS)


def test_http_400_with_osrm_message_falls_back(
    osrm: FakeOsrm, caplog: pytest.LogCaptureFixture
) -> None:
    osrm.mode = "invalid"
    reason = "HTTP status 400: Query string malformed"
    check_fell_back(caplog, OsrmSource(osrm.url), reason, POINTS)


def test_code_other_than_ok_falls_back(osrm: FakeOsrm, caplog: pytest.LogCaptureFixture) -> None:
    osrm.mode = "not ok"
    check_fell_back(caplog, OsrmSource(osrm.url), "code 'InvalidQuery'", POINTS)


def test_wrong_shape_falls_back(osrm: FakeOsrm, caplog: pytest.LogCaptureFixture) -> None:
    osrm.mode = "short"
    check_fell_back(caplog, OsrmSource(osrm.url), "'durations' is missing or not 7 rows", POINTS)


def test_a_failing_block_makes_the_whole_matrix_straight_line(
    osrm: FakeOsrm, caplog: pytest.LogCaptureFixture
) -> None:
    osrm.mode = "short"  # every block is answered with a 1 × 1 table
    check_fell_back(caplog, OsrmSource(osrm.url, block_size=3), "'durations'", POINTS)
    assert len(osrm.paths) == 1  # gives up at the first bad block


def test_fallback_uses_its_own_factors(closed_port: int, caplog: pytest.LogCaptureFixture) -> None:
    fallback = HaversineSource(road_factor=1.5, average_speed_kmh=40)
    source = OsrmSource(f"http://127.0.0.1:{closed_port}", fallback=fallback)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert source.travel(POINTS) == fallback.travel(POINTS)


def test_travel_source_from_settings() -> None:
    osrm = travel_source(
        Settings(osrm_url="http://osrm.local:5000/", osrm_timeout_s=2.5, road_factor=1.4)
    )
    assert isinstance(osrm, OsrmSource)
    assert osrm.url == "http://osrm.local:5000"
    assert osrm.timeout_s == 2.5
    assert osrm.fallback.road_factor == 1.4

    straight = travel_source(Settings(average_speed_kmh=25.0))
    assert isinstance(straight, HaversineSource)
    assert straight.road_factor == 1.3
    assert straight.average_speed_kmh == 25.0


def test_only_http_urls() -> None:
    with pytest.raises(ValueError, match="http or https"):
        OsrmSource("file:///etc/passwd")
