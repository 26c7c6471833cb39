"""Straight-line travel times (R30): great-circle distance × road factor, at an average speed."""

from __future__ import annotations

import math

import pytest

from partsvc.routing.travel import HaversineSource, Point

TIANANMEN: Point = (39.9087, 116.3975)
PEOPLES_SQUARE: Point = (31.2304, 121.4737)
BEIJING_SHANGHAI_KM = 1068.0
"""Great-circle distance between the two squares (independently published, ±1 %)."""

SHANGHAI: list[Point] = [
    (31.2304, 121.4737),
    (31.1443, 121.8083),  # Pudong airport
    (31.1979, 121.3363),  # Hongqiao
    (31.2397, 121.4998),  # Lujiazui
    (31.0456, 121.3997),
]


def test_beijing_to_shanghai_is_the_great_circle_times_the_road_factor() -> None:
    for factor in (1.0, 1.3):
        travel = HaversineSource(road_factor=factor).travel([TIANANMEN, PEOPLES_SQUARE])
        expected = BEIJING_SHANGHAI_KM * 1000 * factor
        assert travel.metres[0][1] == pytest.approx(expected, rel=0.01)


def test_symmetric_with_a_zero_diagonal() -> None:
    travel = HaversineSource().travel(SHANGHAI)
    size = len(SHANGHAI)
    assert travel.places == size
    for a in range(size):
        assert travel.seconds[a][a] == 0
        assert travel.metres[a][a] == 0
        for b in range(size):
            assert travel.seconds[a][b] == travel.seconds[b][a]
            assert travel.metres[a][b] == travel.metres[b][a]
            if a != b:
                assert travel.seconds[a][b] > 0
                assert travel.metres[a][b] > 0


def test_seconds_are_metres_at_the_average_speed_rounded_up() -> None:
    source = HaversineSource(road_factor=1.3, average_speed_kmh=30.0)
    travel = source.travel(SHANGHAI)
    speed = 30.0 / 3.6
    for seconds_row, metres_row in zip(travel.seconds, travel.metres, strict=True):
        for seconds, metres in zip(seconds_row, metres_row, strict=True):
            assert all(isinstance(value, int) for value in (seconds, metres))
            # Seconds are the unrounded metres (within half a metre) / speed, rounded up.
            assert (metres - 0.5) / speed <= seconds < (metres + 0.5) / speed + 1


def test_identical_points_are_zero_and_nearby_distinct_points_are_not() -> None:
    here = (31.2304, 121.4737)
    nearby = (31.2304, 121.4737 + 1e-6)  # about 10 cm east
    travel = HaversineSource().travel([here, here, nearby])
    assert travel.seconds[0][1] == travel.metres[0][1] == 0
    assert travel.seconds[0][2] == 1  # rounded up, never zero between distinct points
    assert travel.metres[0][2] == 0


def test_road_factor_scales_distance_and_time() -> None:
    base = HaversineSource(road_factor=1.0).travel([TIANANMEN, PEOPLES_SQUARE])
    double = HaversineSource(road_factor=2.0).travel([TIANANMEN, PEOPLES_SQUARE])
    assert double.metres[0][1] == pytest.approx(2 * base.metres[0][1], abs=1)
    assert double.seconds[0][1] == pytest.approx(2 * base.seconds[0][1], abs=2)


def test_speed_scales_time_but_not_distance() -> None:
    slow = HaversineSource(average_speed_kmh=30.0).travel([TIANANMEN, PEOPLES_SQUARE])
    fast = HaversineSource(average_speed_kmh=60.0).travel([TIANANMEN, PEOPLES_SQUARE])
    assert fast.metres == slow.metres
    assert fast.seconds[0][1] == pytest.approx(slow.seconds[0][1] / 2, abs=1)
    # 1068 km × 1.3 = 1388 km at 60 km/h is a little over 23 hours.
    assert 23 * 3600 < fast.seconds[0][1] < 23.3 * 3600


def test_a_300_point_matrix() -> None:
    points = [(30.7 + (i % 20) * 0.05, 121.0 + (i // 20) * 0.06) for i in range(300)]
    travel = HaversineSource().travel(points)
    assert travel.places == 300
    assert all(len(row) == 300 for row in travel.seconds)
    assert all(len(row) == 300 for row in travel.metres)
    assert all(travel.seconds[i][i] == 0 for i in range(300))
    assert travel.metres[0][299] == travel.metres[299][0] > 0


def test_no_points_and_one_point() -> None:
    assert HaversineSource().travel([]).places == 0
    one = HaversineSource().travel([TIANANMEN])
    assert one.seconds == ((0,),)
    assert one.metres == ((0,),)


@pytest.mark.parametrize("point", [(91.0, 0.0), (0.0, 181.0), (float("nan"), 0.0)])
def test_coordinates_out_of_range_are_refused(point: Point) -> None:
    with pytest.raises(ValueError, match="latitude, longitude"):
        HaversineSource().travel([TIANANMEN, point])


@pytest.mark.parametrize(
    "arguments", [{"road_factor": 0.0}, {"average_speed_kmh": -5.0}, {"road_factor": math.inf}]
)
def test_factors_must_be_positive(arguments: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must be positive"):
        HaversineSource(**arguments)
