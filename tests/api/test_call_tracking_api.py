"""Following a call through the day: assignment, its clocks, flags, lists (R22, R25)."""

from __future__ import annotations

import pytest

MONDAY_10 = "2026-11-23T10:00:00+08:00"  # 02:00 UTC


@pytest.fixture
def desk(client, auth, session, clock, add_engineers):
    """A customer with a site, two engineers with their own tokens; the clock at Monday 10:00."""
    admin = auth["admin"]
    assert (
        client.post(
            "/api/v1/customers", json={"code": "C-T", "name": "T", "tier": "silver"}, headers=admin
        ).status_code
        == 201
    )
    site = {"code": "S-T", "customer": "C-T", "address": "上海", "lat": 31.2, "lon": 121.5}
    assert client.post("/api/v1/sites", json=site, headers=admin).status_code == 201
    headers = add_engineers("E-A", "E-B")
    clock.now = clock.now.replace(day=23, hour=2)
    return {"dispatcher": auth["dispatcher"], **headers}


def report(client, desk, priority="P2", **extra):
    body = {"site": "S-T", "priority": priority, "reported_at": MONDAY_10, **extra}
    answer = client.post("/api/v1/calls", json=body, headers=desk["dispatcher"])
    assert answer.status_code == 201, answer.json
    return answer.json


def move(client, headers, call, status, **extra):
    return client.post(
        f"/api/v1/calls/{call['id']}/status", json={"status": status, **extra}, headers=headers
    )


def complete(client, headers, call):
    """Resolve a call on site the only way there is: its completion, signed by both."""
    body = {"work_done": "Fixed", "signed_by": "王建国", "engineer_signed_by": "Eng"}
    answer = client.post(f"/api/v1/calls/{call['id']}/completion", json=body, headers=headers)
    assert answer.status_code == 201, answer.json
    return answer


def states(call):
    return {d["deadline"]: d["state"] for d in call["deadlines"]}


def test_a_call_is_flagged_near_then_missed_as_the_clock_runs(client, desk, clock):
    call = report(client, desk, "P1")  # response 11:00, on site 12:00
    assert states(call) == {"response": "open", "onsite": "open", "resolve": "open"}
    assert call["flag"] is None

    clock.advance(minutes=31)  # 10:31: 29 minutes before the response deadline
    call = client.get(f"/api/v1/calls/{call['id']}", headers=desk["dispatcher"]).json
    assert (states(call)["response"], call["flag"]) == ("near", "near")

    clock.advance(minutes=30)  # 11:01
    call = client.get(f"/api/v1/calls/{call['id']}", headers=desk["dispatcher"]).json
    assert states(call) == {"response": "missed", "onsite": "open", "resolve": "open"}
    assert call["flag"] == "missed"


def test_a_ten_minute_response_is_near_from_the_start(client, desk):
    call = report(client, desk, "P2")  # response due 10:10, warning 30 minutes
    assert (states(call)["response"], call["flag"]) == ("near", "near")


def test_assigning_stops_the_response_clock_and_arriving_the_onsite_clock(client, desk, clock):
    call = report(client, desk)
    clock.advance(minutes=8)
    answer = move(client, desk["dispatcher"], call, "assigned", engineer="E-A")
    assert answer.status_code == 200, answer.json
    response = answer.json["deadlines"][0]
    assert response == {
        "deadline": "response",
        "due": "2026-11-23T02:10:00+00:00",
        "met_at": "2026-11-23T02:08:00+00:00",
        "state": "met",
    }
    clock.advance(hours=3)  # 13:08, past the on-site deadline of 12:00
    move(client, desk["E-A"], call, "en_route")
    arrived = move(client, desk["E-A"], call, "on_site").json
    assert states(arrived) == {"response": "met", "onsite": "missed", "resolve": "open"}
    assert arrived["flag"] == "missed"


def test_going_back_to_new_keeps_the_first_response_and_frees_the_engineer(client, desk, clock):
    call = report(client, desk)
    move(client, desk["dispatcher"], call, "assigned", engineer="E-A")
    clock.advance(minutes=30)
    back = move(client, desk["dispatcher"], call, "new").json
    assert back["engineer"] is None
    assert states(back)["response"] == "met"
    again = move(client, desk["dispatcher"], call, "assigned", engineer="E-B").json
    assert again["engineer"] == "E-B"
    assert again["deadlines"][0]["met_at"] == "2026-11-23T02:00:00+00:00"


def test_assigning_needs_an_engineer_and_only_assigning_takes_one(client, desk):
    call = report(client, desk)
    assert move(client, desk["dispatcher"], call, "assigned").status_code == 422
    move(client, desk["dispatcher"], call, "assigned", engineer="E-A")
    answer = move(client, desk["dispatcher"], call, "en_route", engineer="E-B")
    assert answer.status_code == 422
    assert answer.json["errors"] == {"engineer": ["Only to assign."]}
    answer = move(client, desk["dispatcher"], report(client, desk), "assigned", engineer="E-NO")
    assert answer.status_code == 404


def test_engineers_see_and_move_only_their_own_calls(client, desk):
    mine = report(client, desk)
    theirs = report(client, desk)
    unassigned = report(client, desk)
    move(client, desk["dispatcher"], mine, "assigned", engineer="E-A")
    move(client, desk["dispatcher"], theirs, "assigned", engineer="E-B")

    listed = client.get("/api/v1/calls", headers=desk["E-A"]).json["items"]
    assert [c["id"] for c in listed] == [mine["id"]]
    assert client.get(f"/api/v1/calls/{mine['id']}", headers=desk["E-A"]).status_code == 200
    for other in (theirs, unassigned):
        assert client.get(f"/api/v1/calls/{other['id']}", headers=desk["E-A"]).status_code == 404
        assert move(client, desk["E-A"], other, "en_route").status_code == 404

    assert move(client, desk["E-A"], mine, "en_route").status_code == 200
    refused = move(client, desk["E-A"], mine, "assigned", engineer="E-A")
    assert refused.status_code == 403
    assert refused.content_type == "application/problem+json"
    # Only the dispatcher hands a call back or closes it.
    assert move(client, desk["E-A"], mine, "on_site").status_code == 200
    complete(client, desk["E-A"], mine)
    assert move(client, desk["E-A"], mine, "closed").status_code == 403
    assert move(client, desk["dispatcher"], mine, "closed").status_code == 200


def test_the_call_list_narrows_by_status_priority_engineer_and_flag(client, desk, clock):
    p1 = report(client, desk, "P1")  # response 11:00
    p2 = report(client, desk, "P2")  # response 10:10
    p3 = report(client, desk, "P3")  # response 10:10
    move(client, desk["dispatcher"], p3, "assigned", engineer="E-B")

    def ids(**query):
        answer = client.get("/api/v1/calls", query_string=query, headers=desk["dispatcher"])
        assert answer.status_code == 200, answer.json
        return [c["id"] for c in answer.json["items"]]

    assert ids() == [p1["id"], p2["id"], p3["id"]]
    assert ids(status="new") == [p1["id"], p2["id"]]
    assert ids(status=["new", "assigned"]) == [p1["id"], p2["id"], p3["id"]]
    assert ids(priority="P1") == [p1["id"]]
    assert ids(engineer="E-B") == [p3["id"]]
    assert ids(customer="C-T", site="S-T", kind="corrective", open="true") == ids()
    # 10:00: P2's response is near; P3's was met by assigning; P1's has an hour to go.
    assert ids(flag="near") == [p2["id"]]
    assert ids(flag="missed") == []
    clock.advance(minutes=11)  # 10:11
    assert (ids(flag="near"), ids(flag="missed")) == ([], [p2["id"]])
    clock.advance(minutes=24)  # 10:35: P1's response (11:00) is near
    assert ids(flag="missed") == [p2["id"]]
    assert ids(flag="near") == [p1["id"]]

    first = client.get("/api/v1/calls", query_string={"limit": 2}, headers=desk["dispatcher"])
    rest = client.get(
        "/api/v1/calls", query_string={"cursor": first.json["next"]}, headers=desk["dispatcher"]
    )
    assert [c["id"] for c in rest.json["items"]] == [p3["id"]]
    assert rest.json["next"] is None


@pytest.mark.parametrize(
    "query", [{"status": "lost"}, {"flag": "late"}, {"priority": "P9"}, {"limit": 0}]
)
def test_a_bad_call_query_is_422(client, desk, query):
    answer = client.get("/api/v1/calls", query_string=query, headers=desk["dispatcher"])
    assert answer.status_code == 422


def test_the_warning_time_is_configurable(app, client, desk, clock):
    from partsvc.platform.config import Settings

    app.config["PARTSVC_SETTINGS"] = Settings(sla_warning_minutes=60)
    call = report(client, desk, "P1")  # response due 11:00, now 10:00
    assert states(call)["response"] == "near"


def test_satisfaction_is_recorded_once_on_a_closed_call(client, desk):
    call = report(client, desk)
    path = f"/api/v1/calls/{call['id']}/satisfaction"
    early = client.post(path, json={"score": 5}, headers=desk["dispatcher"])
    assert early.status_code == 409
    move(client, desk["dispatcher"], call, "assigned", engineer="E-A")
    for status in ("en_route", "on_site"):
        move(client, desk["E-A"], call, status)
    complete(client, desk["E-A"], call)
    move(client, desk["dispatcher"], call, "closed")

    for score in (0, 6, "5", None):
        answer = client.post(path, json={"score": score}, headers=desk["dispatcher"])
        assert answer.status_code == 422, score
    answer = client.post(path, json={"score": 4, "note": "快速解决"}, headers=desk["dispatcher"])
    assert answer.status_code == 200, answer.json
    assert (answer.json["satisfaction"], answer.json["satisfaction_note"]) == (4, "快速解决")
    again = client.post(path, json={"score": 1}, headers=desk["dispatcher"])
    assert again.status_code == 409
    shown = client.get(f"/api/v1/calls/{call['id']}", headers=desk["E-A"]).json
    assert shown["satisfaction"] == 4


def test_a_status_dated_in_the_future_is_refused(client, desk, clock):
    call = report(client, desk)
    later = (clock.now.replace(hour=3)).isoformat()  # 11:00, an hour ahead of the clock
    answer = move(client, desk["dispatcher"], call, "assigned", engineer="E-A", at=later)
    assert answer.status_code == 422
    assert answer.json["errors"] == {"at": ["In the future."]}
    shown = client.get(f"/api/v1/calls/{call['id']}", headers=desk["dispatcher"]).json
    assert (shown["status"], shown["engineer"]) == ("new", None)
