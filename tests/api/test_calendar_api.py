"""The admin's closures and extra working days move the deadlines of new calls (R21)."""

from __future__ import annotations

import pytest


@pytest.fixture
def site(client, auth, clock):
    admin = auth["admin"]
    client.post("/api/v1/customers", json={"code": "C-CAL", "name": "C"}, headers=admin)
    body = {"code": "S-CAL", "customer": "C-CAL", "address": "上海", "lat": 31.2, "lon": 121.5}
    assert client.post("/api/v1/sites", json=body, headers=admin).status_code == 201
    clock.advance(days=30)  # the calls below are reported before this
    return "S-CAL"


def day_of(client, headers, day):
    answer = client.get("/api/v1/calendar", query_string={"from": day, "to": day}, headers=headers)
    assert answer.status_code == 200, answer.json
    (item,) = answer.json["items"]
    return item


def test_the_calendar_says_why_each_day_is_or_is_not_worked(client, auth):
    answer = client.get(
        "/api/v1/calendar",
        query_string={"from": "2026-09-30", "to": "2026-10-10"},
        headers=auth["engineer"],
    )
    days = {item["date"]: item for item in answer.json["items"]}
    assert len(days) == 11
    assert days["2026-09-30"] == {
        "date": "2026-09-30",
        "working": True,
        "opens": "09:00:00",
        "closes": "18:00:00",
        "reason": "working day",
        "note": None,
    }
    assert days["2026-10-01"]["reason"] == "public holiday: National Day"
    assert not days["2026-10-01"]["working"]
    assert days["2026-10-10"]["reason"] == "make-up working day"  # a Saturday
    assert days["2026-10-10"]["working"]


def test_an_admin_closure_moves_the_deadline_of_new_calls_only(client, auth, site):
    dispatcher = auth["dispatcher"]
    body = {"site": site, "priority": "P2", "reported_at": "2026-11-23T17:00:00+08:00"}
    before = client.post("/api/v1/calls", json=body, headers=dispatcher).json
    assert before["onsite_due"] == "2026-11-24T02:00:00+00:00"  # Tuesday 10:00

    closed = client.put(
        "/api/v1/calendar/days/2026-11-24",
        json={"working": False, "note": "Company meeting"},
        headers=auth["admin"],
    )
    assert closed.status_code == 200
    assert closed.json["working"] is False
    after = client.post("/api/v1/calls", json=body, headers=dispatcher).json
    assert after["onsite_due"] == "2026-11-25T02:00:00+00:00"  # Wednesday 10:00
    again = client.get(f"/api/v1/calls/{before['id']}", headers=dispatcher).json
    assert again["onsite_due"] == before["onsite_due"]
    item = day_of(client, dispatcher, "2026-11-24")
    assert (item["working"], item["reason"], item["note"]) == (
        False,
        "closed by the admin",
        "Company meeting",
    )

    gone = client.delete("/api/v1/calendar/days/2026-11-24", headers=auth["admin"])
    assert gone.status_code == 204
    assert day_of(client, dispatcher, "2026-11-24")["working"] is True
    third = client.post("/api/v1/calls", json=body, headers=dispatcher).json
    assert third["onsite_due"] == before["onsite_due"]


def test_an_extra_working_saturday_counts(client, auth, site):
    opened = client.put(
        "/api/v1/calendar/days/2026-11-28", json={"working": True}, headers=auth["admin"]
    )
    assert opened.status_code == 200
    body = {"site": site, "priority": "P2", "reported_at": "2026-11-27T17:00:00+08:00"}
    call = client.post("/api/v1/calls", json=body, headers=auth["dispatcher"]).json
    assert call["onsite_due"] == "2026-11-28T02:00:00+00:00"  # Saturday 10:00
    assert day_of(client, auth["clerk"], "2026-11-28")["reason"] == "working day set by the admin"


@pytest.mark.parametrize(
    "query",
    [
        {"from": "2026-12-31", "to": "2026-12-01"},
        {"from": "2026-01-01", "to": "2027-01-02"},
        {"from": "2026-13-01", "to": "2026-12-01"},
        {"from": "2026-12-01"},
    ],
)
def test_a_bad_range_is_422(client, auth, query):
    answer = client.get("/api/v1/calendar", query_string=query, headers=auth["admin"])
    assert answer.status_code == 422
    assert answer.content_type == "application/problem+json"


def test_removing_a_day_the_admin_never_set_is_404_and_a_bad_date_is_404(client, auth):
    assert (
        client.delete("/api/v1/calendar/days/2026-11-24", headers=auth["admin"]).status_code == 404
    )
    bad = client.put(
        "/api/v1/calendar/days/2026-02-30", json={"working": True}, headers=auth["admin"]
    )
    assert bad.status_code == 404
    assert bad.content_type == "application/problem+json"
