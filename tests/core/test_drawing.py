"""The geometry behind the board's SVG map and timeline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from partsvc.core.drawing import PADDING, WIDTH, Projection, fit_label, short_name, timeline_around

SHANGHAI = (31.23, 121.47)
SUZHOU = (31.30, 120.58)
NANJING = (32.06, 118.80)


def test_the_map_keeps_every_place_inside_and_north_up() -> None:
    project = Projection.around([SHANGHAI, SUZHOU, NANJING])
    points = [project(*place) for place in (SHANGHAI, SUZHOU, NANJING)]
    for x, y in points:
        assert PADDING - 0.1 <= x <= WIDTH - PADDING + 0.1
        assert PADDING - 0.1 <= y <= project.height - PADDING + 0.1
    (sh_x, sh_y), (sz_x, _), (nj_x, nj_y) = points
    assert nj_x < sz_x < sh_x  # west to east
    assert nj_y < sh_y  # Nanjing lies north of Shanghai


def test_one_place_alone_still_draws() -> None:
    project = Projection.around([SHANGHAI])
    x, y = project(*SHANGHAI)
    assert (x, y) == (PADDING, PADDING)
    assert project.height >= 200


def test_the_timeline_runs_on_whole_hours_and_places_stops_in_it() -> None:
    nine = datetime(2026, 11, 18, 9, 20, tzinfo=UTC)
    timeline = timeline_around([(nine, nine + timedelta(hours=7, minutes=10))], nine)
    assert timeline.start == nine.replace(minute=0)
    assert timeline.end == nine.replace(hour=17, minute=0)
    assert [hour for _, hour in timeline.hours()] == list(range(9, 18))
    bar = timeline.bar(
        nine.replace(hour=13, minute=0), nine.replace(hour=14, minute=0), "call", "c"
    )
    assert bar.x == WIDTH / 2 and bar.width == WIDTH / 8


def test_the_map_frames_the_city_and_puts_a_far_away_site_on_its_edge() -> None:
    city = [(31.23, 121.47), (31.24, 121.50), (31.14, 121.81), (31.40, 121.25), (31.30, 120.58)]
    project = Projection.fitted([*city, NANJING])
    assert project.outside(*NANJING)
    assert not any(project.outside(*place) for place in city)
    x, _ = project(*NANJING)
    assert x == PADDING / 2  # on the western edge, where Nanjing lies
    spread = [project(*place)[0] for place in city]
    assert max(spread) - min(spread) > WIDTH / 2, "the city fills the map"


def test_labels_fit_their_bars_and_names_lose_their_company_ending() -> None:
    assert short_name("上海浦东印务有限公司") == "上海浦东印务"
    assert fit_label("P1 12 上海浦东印务", 200) == "P1 12 上海浦东印务"
    cut = fit_label("P1 12 上海浦东印务", 60)
    assert cut.endswith("…") and len(cut) < len("P1 12 上海浦东印务")
    assert fit_label("P1 12", 5) == ""
