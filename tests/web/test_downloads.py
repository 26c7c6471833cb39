"""The pages' lists as downloads: each list page links CSV and Excel with its filters;
the file holds every row the filters select (Chinese intact behind the BOM, formulas
defused), and only for the roles of the pages that show the list."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from partsvc.auth.identity import set_password
from partsvc.auth.models import User
from partsvc.purchasing import reorder
from tests.factories import make_location, make_part, receive
from tests.web.conftest import PASSWORD, login

ATTACK = "=cmd|' /C calc'!A0"
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}


def csv_of(answer) -> tuple[list[str], list[list[str]]]:
    assert answer.status_code == 200, answer.text[:300]
    assert answer.mimetype == "text/csv"
    assert answer.data.startswith(b"\xef\xbb\xbf")
    header, *rows = csv.reader(io.StringIO(answer.data.decode("utf-8-sig")))
    return header, rows


def xlsx_of(answer) -> tuple[list[object], list[list[object]]]:
    assert answer.status_code == 200, answer.text[:300]
    assert answer.data.startswith(b"PK\x03\x04")
    book = load_workbook(io.BytesIO(answer.data), read_only=True)
    header, *rows = [list(row) for row in book.active.iter_rows(values_only=True)]
    return header, rows


def column(header, rows, name) -> list:
    return [row[header.index(name)] for row in rows]


DOWNLOADS_OF_PAGES = {
    "downloads.parts": ["desk.home"],
    "downloads.vendor_orders": ["desk.home"],
    "downloads.reorder_suggestions": ["desk.home"],
    "downloads.reorder_rules": ["rules.home", "desk.part"],
    "downloads.rmas": ["rmas.home", "desk.home", "manager.home"],
    "downloads.loans": ["manager.home", "myday.day"],
    "downloads.stock": ["desk.part", "myday.day"],
    "downloads.open_calls": ["board.home"],
}
"""Each list's download and the pages that link it (tests/web/test_page_roles.py tries
every role on every download as on every page)."""


def test_each_download_is_open_to_exactly_the_roles_of_the_pages_that_link_it(app: Flask) -> None:
    views = app.view_functions
    for download, pages in DOWNLOADS_OF_PAGES.items():
        linked = frozenset().union(*(views[page].page_roles for page in pages))
        assert views[download].page_roles == linked, download


def test_the_desk_downloads_its_search_with_chinese_names_and_no_formula(
    client: FlaskClient, users: dict[str, User], session: Session
) -> None:
    wanted = make_part(session, sku="DL-FUSER-1", name=ATTACK, name_zh="定影组件")
    make_part(session, sku="DL-FUSER-2", name="Fuser", name_zh="定影器")
    make_part(session, sku="DL-ROLLER", name="Roller", name_zh="搓纸轮")
    session.commit()
    login(client, "clerk")
    desk = client.get("/desk?q=DL-FUSER").text
    assert "/downloads/parts.csv?q=DL-FUSER" in desk and "/downloads/parts.xlsx?q=DL-FUSER" in desk
    header, rows = csv_of(client.get("/downloads/parts.csv?q=DL-FUSER"))
    assert column(header, rows, "sku") == [wanted.sku, "DL-FUSER-2"]
    assert column(header, rows, "name_zh") == ["定影组件", "定影器"]
    assert column(header, rows, "name")[0] == "'" + ATTACK
    header, rows = xlsx_of(client.get("/downloads/parts.xlsx?q=DL-FUSER"))
    assert column(header, rows, "name") == ["'" + ATTACK, "Fuser"]


def test_the_desk_downloads_what_is_below_its_reorder_point_and_the_rules(
    client: FlaskClient, users: dict[str, User], session: Session, clock
) -> None:
    shelf, other = make_location(session, name="上海仓"), make_location(session)
    low, fine = make_part(session), make_part(session)
    receive(session, fine, shelf, 50)
    for part in (low, fine):
        reorder.set_reorder_rule(
            session, sku=part.sku, location=shelf.code, reorder_point=5, reorder_qty=10, now=clock()
        )
    reorder.set_reorder_rule(
        session, sku=low.sku, location=other.code, reorder_point=1, max_qty=4, now=clock()
    )
    session.commit()
    login(client, "clerk")
    desk = client.get("/desk").text
    assert 'id="reorder-downloads"' in desk
    header, rows = csv_of(client.get(f"/downloads/reorder-suggestions.csv?location={shelf.code}"))
    assert column(header, rows, "sku") == [low.sku]
    unknown = client.get("/downloads/reorder-suggestions.csv?location=NO-SUCH")
    assert unknown.status_code == 404 and "NO-SUCH" in unknown.text  # the page, not a file
    rules = client.get("/desk/reorder-rules").text
    assert "/downloads/reorder-rules.xlsx" in rules
    header, rows = xlsx_of(client.get(f"/downloads/reorder-rules.xlsx?sku={low.sku}"))
    assert sorted(column(header, rows, "location")) == sorted([shelf.code, other.code])
    part_page = client.get(f"/desk/parts/{fine.sku}").text
    assert f"/downloads/stock.csv?sku={fine.sku}" in part_page
    header, rows = csv_of(client.get(f"/downloads/stock.csv?sku={fine.sku}"))
    assert column(header, rows, "location") == [shelf.code]
    assert column(header, rows, "on_hand") == ["50"]


def make_rmas(client: FlaskClient, auth) -> tuple[str, str]:
    """Two RMAs of customer C-DL: one authorized (its fault a formula), one only asked."""
    admin = auth["admin"]
    for path, body in [
        ("/api/v1/customers", {"code": "C-DL", "name": "华东印务"}),
        ("/api/v1/parts", {"sku": "DL-BELT", "name": "Belt"}),
        (
            "/api/v1/sites",
            {"code": "S-DLR", "customer": "C-DL", "address": "上海", "lat": 31.2, "lon": 121.4},
        ),
    ]:
        assert client.post(path, json=body, headers=admin).status_code == 201
    numbers = []
    for fault in (ATTACK, "卡纸"):
        items = [{"sku": "DL-BELT", "qty": 1}]
        body = {"customer": "C-DL", "site": "S-DLR", "fault": fault, "items": items}
        answer = client.post("/api/v1/rmas", json=body, headers=admin)
        assert answer.status_code == 201, answer.json
        numbers.append(answer.json["number"])
    authorize = client.post(f"/api/v1/rmas/{numbers[0]}/authorize", json={}, headers=admin)
    assert authorize.status_code == 200, authorize.json
    return numbers[0], numbers[1]


def test_the_rma_list_downloads_with_its_filters(
    client: FlaskClient, users: dict[str, User], auth
) -> None:
    authorized, asked = make_rmas(client, auth)
    login(client, "dispatcher")
    page = client.get("/rmas?status=authorized&customer=C-DL").text
    link = "/downloads/rmas.csv?status=authorized&amp;customer=C-DL"
    assert link in page
    header, rows = csv_of(client.get("/downloads/rmas.csv?status=authorized&customer=C-DL"))
    assert column(header, rows, "number") == [authorized]
    assert column(header, rows, "fault") == ["'" + ATTACK]
    header, rows = xlsx_of(client.get("/downloads/rmas.xlsx?customer=C-DL"))
    assert column(header, rows, "number") == [authorized, asked]
    refused = client.get("/downloads/rmas.csv?status=lost")
    assert refused.status_code == 422
    assert "lost is not a value the filter status takes" in refused.text
    chinese = client.get("/downloads/rmas.csv?status=lost", environ_base=ZH)
    assert chinese.status_code == 422 and "筛选条件 status 不能取值 lost" in chinese.text
    login(client, "clerk")
    assert "/downloads/rmas.csv?status=authorized" in client.get("/desk").text


def test_a_role_without_the_page_gets_403_for_its_download_too(
    app: Flask, client: FlaskClient, users: dict[str, User]
) -> None:
    login(client, "engineer")
    for path in ("/rmas", "/downloads/rmas.csv", "/desk", "/downloads/parts.xlsx"):
        answer = client.get(path)
        assert answer.status_code == 403, path
        assert "Not for your role" in answer.text
    login(client, "dispatcher")
    assert client.get("/downloads/reorder-rules.csv").status_code == 403
    answer = app.test_client().get("/downloads/loans.csv")  # nobody logged in
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")


@pytest.fixture
def loans(client: FlaskClient, auth, session: Session, clock) -> dict[str, str]:
    """Loaners lent by E-DL1 (one overdue) and E-DL2, each engineer able to log in."""
    admin = auth["admin"]

    def post(path: str, body: dict) -> None:
        answer = client.post(path, json=body, headers=admin)
        assert answer.status_code == 201, (path, answer.json)

    for code, kind in [("WH-DL", "warehouse"), ("V-DL", "vendor")]:
        post("/api/v1/locations", {"code": code, "name": code, "kind": kind})
    post("/api/v1/parts", {"sku": "DL-LOAN", "name": "Loaner", "serialized": True, "loaner": True})
    serials = ["DL-L1", "DL-L2", "DL-L3"]
    move = {"sku": "DL-LOAN", "qty": 3, "from": "V-DL", "to": "WH-DL", "reason": "receipt"}
    post("/api/v1/moves", {**move, "serials": serials})
    post("/api/v1/customers", {"code": "C-DLL", "name": "华东医院"})
    site = {"code": "S-DL", "customer": "C-DLL", "address": "上海", "lat": 31.2, "lon": 121.4}
    post("/api/v1/sites", site)
    for code in ("E-DL1", "E-DL2"):
        body = {"code": code, "name": code, "home_lat": 31.2, "home_lon": 121.4}
        post("/api/v1/engineers", body)
        user = session.scalar(select(User).where(User.username == code.lower()))
        assert user is not None
        set_password(user, PASSWORD)
    session.commit()
    long_ago = (clock() - timedelta(days=20)).isoformat()
    for serial, engineer, out_at in [
        ("DL-L1", "E-DL1", long_ago),
        ("DL-L2", "E-DL1", None),
        ("DL-L3", "E-DL2", None),
    ]:
        post(
            "/api/v1/loans",
            {"serial": serial, "site": "S-DL", "engineer": engineer, "out_at": out_at},
        )
    return {"E-DL1": "e-dl1", "E-DL2": "e-dl2"}


def test_the_manager_downloads_the_overdue_loans(
    client: FlaskClient, users: dict[str, User], loans
) -> None:
    login(client, "admin")
    assert "/downloads/loans.csv?status=overdue" in client.get("/manager").text
    header, rows = csv_of(client.get("/downloads/loans.csv?status=overdue"))
    assert column(header, rows, "serial") == ["DL-L1"]
    assert column(header, rows, "customer") == ["C-DLL"]
    assert int(column(header, rows, "days_overdue")[0]) > 0


def test_an_engineers_download_holds_only_their_own_loans(
    client: FlaskClient, users: dict[str, User], loans
) -> None:
    login(client, loans["E-DL2"])
    day = client.get("/engineers/E-DL2/day").text
    assert "/downloads/loans.csv?status=open&amp;engineer=E-DL2" in day
    header, rows = csv_of(client.get("/downloads/loans.csv?status=open&engineer=E-DL2"))
    assert column(header, rows, "serial") == ["DL-L3"]
    header, rows = csv_of(client.get("/downloads/loans.csv"))  # all they may see: their own
    assert column(header, rows, "serial") == ["DL-L3"]
    header, rows = xlsx_of(client.get("/downloads/loans.xlsx?engineer=E-DL1"))
    assert rows == []
    assert client.get("/downloads/stock.csv?location=VAN-E-DL1").status_code == 404  # not theirs
    header, rows = csv_of(client.get("/downloads/stock.csv?location=VAN-E-DL2"))
    assert rows == []  # their van, empty


def test_the_desk_downloads_the_orders_to_receive_and_the_late_ones(
    client: FlaskClient, users: dict[str, User], auth, session: Session
) -> None:
    part, warehouse = make_part(session), make_location(session)
    make_location(session, "vendor", code="V-DL", name="汉普")
    session.commit()
    numbers = []
    for eta, status in [("2026-11-01", "sent"), ("2026-12-30", "sent"), ("2026-12-30", "draft")]:
        line = {"sku": part.sku, "qty": 2, "eta": eta}
        body = {"vendor": "V-DL", "lines": [line], "status": status, "deliver_to": warehouse.code}
        answer = client.post("/api/v1/vendor-orders", json=body, headers=auth["clerk"])
        assert answer.status_code == 201, answer.json
        numbers.append(answer.json["number"])
    login(client, "clerk")
    desk = client.get("/desk").text
    to_receive = "/downloads/vendor-orders.csv?status=sent&amp;status=partially_received"
    assert to_receive in desk and "/downloads/vendor-orders.csv?late=1" in desk
    header, rows = csv_of(client.get(to_receive.replace("&amp;", "&")))
    assert numbers[0] in column(header, rows, "number") and numbers[2] not in column(
        header, rows, "number"
    )
    header, rows = xlsx_of(client.get("/downloads/vendor-orders.xlsx?late=1"))
    assert numbers[0] in column(header, rows, "number")
    assert numbers[1] not in column(header, rows, "number")
    header, rows = csv_of(client.get("/downloads/vendor-orders.csv"))  # every order
    assert set(numbers) <= set(column(header, rows, "number"))
    assert client.get("/downloads/vendor-orders.csv?status=lost").status_code == 422
