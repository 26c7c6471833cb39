"""An engineer on site at a call, with parts and a loaner on the van: the set-up the
engineer's pages and the completion API are tested from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from partsvc.calls.calls import change_call_status, report_call
from partsvc.calls.customers import create_customer, create_equipment, create_site
from partsvc.calls.engineers import create_engineer
from partsvc.calls.models import Engineer
from partsvc.core.worktime import WorkingCalendar
from partsvc.inventory.catalog import get_location
from partsvc.inventory.models import Location, Part
from tests.factories import make_location, make_part, receive

LOANER = "LN-MEI-1"
UNIT = "EQ-HUA-1"


@dataclass(frozen=True)
class OnSite:
    """E-MEI on site at ``call_id``, 3 fusers and the loaner ``LOANER`` on her van; E-TAO
    is another engineer; ``shelf`` is a warehouse shelf."""

    call_id: int
    engineers: dict[str, Engineer]
    fuser: Part
    van: Location
    shelf: Location


def engineer_on_site(session: Session, now: datetime, names: dict[str, str]) -> OnSite:
    """Engineers E-MEI and E-TAO (their user names and display names in ``names``, by
    code), a customer's printer, and E-MEI on site at its call; not committed."""
    engineers = {
        code: create_engineer(
            session,
            code=code,
            name=name,
            home_lat=31.2,
            home_lon=121.5,
            skills=["printer"],
            username=username,
        )
        for code, (username, name) in names.items()
    }
    create_customer(session, code="C-HUA", name="华东精密仪器", contract_starts_on=date(2026, 1, 1))
    create_site(
        session,
        code="S-HUA",
        customer="C-HUA",
        address="上海市徐汇区漕溪北路 1 号",
        lat=31.19,
        lon=121.44,
    )
    model = make_part(session, serialized=True, name="Printer PX-9")
    shelf = make_location(session)
    receive(session, model, shelf, 1, serials=[UNIT])
    create_equipment(
        session, serial=UNIT, sku=model.sku, site="S-HUA", installed_on=date(2023, 5, 1)
    )
    van = get_location(session, "VAN-E-MEI")
    fuser = make_part(session, name="Fuser", name_zh="定影组件")
    receive(session, fuser, van, 3)
    loaner = make_part(session, serialized=True, loaner=True, name="Loaner printer")
    receive(session, loaner, van, 1, serials=[LOANER])
    call = report_call(
        session,
        site="S-HUA",
        priority="P3",
        equipment=UNIT,
        calendar=WorkingCalendar(),
        now=now,
        description="卡纸 / paper jam",
    )
    for status in ("assigned", "en_route", "on_site"):
        engineer_code = "E-MEI" if status == "assigned" else None
        change_call_status(session, call.id, status, engineer=engineer_code, now=now)
    return OnSite(call.id, engineers, fuser, van, shelf)
