"""Completing a call through the API as the engineer's page does (R23): the record, the
parts from the van, the loaner and the unit taken back in one transaction or not at all;
a call is never resolved without its service record."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from partsvc.auth.identity import issue_token
from partsvc.calls.models import Call, ServiceRecord
from partsvc.inventory.models import Move, StockLevel, Unit
from partsvc.loans.models import Loan
from partsvc.repairs.models import Rma
from tests.factories import make_location, make_part, receive
from tests.visits import engineer_on_site


@pytest.fixture
def visit(session, clock):
    """Engineer E-MEI on site at a call, with 3 fusers and a loaner on her van; a belt in
    the warehouse only; E-TAO is another engineer."""
    names = {"E-MEI": ("e-mei", "梅工程师"), "E-TAO": ("e-tao", "陶工程师")}
    on_site = engineer_on_site(session, clock.now, names)
    tokens = {
        code: {"Authorization": f"Bearer {issue_token(session, engineer.user)}"}
        for code, engineer in on_site.engineers.items()
    }
    belt = make_part(session, name="Belt", name_zh="皮带")
    receive(session, belt, on_site.shelf, 5)
    session.commit()
    return {
        "call": on_site.call_id,
        "path": f"/api/v1/calls/{on_site.call_id}/completion",
        "fuser": on_site.fuser.sku,
        "belt": belt.sku,
        "van": on_site.van.id,
        **tokens,
    }


def full_completion(visit, **changes):
    return {
        "work_done": "更换定影组件，测试打印正常",
        "parts": [{"sku": visit["fuser"], "qty": 2}],
        "loaner": "LN-MEI-1",
        "taken_back": "EQ-HUA-1",
        "signed_by": "李明",
        "engineer_signed_by": "梅工程师",
        **changes,
    }


def count(session, model):
    return session.scalar(select(func.count()).select_from(model)) or 0


def on_van(session, visit, sku):
    session.expire_all()
    level = session.scalar(
        select(StockLevel)
        .join(StockLevel.part)
        .where(StockLevel.location_id == visit["van"], StockLevel.part.has(sku=sku))
    )
    return level.on_hand if level else 0


def test_the_engineer_completes_the_call_with_everything_at_once(client, session, visit):
    answer = client.post(visit["path"], json=full_completion(visit), headers=visit["E-MEI"])

    assert answer.status_code == 201, answer.json
    body = answer.json
    assert answer.headers["Location"].endswith(f"/api/v1/calls/{visit['call']}/service-record.pdf")
    assert (body["call"], body["status"], body["engineer"]) == (visit["call"], "resolved", "E-MEI")
    assert (body["signed_by"], body["engineer_signed_by"]) == ("李明", "梅工程师")
    assert body["parts"] == [{"sku": visit["fuser"], "qty": 2}]
    assert body["rma"].startswith("RMA-") and body["loan"] is not None
    session.expire_all()
    record = session.scalars(select(ServiceRecord)).one()
    assert (record.call_id, record.work_done, record.signed_by, record.engineer_signed_by) == (
        visit["call"],
        "更换定影组件，测试打印正常",
        "李明",
        "梅工程师",
    )
    assert session.get(Call, visit["call"]).status == "resolved"
    assert on_van(session, visit, visit["fuser"]) == 1
    loan = session.get(Loan, record.loan_id)
    rma = session.get(Rma, record.rma_id)
    assert loan.unit.serial == "LN-MEI-1" and loan.site.code == "S-HUA"
    assert loan.rma_id == rma.id and rma.number == body["rma"]
    again = client.post(visit["path"], json=full_completion(visit), headers=visit["E-MEI"])
    assert again.status_code == 409
    assert count(session, ServiceRecord) == 1


def test_a_part_not_on_the_van_writes_nothing(client, session, visit):
    before = {model: count(session, model) for model in (Move, Loan, Rma, ServiceRecord)}
    parts = [{"sku": visit["fuser"], "qty": 1}, {"sku": visit["belt"], "qty": 1}]
    answer = client.post(
        visit["path"], json=full_completion(visit, parts=parts), headers=visit["E-MEI"]
    )

    assert answer.status_code == 409
    assert answer.content_type == "application/problem+json"
    session.expire_all()
    assert {model: count(session, model) for model in before} == before
    assert on_van(session, visit, visit["fuser"]) == 3  # the first line was taken back too
    assert session.get(Call, visit["call"]).status == "on_site"
    loaner = session.scalar(select(Unit).where(Unit.serial == "LN-MEI-1"))
    assert loaner.location_id == visit["van"]


def test_a_loaner_not_on_the_van_writes_nothing(client, session, visit):
    shelf = make_location(session)
    other = make_part(session, serialized=True, loaner=True, name="Loaner printer B")
    receive(session, other, shelf, 1, serials=["LN-SHELF-1"])
    session.commit()
    before = {model: count(session, model) for model in (Move, Loan, Rma, ServiceRecord)}
    answer = client.post(
        visit["path"],
        json=full_completion(visit, loaner="LN-SHELF-1"),
        headers=visit["E-MEI"],
    )
    assert answer.status_code == 409
    assert "not on VAN-E-MEI" in answer.json["detail"]
    session.expire_all()
    assert {model: count(session, model) for model in before} == before
    assert on_van(session, visit, visit["fuser"]) == 3


def test_resolved_through_the_bare_status_endpoint_is_refused(client, auth, session, visit):
    for headers in (visit["E-MEI"], auth["dispatcher"]):
        answer = client.post(
            f"/api/v1/calls/{visit['call']}/status", json={"status": "resolved"}, headers=headers
        )
        assert answer.status_code == 409
        assert answer.content_type == "application/problem+json"
        assert answer.json["type"] == "/problems/invalid-transition"
        assert answer.json["missing"] == "service_record"
        assert "no service record" in answer.json["detail"]
        assert f"/api/v1/calls/{visit['call']}/completion" in answer.json["detail"]
    session.expire_all()
    assert session.get(Call, visit["call"]).status == "on_site"


def test_a_dispatcher_records_a_completion_after_the_fact(client, auth, session, visit, clock):
    clock.advance(hours=2)
    finished = clock.now - timedelta(minutes=30)
    answer = client.post(
        visit["path"],
        json={
            "work_done": "清理卡纸通道",
            "signed_by": "李明",
            "engineer_signed_by": "梅工程师",
            "at": finished.isoformat(),
        },
        headers=auth["dispatcher"],
    )
    assert answer.status_code == 201, answer.json
    assert answer.json["finished_at"] == finished.isoformat()
    assert (answer.json["parts"], answer.json["loan"], answer.json["rma"]) == ([], None, None)
    shown = client.get(f"/api/v1/calls/{visit['call']}", headers=auth["dispatcher"]).json
    assert shown["history"][-1]["status"] == "resolved"
    assert shown["history"][-1]["at"] == finished.isoformat()


def test_a_completion_needs_both_signatures_and_the_engineers_own_call(
    client, auth, session, visit
):
    for missing in ("work_done", "signed_by", "engineer_signed_by"):
        body = full_completion(visit)
        del body[missing]
        answer = client.post(visit["path"], json=body, headers=visit["E-MEI"])
        assert answer.status_code == 422, missing
        assert missing in answer.json["errors"]
    blank = client.post(
        visit["path"], json=full_completion(visit, signed_by="   "), headers=visit["E-MEI"]
    )
    assert blank.status_code == 422
    theirs = client.post(visit["path"], json=full_completion(visit), headers=visit["E-TAO"])
    assert theirs.status_code == 404
    clerk = client.post(visit["path"], json=full_completion(visit), headers=auth["clerk"])
    assert clerk.status_code == 403
    session.expire_all()
    assert count(session, ServiceRecord) == 0
