"""The customer file: exported from one instance (the demo's), imported into a fresh one,
it gives the same engineers, customers, contracts (started in the past), sites and
installed equipment; a bad file is refused whole, every bad row named."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from partsvc import create_app
from partsvc.calls.models import Customer, Engineer, Equipment, Site
from partsvc.demo import load_demo
from partsvc.inventory import catalog
from partsvc.inventory.models import Part
from partsvc.platform.config import Settings
from partsvc.platform.db import Database

KINDS = ("engineers", "customers", "sites", "equipment")
DEMO_NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
CSV = {"Content-Type": "text/csv; charset=utf-8"}


@pytest.fixture(scope="module")
def demo(own_database: str) -> Iterator[tuple[Database, FlaskClient, str]]:
    """The demo in an instance of its own, and an admin's token there."""
    database = Database(own_database)
    with database.unit_of_work() as session:
        tokens = load_demo(session, now=DEMO_NOW, part_count=40)
    assert tokens is not None
    config = Settings(database_url=own_database, secret_key="test", default_locale="en")
    app = create_app(config, clock=lambda: DEMO_NOW, database=database, TESTING=True)
    yield database, app.test_client(), f"Bearer {tokens['admin'][1]}"
    database.dispose()


def snapshot(session: Session) -> dict[str, Any]:
    """What the customer file holds, by business key."""
    today = date(2026, 11, 20)
    session.expire_all()
    return {
        "engineers": {
            e.code: (
                e.name,
                e.home_lat,
                e.home_lon,
                sorted(e.skills),
                e.shift_start,
                e.shift_end,
                e.van.code if e.van else None,
                e.user.username if e.user else None,
            )
            for e in session.scalars(select(Engineer))
        },
        "customers": {
            c.code: (c.name, *_contract(c.contract_on(today)))
            for c in session.scalars(select(Customer))
        },
        "sites": {
            s.code: (s.customer.code, s.address, s.lat, s.lon, s.region)
            for s in session.scalars(select(Site))
        },
        "equipment": {
            e.serial: (
                e.part.sku,
                e.site.code,
                e.installed_on,
                e.warranty_until,
                e.maintenance_until,
            )
            for e in session.scalars(select(Equipment))
        },
    }


def _contract(contract: Any) -> tuple[Any, ...]:
    if contract is None:
        return (None,)
    engineer = contract.designated_engineer
    return (
        contract.tier,
        contract.starts_on,
        engineer.code if engineer else None,
        contract.regional_fee,
        contract.visit_every_months,
    )


def test_the_demos_customer_file_imports_into_a_fresh_instance_the_same(
    demo, client, auth, session
) -> None:
    database, demo_client, token = demo
    # One site known by its address alone: exported with empty lat and lon, imported the same.
    with database.unit_of_work(write=False) as there:
        owner = there.scalars(select(Customer.code).order_by(Customer.code)).first()
    made = demo_client.post(
        "/api/v1/sites",
        json={"code": "S-TO-PLACE", "customer": owner, "address": "苏州工业园区星湖街328号"},
        headers={"Authorization": token},
    )
    assert made.status_code == 201, made.json
    files = {}
    for kind in KINDS:
        answer = demo_client.get(
            f"/api/v1/exports/customer-file/{kind}?format=csv", headers={"Authorization": token}
        )
        assert answer.status_code == 200, answer.data[:300]
        assert answer.data.startswith("\ufeff".encode())
        files[kind] = answer.data
    with database.unit_of_work(write=False) as there:
        expected = snapshot(there)
        models = [(p.sku, p.name) for p in there.scalars(select(Part).where(Part.loaner))]
    for sku, name in models:  # the fresh instance's catalogue: imported first, with the parts
        catalog.create_part(session, sku=sku, name=name, serialized=True, loaner=True)
    session.commit()

    for kind in KINDS:
        checked = client.post(
            f"/api/v1/imports/customer-file/{kind}?dry_run=true",
            data=files[kind],
            headers={**auth["dispatcher"], **CSV},
        )
        assert checked.status_code == 200, checked.json
        assert checked.json["to_place"] == (1 if kind == "sites" else 0)
        done = client.post(
            f"/api/v1/imports/customer-file/{kind}",
            data=files[kind],
            headers={**auth["dispatcher"], **CSV},
        )
        assert done.status_code == 201, done.json
        assert done.json["created"] == len(expected[kind]) > 0

    # The test database is shared by the worker's tests: compare what the file names (the
    # import's counts above show it made no more).
    got = {
        kind: {key: row for key, row in rows.items() if key in expected[kind]}
        for kind, rows in snapshot(session).items()
    }
    assert got == expected
    assert expected["sites"]["S-TO-PLACE"][2:4] == (None, None)
    lines = files["sites"].decode("utf-8-sig").splitlines()
    [exported] = [line for line in lines if "S-TO-PLACE" in line]
    assert exported == f"S-TO-PLACE,{owner},苏州工业园区星湖街328号,,,"
    starts = [row[2] for row in got["customers"].values() if row[1] is not None]
    assert starts and all(start < date(2026, 11, 20) for start in starts)


def test_a_bad_customer_file_is_refused_whole_with_each_bad_row_and_column(
    client, auth, session
) -> None:
    body = (
        b"code,name,tier,contract_starts_on,designated_engineer\n"
        b"C-OK,Good Co,silver,2024-03-01,\n"
        b"C-BAD,Bad Co,platinum,2024-13-01,\n"
        b"C-OK,Again,bronze,2024-01-01,E-NOBODY\n"
    )
    answer = client.post(
        "/api/v1/imports/customer-file/customers", data=body, headers={**auth["dispatcher"], **CSV}
    )
    assert answer.status_code == 422, answer.json
    errors = answer.json["errors"]
    assert set(errors) == {"3", "4"}
    assert set(errors["3"]) == {"tier", "contract_starts_on"}
    assert set(errors["4"]) == {"code", "designated_engineer"}
    assert session.scalar(select(Customer.id).where(Customer.code == "C-OK")) is None


def test_a_clerk_may_not_import_the_customer_file(client, auth) -> None:
    answer = client.post(
        "/api/v1/imports/customer-file/sites", data=b"code\n", headers={**auth["clerk"], **CSV}
    )
    assert answer.status_code == 403


def test_a_site_with_an_address_and_no_coordinates_waits_to_be_placed(
    client, auth, session
) -> None:
    client.post("/api/v1/customers", json={"code": "C-CF", "name": "x"}, headers=auth["admin"])
    body = (
        "code,customer,address,lat,lon,region\n"
        "S-CF-1,C-CF,苏州工业园区星湖街328号,,,JS\n"
        "S-CF-2,C-CF,苏州吴中区,31.26,120.63,JS\n"
    ).encode()
    checked = client.post(
        "/api/v1/imports/customer-file/sites?dry_run=true",
        data=body,
        headers={**auth["dispatcher"], **CSV},
    )
    assert checked.status_code == 200, checked.json
    assert (checked.json["created"], checked.json["to_place"]) == (2, 1)
    done = client.post(
        "/api/v1/imports/customer-file/sites", data=body, headers={**auth["dispatcher"], **CSV}
    )
    assert done.status_code == 201, done.json
    site = client.get("/api/v1/sites/S-CF-1", headers=auth["admin"]).json
    assert (site["lat"], site["lon"], site["placed"]) == (None, None, False)
    # No lat and lon columns at all: every site waits to be placed.
    bare = "code,customer,address\nS-CF-3,C-CF,苏州相城区\n".encode()
    done = client.post(
        "/api/v1/imports/customer-file/sites", data=bare, headers={**auth["dispatcher"], **CSV}
    )
    assert done.status_code == 201, done.json
    assert done.json["to_place"] == 1


@pytest.mark.parametrize(
    ("lat", "lon", "column"), [("31.3", "", "lon"), ("", "120.7", "lat"), ("91", "120.7", "lat")]
)
def test_half_coordinates_refuse_the_file(client, auth, session, lat, lon, column) -> None:
    client.post("/api/v1/customers", json={"code": "C-HF", "name": "x"}, headers=auth["admin"])
    body = f"code,customer,address,lat,lon\nS-HF,C-HF,苏州,{lat},{lon}\n".encode()
    answer = client.post(
        "/api/v1/imports/customer-file/sites", data=body, headers={**auth["dispatcher"], **CSV}
    )
    assert answer.status_code == 422, answer.json
    assert list(answer.json["errors"]["2"]) == [column]
    assert session.scalar(select(Site.id).where(Site.code == "S-HF")) is None
