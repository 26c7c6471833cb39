"""An engineer sees and changes only their own van, loans, calls, part requests and route.

Two engineers, A and B, each with a van holding stock and a loaner, a loan, an assigned
call with a loaner held for it, a part request, and a route with a pick-up in the day's
published plan. Engineer A tries every endpoint and page open to engineers with B's keys
and ids: each answers 404 (as if it did not exist), refuses the write, or lists only A's.
The same request with A's own keys works. The endpoints and pages are read from the app:
one open to engineers that is in neither SCOPED nor SHARED fails the test until someone
decides which it is.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from partsvc.auth.identity import issue_token, set_password
from partsvc.auth.models import ApiToken, User
from tests.web.conftest import PASSWORD, csrf_token, login

DAY = "2026-11-20"  # the test clock's day

SHARED = {
    # The catalogue, the rules and the calendar are everyone's.
    ("GET", "/api/v1/parts"),
    ("GET", "/api/v1/parts/{sku}"),
    ("GET", "/api/v1/sla-policy"),
    ("GET", "/api/v1/sla-policy/part-requests"),
    ("GET", "/api/v1/calendar"),
    ("GET", "/api/v1/loan-policy"),
    # Customers and their sites: an engineer drives to any of them; a unit's calls are
    # narrowed to the engineer's own (test_a_units_technical_file_shows_only_own_calls).
    ("GET", "/api/v1/customers/{customer}"),
    ("GET", "/api/v1/sites/{site}"),
    ("GET", "/api/v1/equipment/{equipment}"),
    # RMAs are the customers' returns, handled at the warehouse; a loan may name one.
    ("GET", "/api/v1/rmas"),
    ("GET", "/api/v1/rmas/{rma}"),
    # Pages that name no key: they lead to the caller's own day.
    ("GET", "/"),
    ("GET", "/my/day"),
}


THROUGH_THEIR_CALL = {("GET", "/calls/{call_id}/photos/{photo_id}")}
"""Reached only through their call, read as the caller may see it (``get_call(caller=)``,
the same line as ``/calls/{call_id}/reports`` in ``PAGES``): another's is a 404."""


# ---------------------------------------------------------------- the world


@dataclass
class Engineer:
    code: str
    van: str
    headers: dict[str, str]
    username: str
    keys: dict[str, Any] = field(default_factory=dict)


@pytest.fixture
def two(client: FlaskClient, auth: dict[str, dict[str, str]], session: Session):
    """Engineers A and B with everything an engineer owns; returns {"A": ..., "B": ...}."""
    admin = auth["admin"]

    def call(method: str, path: str, body: dict[str, Any], expected: int = 201) -> Any:
        answer = client.open(path, method=method, json=body, headers=admin)
        assert answer.status_code == expected, (path, answer.json)
        return answer.json

    def post(path: str, body: dict[str, Any]) -> Any:
        return call("POST", path, body)

    store = {"code": "WH-S", "name": "Store", "kind": "warehouse", "lat": 31.21, "lon": 121.41}
    post("/api/v1/locations", store)
    post("/api/v1/locations", {"code": "V-S", "name": "Vendor", "kind": "vendor"})
    post("/api/v1/customers", {"code": "C-S", "name": "Customer", "tier": "gold"})
    site = {"code": "S-S", "customer": "C-S", "address": "1 Road", "lat": 31.2, "lon": 121.4}
    post("/api/v1/sites", site)
    post("/api/v1/parts", {"sku": "P-S", "name": "Belt"})
    post("/api/v1/parts", {"sku": "PICK-S", "name": "Fuser"})
    post("/api/v1/parts", {"sku": "LOAN-S", "name": "Loaner", "serialized": True, "loaner": True})
    post("/api/v1/equipment", {"serial": "EQ-S", "sku": "P-S", "site": "S-S", "installed_on": DAY})
    serials = [f"L{who}{n}" for who in "AB" for n in (1, 2, 3)]
    for sku, qty, more in [
        ("P-S", 20, {}),
        ("PICK-S", 4, {}),
        ("LOAN-S", len(serials), {"serials": serials}),
    ]:
        move = {"sku": sku, "qty": qty, "from": "V-S", "to": "WH-S", "reason": "receipt"}
        post("/api/v1/moves", {**move, **more})

    people = {}
    for who, skill in [("A", "alpha"), ("B", "beta")]:
        code = f"E-{who}"
        engineer = {
            "code": code,
            "name": f"Engineer {who}",
            "home_lat": 31.2,
            "home_lon": 121.4,
            "skills": [skill],
        }
        post("/api/v1/engineers", engineer)
        user = session.scalars(select(User).where(User.username == code.lower())).one()
        set_password(user, PASSWORD)
        headers = {"Authorization": f"Bearer {issue_token(session, user)}"}
        issue_token(session, user, name="spare")  # one the probes may revoke
        spare = session.scalars(
            select(ApiToken.id).where(ApiToken.user_id == user.id, ApiToken.name == "spare")
        ).one()
        session.commit()
        van = f"VAN-{code}"
        post(
            "/api/v1/moves", {"sku": "P-S", "qty": 3, "from": "WH-S", "to": van, "reason": "issue"}
        )
        post(
            "/api/v1/moves",
            {
                "sku": "LOAN-S",
                "qty": 1,
                "from": "WH-S",
                "to": van,
                "reason": "issue",
                "serials": [f"L{who}2"],
            },
        )
        loan = post("/api/v1/loans", {"serial": f"L{who}1", "site": "S-S", "engineer": code})
        visit = {
            "site": "S-S",
            "priority": "P2",
            "equipment": "EQ-S",
            "skills": [skill],
            "parts": [{"sku": "PICK-S", "qty": 1}],
        }
        the_call = post("/api/v1/calls", visit)
        call(
            "POST",
            f"/api/v1/calls/{the_call['id']}/status",
            {"status": "assigned", "engineer": code},
            200,
        )
        held = post("/api/v1/loaner-reservations", {"call": the_call["id"], "serial": f"L{who}3"})
        request = post(
            "/api/v1/part-requests",
            {"sku": "P-S", "qty": 1, "engineer": code, "warehouse": "WH-S"},
        )
        people[who] = Engineer(
            code,
            van,
            headers,
            code.lower(),
            {
                "engineer": code,
                "code": code,
                "van": van,
                "van_serial": f"L{who}2",
                "held_serial": f"L{who}3",
                "loan_id": loan["id"],
                "call_id": the_call["id"],
                "reservation_id": held["id"],
                "request_id": request["id"],
                "token_id": spare,
                "username": code.lower(),
            },
        )
    return people


def _publish_the_day(client: FlaskClient, auth: dict[str, dict[str, str]], two: Any) -> None:
    """A published plan of the day: each engineer's route starts with a pick-up."""
    plan = client.post(
        "/api/v1/plans", json={"date": DAY, "time_limit_s": 0.5}, headers=auth["admin"]
    )
    assert plan.status_code == 201, plan.json
    published = client.post(f"/api/v1/plans/{plan.json['id']}/publish", headers=auth["admin"])
    assert published.status_code == 200, published.json
    for route in published.json["routes"]:
        who = route["engineer"][-1]
        pickups = [s["id"] for s in route["stops"] if s["kind"] == "pickup"]
        assert pickups, (published.json["routes"], published.json["unassigned"])
        two[who].keys.update(plan_id=plan.json["id"], stop_id=pickups[0])
    assert {"stop_id"} <= two["A"].keys.keys() & two["B"].keys.keys()


# ---------------------------------------------------------------- what is probed


@dataclass(frozen=True)
class Probe:
    """One request made with some engineer's keys (``k``), and how it must answer."""

    path: str
    query: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    body: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    own: int = 200  # with the caller's own keys
    others: tuple[int, ...] = (404,)  # with the other engineer's keys
    listed: Callable[[Any], set[Any]] | None = None  # a list: the keys it shows
    listed_key: str = ""  # which of the engineer's keys a list shows


def _ids(answer: Any) -> set[Any]:
    return {item["id"] for item in answer["items"]}


def _stock(answer: Any) -> set[Any]:
    return {item["location"] for item in answer["items"]}


def _codes(answer: Any) -> set[Any]:
    return {item["code"] for item in answer["items"]}


def _own_ids(path: str, key: str) -> list[Probe]:
    """A list read plain and for one engineer: either way it shows only the caller's ``key``."""
    return [
        Probe(path, listed=_ids, listed_key=key),
        Probe(path, query=lambda k: {"engineer": k["engineer"]}, listed=_ids, listed_key=key),
    ]


SCOPED: dict[tuple[str, str], list[Probe]] = {
    # API tokens: each user manages their own (admins everyone's).
    ("GET", "/api/v1/tokens"): [Probe("/api/v1/tokens", listed=_ids, listed_key="token_id")],
    ("POST", "/api/v1/tokens"): [
        Probe(
            "/api/v1/tokens",
            body=lambda k: {"name": "probe", "user": k["username"]},
            own=201,
            others=(403,),
        )
    ],
    ("POST", "/api/v1/tokens/{token_id}/revoke"): [Probe("/api/v1/tokens/{token_id}/revoke")],
    ("GET", "/api/v1/locations"): [
        Probe("/api/v1/locations", listed=_codes, listed_key="van"),
        Probe(
            "/api/v1/locations", query=lambda k: {"kind": "van"}, listed=_codes, listed_key="van"
        ),
    ],
    ("GET", "/api/v1/locations/{code}"): [Probe("/api/v1/locations/{van}")],
    ("GET", "/api/v1/stock"): [
        Probe("/api/v1/stock", query=lambda k: {"location": k["van"]}),
        Probe("/api/v1/stock", listed=_stock, listed_key="van"),
        Probe("/api/v1/stock", query=lambda k: {"kind": "van"}, listed=_stock, listed_key="van"),
        Probe("/api/v1/stock", query=lambda k: {"sku": "P-S"}, listed=_stock, listed_key="van"),
    ],
    ("GET", "/api/v1/serials/{serial}"): [Probe("/api/v1/serials/{van_serial}")],
    ("GET", "/api/v1/engineers/{engineer}"): [Probe("/api/v1/engineers/{engineer}")],
    ("GET", "/api/v1/engineers/{engineer}/day"): [
        Probe("/api/v1/engineers/{engineer}/day", query=lambda k: {"date": DAY})
    ],
    ("GET", "/api/v1/engineers/{engineer}/day.pdf"): [
        Probe("/api/v1/engineers/{engineer}/day.pdf", query=lambda k: {"date": DAY})
    ],
    ("GET", "/api/v1/calls"): _own_ids("/api/v1/calls", "call_id"),
    ("GET", "/api/v1/calls/{call_id}"): [Probe("/api/v1/calls/{call_id}")],
    ("POST", "/api/v1/calls/{call_id}/status"): [
        Probe("/api/v1/calls/{call_id}/status", body=lambda k: {"status": "en_route"})
    ],
    ("POST", "/api/v1/calls/{call_id}/completion"): [
        Probe(
            "/api/v1/calls/{call_id}/completion",
            body=lambda k: {"work_done": "Belt", "signed_by": "Ms Li", "engineer_signed_by": "A"},
            own=409,  # their own call, but assigned: a call is completed on site
        )
    ],
    ("POST", "/api/v1/calls/{call_id}/pause"): [
        Probe("/api/v1/calls/{call_id}/pause", body=lambda k: {"reason": "customer_asked_to_wait"})
    ],
    ("POST", "/api/v1/calls/{call_id}/resume"): [
        Probe("/api/v1/calls/{call_id}/resume", body=lambda k: {}, own=409)  # not on hold
    ],
    ("GET", "/api/v1/calls/{call_id}/service-record.pdf"): [
        Probe("/api/v1/calls/{call_id}/service-record.pdf")
    ],
    ("GET", "/api/v1/part-requests"): _own_ids("/api/v1/part-requests", "request_id"),
    ("POST", "/api/v1/part-requests"): [
        Probe(
            "/api/v1/part-requests",
            body=lambda k: {"sku": "P-S", "qty": 1, "engineer": k["engineer"]},
            own=201,
            others=(403,),
        ),
        Probe(
            "/api/v1/part-requests",
            body=lambda k: {"sku": "P-S", "qty": 1, "call": k["call_id"]},
            own=201,
        ),
    ],
    ("GET", "/api/v1/part-requests/{request_id}"): [Probe("/api/v1/part-requests/{request_id}")],
    ("GET", "/api/v1/loans"): _own_ids("/api/v1/loans", "loan_id"),
    ("POST", "/api/v1/loans"): [
        # lending a loaner out of a van: only out of one's own
        Probe(
            "/api/v1/loans",
            body=lambda k: {"serial": k["van_serial"], "site": "S-S"},
            own=201,
            others=(403,),
        ),
        # the loaner held for a call, lent for it: only for one's own call
        Probe(
            "/api/v1/loans",
            body=lambda k: {"serial": k["held_serial"], "site": "S-S", "call": k["call_id"]},
            own=201,
        ),
    ],
    ("GET", "/api/v1/loans/{loan_id}"): [Probe("/api/v1/loans/{loan_id}")],
    ("GET", "/api/v1/loans/{loan_id}/agreement.pdf"): [
        Probe("/api/v1/loans/{loan_id}/agreement.pdf")
    ],
    ("POST", "/api/v1/loans/{loan_id}/return"): [
        Probe("/api/v1/loans/{loan_id}/return", body=lambda k: {"condition": "ok"})
    ],
    ("GET", "/api/v1/loaner-reservations"): [
        Probe("/api/v1/loaner-reservations", listed=_ids, listed_key="reservation_id")
    ],
    ("POST", "/api/v1/plans/{plan_id}/stops/{stop_id}/collect"): [
        Probe("/api/v1/plans/{plan_id}/stops/{stop_id}/collect")
    ],
}

NEEDS_A_PLAN = {("POST", "/api/v1/plans/{plan_id}/stops/{stop_id}/collect")}


def engineers_endpoints(app: Flask) -> set[tuple[str, str]]:
    """(method, path template) of every API endpoint and page an engineer may call."""
    found = set()
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        resource = getattr(view, "view_class", None)
        template = re.sub(r"<(?:[a-z]+(?:\([^)]*\))?:)?(\w+)>", r"{\1}", rule.rule)
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            if resource is not None:
                roles = getattr(getattr(resource, method.lower(), None), "allowed_roles", ())
            else:
                roles = getattr(view, "page_roles", ())
            if "engineer" in roles:
                found.add((method, template))
    return found


def test_every_endpoint_and_page_open_to_engineers_is_scoped_or_deliberately_shared(
    app: Flask,
) -> None:
    decided = SHARED | set(SCOPED) | set(PAGES) | THROUGH_THEIR_CALL | set(DOWNLOADS)
    assert engineers_endpoints(app) == decided
    assert not SHARED & (set(SCOPED) | set(PAGES) | set(DOWNLOADS))


def _ask(client: FlaskClient, method: str, probe: Probe, caller: Engineer, keys: dict[str, Any]):
    return client.open(
        probe.path.format(**keys),
        method=method,
        headers=caller.headers,
        query_string=probe.query(keys) if probe.query else None,
        json=probe.body(keys) if probe.body else None,
    )


def _downloaded(client: FlaskClient, probe: Probe, caller: Engineer) -> set[Any]:
    """What the list's CSV download holds for the caller, as ``probe.listed`` reads it."""
    query = {**(probe.query(caller.keys) if probe.query else {}), "format": "csv"}
    answer = client.get(
        probe.path.format(**caller.keys), headers=caller.headers, query_string=query
    )
    assert answer.status_code == 200 and answer.mimetype == "text/csv", probe
    rows = list(csv.DictReader(io.StringIO(answer.data.decode("utf-8-sig"))))
    items = [{k: int(v) if k == "id" else v for k, v in row.items()} for row in rows]
    return probe.listed({"items": items})


@pytest.mark.parametrize(
    "endpoint", sorted(SCOPED), ids=[f"{method} {path}" for method, path in sorted(SCOPED)]
)
def test_an_engineer_reaches_only_their_own_things_through_the_api(
    client: FlaskClient, auth: dict[str, dict[str, str]], two: Any, endpoint: tuple[str, str]
) -> None:
    if endpoint in NEEDS_A_PLAN:
        _publish_the_day(client, auth, two)
    method, _ = endpoint
    a, b = two["A"], two["B"]
    for probe in SCOPED[endpoint]:
        if probe.listed is not None:
            for caller, other in [(a, b), (b, a)]:
                answer = _ask(client, method, probe, caller, caller.keys)
                assert answer.status_code == 200, answer.json
                shown = probe.listed(answer.json)
                assert other.keys[probe.listed_key] not in shown, (probe, shown)
                assert _downloaded(client, probe, caller) == shown, probe  # the same rows
                if probe.query is None or "engineer" not in probe.query(caller.keys):
                    assert caller.keys[probe.listed_key] in shown, (probe, shown)
                if probe.query is not None and "engineer" in probe.query(caller.keys):
                    asked = _ask(client, method, probe, caller, other.keys)
                    assert asked.status_code in (200, 404)
                    assert asked.status_code != 200 or not probe.listed(asked.json)
            continue
        theirs = _ask(client, method, probe, a, b.keys)
        assert theirs.status_code in probe.others, (probe.path, theirs.status_code, theirs.json)
        assert theirs.content_type == "application/problem+json"
        mine = _ask(client, method, probe, a, a.keys)
        assert mine.status_code == probe.own, (probe.path, mine.status_code, mine.get_json())


def test_the_other_engineers_things_are_unchanged_by_the_refused_writes(
    client: FlaskClient, auth: dict[str, dict[str, str]], two: Any
) -> None:
    a, b = two["A"], two["B"]
    admin = auth["admin"]
    for method, path in [("POST", p) for (m, p) in SCOPED if m == "POST"]:
        for probe in SCOPED[(method, path)]:
            if "{stop_id}" not in probe.path:
                assert _ask(client, method, probe, a, b.keys).status_code >= 400
    the_call = client.get(f"/api/v1/calls/{b.keys['call_id']}", headers=admin).json
    assert the_call["status"] == "assigned"
    loan = client.get(f"/api/v1/loans/{b.keys['loan_id']}", headers=admin).json
    assert loan["status"] != "returned"
    stock = client.get("/api/v1/stock", query_string={"location": b.van}, headers=admin).json
    assert {(i["sku"], i["on_hand"]) for i in stock["items"]} == {("P-S", 3), ("LOAN-S", 1)}
    requests = client.get("/api/v1/part-requests", query_string={"engineer": b.code}, headers=admin)
    assert _ids(requests.json) == {b.keys["request_id"]}


def test_a_serial_that_passed_through_another_van_shows_no_move_of_that_van(
    client: FlaskClient, auth: dict[str, dict[str, str]], two: Any
) -> None:
    a, b = two["A"], two["B"]
    back = {"sku": "LOAN-S", "qty": 1, "from": b.van, "to": "WH-S", "reason": "return"}
    answer = client.post("/api/v1/moves", json={**back, "serials": ["LB2"]}, headers=auth["admin"])
    assert answer.status_code == 201, answer.json
    history = client.get("/api/v1/serials/LB2", headers=a.headers)
    assert history.status_code == 200
    assert history.json["location"] == "WH-S"
    assert all(b.van not in (m["from"], m["to"]) for m in history.json["history"])
    assert len(client.get("/api/v1/serials/LB2", headers=auth["admin"]).json["history"]) == 3


def test_a_units_technical_file_shows_only_own_calls(
    client: FlaskClient, auth: dict[str, dict[str, str]], two: Any
) -> None:
    a, b = two["A"], two["B"]
    unit = client.get("/api/v1/equipment/EQ-S", headers=a.headers)
    assert unit.status_code == 200
    assert {c["id"] for c in unit.json["calls"]} == {a.keys["call_id"]}
    everyone = client.get("/api/v1/equipment/EQ-S", headers=auth["dispatcher"]).json
    assert {c["id"] for c in everyone["calls"]} == {a.keys["call_id"], b.keys["call_id"]}


# ---------------------------------------------------------------- pages


def _on_site(client: FlaskClient, engineer: Engineer) -> None:
    for status in ("en_route", "on_site"):
        answer = client.post(
            f"/api/v1/calls/{engineer.keys['call_id']}/status",
            json={"status": status},
            headers=engineer.headers,
        )
        assert answer.status_code == 200, answer.json


PAGES: dict[tuple[str, str], str] = {
    ("GET", "/engineers/{code}/day"): "/engineers/{code}/day",
    ("GET", "/my/calls/{call_id}"): "/my/calls/{call_id}",
    ("POST", "/my/calls/{call_id}/status"): "/my/calls/{call_id}/status",
    ("POST", "/my/calls/{call_id}/complete"): "/my/calls/{call_id}/complete",
    ("POST", "/my/calls/{call_id}/parts"): "/my/calls/{call_id}/parts",
    ("POST", "/my/loans/{loan_id}/return"): "/my/loans/{loan_id}/return",
    ("POST", "/calls/{call_id}/pause"): "/calls/{call_id}/pause",
    ("POST", "/calls/{call_id}/resume"): "/calls/{call_id}/resume",
    ("GET", "/calls/{call_id}/reports"): "/calls/{call_id}/reports",
    (
        "GET",
        "/print/calls/{call_id}/service-record.pdf",
    ): "/print/calls/{call_id}/service-record.pdf",
    ("GET", "/print/loans/{loan_id}/agreement.pdf"): "/print/loans/{loan_id}/agreement.pdf",
    ("GET", "/print/engineers/{code}/day.pdf"): "/print/engineers/{code}/day.pdf",
}
FORMS = {
    "/my/calls/{call_id}/status": {"status": "en_route"},
    "/my/calls/{call_id}/complete": {"work_done": "Replaced the belt", "signed_by": "Ms Li"},
    "/my/calls/{call_id}/parts": {"sku": "P-S", "qty": 1},
    "/my/loans/{loan_id}/return": {"condition": "ok"},
    "/calls/{call_id}/pause": {"reason": "customer_asked_to_wait"},
}
AFTER = {"/my/calls/{call_id}/status": "en_route", "/my/calls/{call_id}/complete": "resolved"}
"""The status of the engineer's own call after the form; the others leave it as it was."""


@pytest.mark.parametrize(
    "endpoint", sorted(PAGES), ids=[f"{method} {path}" for method, path in sorted(PAGES)]
)
def test_an_engineer_reaches_only_their_own_things_through_the_pages(
    client: FlaskClient, auth: dict[str, dict[str, str]], two: Any, endpoint: tuple[str, str]
) -> None:
    method, path = endpoint
    a, b = two["A"], two["B"]
    if path.endswith("/complete"):
        _on_site(client, a)
        _on_site(client, b)
    login(client, a.username)
    token = csrf_token(client.get(f"/engineers/{a.code}/day").text)
    data = {**FORMS.get(path, {}), "csrf_token": token} if method == "POST" else None
    before = client.get(f"/api/v1/calls/{b.keys['call_id']}", headers=auth["admin"]).json

    theirs = client.open(PAGES[endpoint].format(**b.keys), method=method, data=data)
    if method == "GET":
        assert theirs.status_code == 404, (path, theirs.status_code)
    after = client.get(f"/api/v1/calls/{b.keys['call_id']}", headers=auth["admin"]).json
    assert after["status"] == before["status"]  # B's call was not moved nor completed
    if method == "POST":
        assert theirs.status_code in (302, 404)
        if theirs.status_code == 302 and "/calls/" in path:  # refused, back to the call's
            assert client.get(theirs.headers["Location"]).status_code == 404  # page, unknown
        if theirs.status_code == 302 and "/loans/" in path:  # refused in words, B's loan open
            loan = client.get(f"/api/v1/loans/{b.keys['loan_id']}", headers=auth["admin"]).json
            assert loan["status"] == "open"

    own_before = client.get(f"/api/v1/calls/{a.keys['call_id']}", headers=auth["admin"]).json
    mine = client.open(PAGES[endpoint].format(**a.keys), method=method, data=data)
    assert mine.status_code == (302 if method == "POST" else 200), (path, mine.status_code)
    if method == "POST":
        status = client.get(f"/api/v1/calls/{a.keys['call_id']}", headers=auth["admin"]).json
        assert status["status"] == AFTER.get(path, own_before["status"])


DOWNLOADS: dict[tuple[str, str], tuple[str, str, str]] = {
    ("GET", "/downloads/loans.{fmt}"): ("/downloads/loans.csv", "id", "loan_id"),
    ("GET", "/downloads/stock.{fmt}"): ("/downloads/stock.csv", "location", "van"),
}
"""The pages' downloads open to engineers: (path, the column read, the engineer's key it
holds). Read plain, for the engineer's own code or van, and for the other's."""


def _column(answer: Any, name: str) -> set[Any]:
    assert answer.status_code == 200, answer.status_code
    rows = csv.DictReader(io.StringIO(answer.data.decode("utf-8-sig")))
    return {int(row[name]) if name == "id" else row[name] for row in rows}


@pytest.mark.parametrize("endpoint", sorted(DOWNLOADS), ids=[p for _, p in sorted(DOWNLOADS)])
def test_an_engineers_downloads_hold_only_their_own_things(
    client: FlaskClient, two: Any, endpoint: tuple[str, str]
) -> None:
    path, name, key = DOWNLOADS[endpoint]
    for caller, other in [(two["A"], two["B"]), (two["B"], two["A"])]:
        login(client, caller.username)
        shown = _column(client.get(path), name)
        assert caller.keys[key] in shown and other.keys[key] not in shown, shown
        mine = _column(client.get(path, query_string={"engineer": caller.code}), name)
        assert other.keys[key] not in mine
        theirs = client.get(
            path, query_string={"engineer": other.code, "location": other.keys["van"]}
        )
        assert theirs.status_code == 404 or not _column(theirs, name), path
