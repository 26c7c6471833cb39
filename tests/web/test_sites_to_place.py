"""Sites known only by their address (issue 24): imported without coordinates, listed for
the office to place on the map, left out by the planner with their own reason until they
are placed, then planned like any other."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from partsvc.audit.models import AuditEvent
from partsvc.auth.identity import set_password
from partsvc.calls.calls import report_call
from partsvc.calls.customers import create_customer, create_site
from partsvc.calls.engineers import create_engineer
from partsvc.calls.models import Call, Engineer, Site
from partsvc.core.worktime import WorkingCalendar
from partsvc.inventory.models import Location
from partsvc.routing import loading, plans
from partsvc.routing.problem import Reason
from partsvc.routing.solver import solve
from partsvc.routing.travel import HaversineSource
from tests.web.conftest import PASSWORD, csrf_token, login, post_form

FRIDAY_MORNING = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
ZH = {"Accept-Language": "zh-CN"}
PAGE = "/customer-file/sites-to-place"


@pytest.fixture
def call_id(session, clock) -> int:
    """A P2 call at a site imported with its address only; an engineer who could go."""
    clock.now = FRIDAY_MORNING
    create_customer(
        session, code="C-ADDR", name="苏州精工", tier="silver", contract_starts_on=clock.now.date()
    )
    create_site(session, code="S-ADDR", customer="C-ADDR", address="苏州工业园区星湖街328号")
    create_site(session, code="S-ADDR-2", customer="C-ADDR", address="苏州吴中区东吴北路1号")
    create_engineer(session, code="E-ADDR", name="Li", home_lat=31.3, home_lon=120.6, skills=[])
    call = report_call(
        session, site="S-ADDR", priority="P2", calendar=WorkingCalendar(), now=clock.now
    )
    session.commit()
    return call.id


def _plan(session, clock):
    loaded = loading.load_day(
        session,
        FRIDAY_MORNING.date(),
        now=clock.now,
        calendar=WorkingCalendar(),
        source=HaversineSource(),
    )
    return loaded, solve(loaded.problem, time_limit_s=1)


def test_the_sites_to_place_are_listed_with_their_open_calls_and_a_map_link(
    client, users, call_id
) -> None:
    login(client, "dispatcher")
    page = client.get(PAGE)
    assert page.status_code == 200
    assert 'id="site-S-ADDR"' in page.text and 'id="site-S-ADDR-2"' in page.text
    # The one with an open call first, its count shown.
    assert page.text.index('id="site-S-ADDR"') < page.text.index('id="site-S-ADDR-2"')
    assert "<strong>1</strong>" in page.text
    assert "https://uri.amap.com/search?keyword=%E8%8B%8F%E5%B7%9E" in page.text
    home = client.get("/customer-file").text
    assert 'id="sites-waiting"' in home and "2 sites wait to be placed on the map" in home
    assert f'href="{PAGE}"' in home
    board = client.get("/board").text
    assert 'id="unplaced-notice"' in board and "1 open call is at a site" in board


def test_placing_a_site_takes_it_off_the_list_moves_its_location_and_is_audited(
    client, users, session, call_id
) -> None:
    login(client, "dispatcher")
    answer = post_form(client, PAGE, f"{PAGE}/S-ADDR", {"lat": "31.3236", "lon": "120.7266"})
    assert answer.status_code == 302
    page = client.get(PAGE).text
    assert 'id="site-S-ADDR"' not in page and 'id="site-S-ADDR-2"' in page
    assert "Site S-ADDR placed at 31.323600, 120.726600" in page
    session.expire_all()
    site = session.scalars(select(Site).where(Site.code == "S-ADDR")).one()
    assert (site.lat, site.lon) == (31.3236, 120.7266)
    location = session.get(Location, site.location_id)
    assert location is not None and (location.lat, location.lon) == (31.3236, 120.7266)
    [event] = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "site.placed", AuditEvent.subject_key == "S-ADDR"
        )
    )
    assert event.username == "dispatcher"
    assert event.details == {
        "before": {"lat": None, "lon": None},
        "after": {"lat": 31.3236, "lon": 120.7266},
    }
    assert 'id="unplaced-notice"' not in client.get("/board").text


@pytest.mark.parametrize(
    ("lat", "lon", "english", "chinese"),
    [
        (
            "91",
            "120.7",
            "The latitude must be from -90 to 90 degrees; 91 is not.",
            "纬度须在 -90 到 90 度之间",
        ),
        ("31.3", "east", "The longitude must be a number of degrees", "经度须填写度数"),
        ("", "120.7", "The latitude must be a number of degrees", "纬度须填写度数"),
    ],
)
def test_a_wrong_number_is_refused_in_the_users_language_and_nothing_changes(
    client, users, session, call_id, lat, lon, english, chinese
) -> None:
    login(client, "admin")
    answer = post_form(client, PAGE, f"{PAGE}/S-ADDR", {"lat": lat, "lon": lon})
    assert answer.status_code == 422
    assert english in answer.text
    assert f'value="{lat}"' in answer.text  # what was typed stays in the form
    token = csrf_token(client.get(PAGE).text)
    answer = client.post(
        f"{PAGE}/S-ADDR", data={"lat": lat, "lon": lon, "csrf_token": token}, headers=ZH
    )
    assert answer.status_code == 422 and chinese in answer.text
    session.expire_all()
    assert session.scalar(select(Site.lat).where(Site.code == "S-ADDR")) is None


def test_an_unknown_site_is_not_found(client, users, call_id) -> None:
    login(client, "dispatcher")
    answer = post_form(client, PAGE, f"{PAGE}/S-NOWHERE", {"lat": "31", "lon": "120"})
    assert answer.status_code == 404


def test_the_page_is_the_offices(client, users) -> None:
    login(client, "clerk")
    assert client.get(PAGE).status_code == 403


def test_the_planner_leaves_out_a_call_at_an_unplaced_site_then_plans_it_once_placed(
    client, users, session, clock, call_id
) -> None:
    loaded, plan = _plan(session, clock)
    assert [(u.call, u.reason) for u in plan.unassigned] == [(str(call_id), Reason.NOT_PLACED)]
    stored = plans.save_plan(
        session,
        loaded,
        plan,
        time_limit_s=1,
        solve_seconds=0.1,
        source="HaversineSource",
        now=clock.now,
        by=None,
    )
    session.commit()
    login(client, "dispatcher")
    board = client.get("/board").text
    assert "the site has no place on the map yet — place it" in board
    assert f'{PAGE}#site-S-ADDR"' in board
    assert "地点尚未在地图上定位——请先定位" in client.get("/board", headers=ZH).text
    candidates = client.get(f"/board/plans/{stored.id}/calls/{call_id}")
    assert candidates.status_code == 200
    assert 'id="not-placed"' in candidates.text
    assert "the site has no place on the map yet — place it" in candidates.text
    assert (
        "该地点尚未在地图上定位"
        in client.get(f"/board/plans/{stored.id}/calls/{call_id}", headers=ZH).text
    )

    post_form(client, PAGE, f"{PAGE}/S-ADDR", {"lat": "31.3236", "lon": "120.7266"})
    session.expire_all()
    _, plan = _plan(session, clock)
    assert plan.unassigned == ()
    assert [stop.key for route in plan.routes for stop in route.stops] == [str(call_id)]


def test_the_engineer_gets_an_address_search_instead_of_a_geo_link(
    client, users, session, call_id
) -> None:
    engineer = session.scalars(select(Engineer).where(Engineer.code == "E-ADDR")).one()
    assert engineer.user is not None
    set_password(engineer.user, PASSWORD)
    call = session.get(Call, call_id)
    call.engineer_id, call.status = engineer.id, "assigned"
    session.commit()
    login(client, engineer.user.username)
    answer = client.get(f"/my/calls/{call_id}")
    assert answer.status_code == 200
    page = answer.text
    assert 'id="open-map"' not in page and "geo:" not in page
    assert 'id="find-address"' in page and "uri.amap.com/search?keyword=" in page


def test_an_address_only_site_is_imported_from_the_page_and_half_coordinates_are_refused(
    client, users, session
) -> None:
    create_customer(
        session,
        code="C-IMP",
        name="无锡机电",
        tier="bronze",
        contract_starts_on=FRIDAY_MORNING.date(),
    )
    session.commit()
    login(client, "dispatcher")
    half = (
        "code,customer,address,lat,lon\n"
        "S-IMP-1,C-IMP,无锡新吴区长江路7号,,\n"
        "S-IMP-2,C-IMP,无锡滨湖区,31.5,\n"
    ).encode()
    answer = post_form(
        client, "/customer-file", "/customer-file/sites", {"file": (io.BytesIO(half), "s.csv")}
    )
    assert answer.status_code == 422
    assert "Give both lat and lon, or leave both empty" in answer.text
    token = csrf_token(client.get("/customer-file").text)
    answer = client.post(
        "/customer-file/sites",
        data={"file": (io.BytesIO(half), "s.csv"), "csrf_token": token},
        headers=ZH,
    )
    assert answer.status_code == 422 and "纬度和经度要么都填，要么都留空" in answer.text
    assert session.scalar(select(Site.id).where(Site.code == "S-IMP-1")) is None

    good = half.replace(b"31.5,", b"31.5,120.3")
    answer = post_form(
        client,
        "/customer-file",
        "/customer-file/sites",
        {"file": (io.BytesIO(good), "s.csv"), "dry_run": "y"},
    )
    assert answer.status_code == 200
    assert "1 site has an address and no coordinates" in answer.text
    answer = post_form(
        client, "/customer-file", "/customer-file/sites", {"file": (io.BytesIO(good), "s.csv")}
    )
    assert answer.status_code == 302
    assert "1 site waits to be placed on the map." in client.get("/customer-file").text
    session.expire_all()
    assert session.scalar(select(Site.lat).where(Site.code == "S-IMP-1")) is None
    assert session.scalar(select(Site.lat).where(Site.code == "S-IMP-2")) == 31.5
