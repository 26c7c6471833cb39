"""The engineer's pages through the test client: completing a call books everything or
nothing, and an engineer sees only their own day and calls."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partsvc.auth.identity import set_password
from partsvc.calls.models import Call, ServiceRecord
from partsvc.inventory.catalog import get_location
from partsvc.inventory.models import Move, StockLevel
from partsvc.loans.lending import lend
from partsvc.loans.models import Loan
from partsvc.purchasing.models import PartRequest
from partsvc.repairs.models import Rma
from tests.conftest import Clock
from tests.factories import make_location, make_part, receive
from tests.visits import LOANER, engineer_on_site
from tests.web.conftest import PASSWORD, login, post_form


@dataclass
class Visit:
    call_id: int
    fuser: str
    fuser_id: int
    van_id: int
    loaner: str


@pytest.fixture
def visit(session: Session, clock: Clock) -> Visit:
    """Engineer ``mei`` on site at a call, with 3 fusers and a loaner on her van; ``tao``
    is another engineer."""
    names = {"E-MEI": ("mei", "mei 工程师"), "E-TAO": ("tao", "tao 工程师")}
    on_site = engineer_on_site(session, clock.now, names)
    for engineer in on_site.engineers.values():
        assert engineer.user is not None
        set_password(engineer.user, PASSWORD)
    session.commit()
    fuser, van = on_site.fuser, on_site.van
    return Visit(on_site.call_id, fuser.sku, fuser.id, van.id, LOANER)


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def _fusers_on_van(session: Session, visit: Visit) -> int:
    session.expire_all()
    level = session.scalar(
        select(StockLevel).where(
            StockLevel.part_id == visit.fuser_id, StockLevel.location_id == visit.van_id
        )
    )
    return level.on_hand if level else 0


def _complete(client: FlaskClient, visit: Visit, form: dict[str, object]):  # type: ignore[no-untyped-def]
    """Send the completion form from the call's page, as the engineer logged in."""
    url = f"/my/calls/{visit.call_id}"
    return post_form(client, url, f"{url}/complete", form)


def test_completing_a_call_books_the_part_places_the_loaner_and_takes_the_unit_back(
    client: FlaskClient, session: Session, visit: Visit
) -> None:
    login(client, "mei")
    answer = _complete(
        client,
        visit,
        {
            "work_done": "更换定影组件",
            "parts": f"{visit.fuser} 2",
            "loaner": visit.loaner,
            "taken_back": "EQ-HUA-1",
            "signed_by": "李明",
        },
    )

    assert answer.status_code == 302, answer.text
    assert (
        f"Call {visit.call_id} completed, signed by 李明."
        in client.get("/my/day", follow_redirects=True).text
    )
    session.expire_all()
    record = session.scalars(select(ServiceRecord)).one()
    assert (record.call_id, record.signed_by, record.work_done) == (
        visit.call_id,
        "李明",
        "更换定影组件",
    )
    assert session.get(Call, visit.call_id).status == "resolved"
    assert _fusers_on_van(session, visit) == 1
    loan = session.get(Loan, record.loan_id)
    rma = session.get(Rma, record.rma_id)
    assert loan is not None and rma is not None
    assert loan.unit.serial == visit.loaner and loan.rma_id == rma.id
    assert loan.site.code == "S-HUA"


def test_a_completion_the_van_cannot_cover_writes_nothing_and_keeps_the_form(
    client: FlaskClient, session: Session, visit: Visit
) -> None:
    moves, loans, rmas = _count(session, Move), _count(session, Loan), _count(session, Rma)
    login(client, "mei")
    answer = _complete(
        client,
        visit,
        {
            "work_done": "更换定影组件",
            "parts": f"{visit.fuser} 5",
            "loaner": visit.loaner,
            "taken_back": "EQ-HUA-1",
            "signed_by": "李明",
        },
    )

    assert answer.status_code == 409
    assert "Nothing was saved." in answer.text
    assert "李明" in answer.text and "更换定影组件" in answer.text
    assert (_count(session, Move), _count(session, Loan), _count(session, Rma)) == (
        moves,
        loans,
        rmas,
    )
    assert _count(session, ServiceRecord) == 0
    assert _fusers_on_van(session, visit) == 3
    session.expire_all()
    assert session.get(Call, visit.call_id).status == "on_site"


def test_a_loaner_not_on_the_van_undoes_the_parts_already_booked(
    client: FlaskClient, session: Session, visit: Visit
) -> None:
    """The parts book first; the refusal of the loaner that comes after must take them back."""
    shelf = make_location(session)
    other = make_part(session, serialized=True, loaner=True, name="Loaner printer B")
    receive(session, other, shelf, 1, serials=["LN-SHELF-1"])
    session.commit()
    moves = _count(session, Move)
    login(client, "mei")
    answer = _complete(
        client,
        visit,
        {
            "work_done": "更换定影组件",
            "parts": f"{visit.fuser} 1",
            "loaner": "LN-SHELF-1",
            "signed_by": "李明",
        },
    )
    assert answer.status_code == 409
    assert "not on VAN-E-MEI" in answer.text
    assert _count(session, Move) == moves
    assert _fusers_on_van(session, visit) == 3
    assert _count(session, ServiceRecord) == 0


def test_a_parts_line_that_is_not_sku_and_quantity_is_explained(
    client: FlaskClient, session: Session, visit: Visit
) -> None:
    login(client, "mei")
    answer = _complete(
        client,
        visit,
        {"work_done": "x", "parts": "FUSER two pieces", "signed_by": "李明"},
    )
    assert answer.status_code == 422
    assert "Line 1 of the parts used" in answer.text


def test_an_engineer_sees_their_own_day_and_not_anothers(client: FlaskClient, visit: Visit) -> None:
    login(client, "mei")
    assert client.get("/my/day").headers["Location"] == "/engineers/E-MEI/day"
    own = client.get("/engineers/E-MEI/day")
    assert own.status_code == 200
    assert "华东精密仪器" in own.text and "上海市徐汇区漕溪北路 1 号" in own.text
    assert client.get("/engineers/E-TAO/day").status_code == 404  # as if there were none


def test_an_engineer_cannot_open_or_complete_another_engineers_call(
    client: FlaskClient, session: Session, visit: Visit
) -> None:
    login(client, "tao")
    assert client.get(f"/my/calls/{visit.call_id}").status_code == 404
    page = client.get("/engineers/E-TAO/day")
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    answer = client.post(
        f"/my/calls/{visit.call_id}/complete",
        data={"work_done": "x", "signed_by": "y", "csrf_token": token},
    )
    assert answer.status_code == 404
    assert _count(session, ServiceRecord) == 0


def test_the_clerk_cannot_open_an_engineers_pages(
    client: FlaskClient, users: dict[str, object], visit: Visit
) -> None:
    login(client, "clerk")
    assert client.get("/my/day").status_code == 403
    assert client.get("/engineers/E-MEI/day").status_code == 403


def test_an_engineer_prints_their_own_day_sheet_from_the_page_but_not_anothers(
    client: FlaskClient, visit: Visit
) -> None:
    login(client, "mei")
    page = client.get("/engineers/E-MEI/day")
    assert "/print/engineers/E-MEI/day.pdf" in page.text
    sheet = client.get("/print/engineers/E-MEI/day.pdf")
    assert sheet.status_code == 200
    assert sheet.mimetype == "application/pdf" and sheet.get_data().startswith(b"%PDF-")
    assert client.get("/print/engineers/E-TAO/day.pdf").status_code == 404


def test_my_loans_list_the_overdue_first_with_their_days_overdue(
    client: FlaskClient, session: Session, clock: Clock, visit: Visit
) -> None:
    """R12: the engineer who placed them sees overdue loans first, with days overdue."""
    van = get_location(session, "VAN-E-MEI")
    second = make_part(session, serialized=True, loaner=True, name="Loaner printer C")
    receive(session, second, van, 1, serials=["LN-MEI-2"])
    lend(session, serial="LN-MEI-2", site="S-HUA", engineer="E-MEI", now=clock.now)
    lend(
        session,
        serial=visit.loaner,
        site="S-HUA",
        engineer="E-MEI",
        out_at=clock.now - timedelta(days=17),  # due two days ago
        now=clock.now,
    )
    session.commit()
    login(client, "mei")
    page = client.get("/engineers/E-MEI/day").text
    loans = page[page.index('id="loans"') :]
    assert loans.index(visit.loaner) < loans.index("LN-MEI-2")
    assert "2 days overdue" in loans
    assert loans.count("days overdue") == 1  # the other is not yet due


def test_waiting_for_parts_asks_for_the_part_in_the_same_step_or_does_neither(
    client: FlaskClient, session: Session, visit: Visit
) -> None:
    login(client, "mei")
    url = f"/my/calls/{visit.call_id}"
    refused = post_form(client, url, f"{url}/parts", {"sku": "NO-SUCH-SKU", "qty": 1, "wait": 1})
    assert refused.status_code == 404
    assert "Nothing was requested." in refused.text
    assert 'value="NO-SUCH-SKU"' in refused.text  # the form keeps what was typed
    session.expire_all()
    assert session.get(Call, visit.call_id).status == "on_site"  # type: ignore[union-attr]
    assert _count(session, PartRequest) == 0

    waiting = post_form(client, url, f"{url}/parts", {"sku": visit.fuser, "qty": 2, "wait": 1})
    assert waiting.status_code == 302
    page = client.get(waiting.headers["Location"]).text
    assert f"Call {visit.call_id} is waiting for parts since" in page
    session.expire_all()
    assert session.get(Call, visit.call_id).status == "waiting_for_parts"  # type: ignore[union-attr]
    request = session.scalars(select(PartRequest)).one()
    assert (request.call_id, request.qty) == (visit.call_id, 2)


def test_a_mistyped_page_address_is_a_page_and_the_api_keeps_its_problem_json(
    client: FlaskClient, visit: Visit
) -> None:
    login(client, "mei")
    html = {"Accept": "text/html,application/xhtml+xml"}
    page = client.get("/my/dya", headers=html)
    assert (page.status_code, page.mimetype) == (404, "text/html")
    assert "Page not found" in page.text and "/my/dya" in page.text
    api = client.get("/api/v1/no-such-thing", headers=html)
    assert (api.status_code, api.mimetype) == (404, "application/problem+json")
