"""A realistic demo data set: parts with English and Chinese names, warehouses, vans, stock.

Everything is booked through the services, so the demo ledger is a real one.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from partsvc.auth.identity import Caller, create_user, issue_token, set_password
from partsvc.calls.calls import (
    change_call_status,
    record_satisfaction,
    report_call,
    target_for,
)
from partsvc.calls.customers import create_customer, create_equipment, create_site
from partsvc.calls.engineers import create_engineer
from partsvc.calls.models import Call
from partsvc.calls.rules import DEFAULT_WARNING, CallStatus
from partsvc.core.worktime import WorkingCalendar
from partsvc.inventory import catalog, ledger, ledger_reads
from partsvc.inventory.models import Location, Part, Unit
from partsvc.loans import lending as loans
from partsvc.purchasing import orders as purchasing
from partsvc.purchasing.order_book import LineIn
from partsvc.repairs.intake import ItemIn, create_rma
from partsvc.repairs.progress import ReceiveStepIn, StepIn, StepItem
from partsvc.workflows.completion import complete_call
from partsvc.workflows.repair_steps import take_repair_step
from partsvc.workflows.sweep import sweep

VENDORS = [
    ("V-HPT", "Hanpu Printing Tech (汉普打印科技)", 31.2304, 121.4737),
    ("V-TOP", "Topcon Survey Supply (拓普康测绘供应)", 31.2990, 120.5853),
    ("V-DEL", "Delta Power Components (台达电源)", 24.9936, 121.3010),
]
WAREHOUSES = [
    ("WH-SH", "Shanghai central warehouse (上海中心仓)", 31.2222, 121.4581),
    ("WH-SZ", "Suzhou warehouse (苏州仓)", 31.3041, 120.6164),
]
# code, name, username, home (lat, lon), skills; Li Na lives in Nanjing, beside the gold
# customer she is designated to
ENGINEERS = [
    ("E-WANG", "Wang Lei (王磊)", "wang", (31.2397, 121.4998), ["printer", "plotter"]),
    ("E-LI", "Li Na (李娜)", "lina", (32.0415, 118.7781), ["printer", "survey"]),
    ("E-ZHANG", "Zhang Wei (张伟)", "zhang", (31.1443, 121.8083), ["survey", "power"]),
    ("E-CHEN", "Chen Jing (陈静)", "chen", (31.3960, 121.2452), ["printer", "power", "plotter"]),
]
USERS = [("admin", "admin"), ("clerk", "clerk"), ("dispatch", "dispatcher")]

# (English, Chinese, unit cost, serialized, warranty months, vendor)
COMPONENTS = [
    ("Print head", "打印头", 1850, True, 3, "V-HPT"),
    ("Fuser unit", "定影组件", 960, False, 6, "V-HPT"),
    ("Drum unit", "硒鼓", 420, False, 3, "V-HPT"),
    ("Toner cartridge", "碳粉盒", 260, False, 0, "V-HPT"),
    ("Pickup roller", "搓纸轮", 45, False, 3, "V-HPT"),
    ("Transfer belt", "转印带", 780, False, 6, "V-HPT"),
    ("Main board", "主板", 2400, True, 12, "V-DEL"),
    ("Power supply board", "电源板", 690, False, 12, "V-DEL"),
    ("Cooling fan", "散热风扇", 85, False, 6, "V-DEL"),
    ("LCD control panel", "液晶控制面板", 1150, False, 12, "V-DEL"),
    ("Stepper motor", "步进电机", 340, False, 12, "V-DEL"),
    ("Paper sensor", "纸张传感器", 60, False, 6, "V-HPT"),
    ("Interface cable", "接口电缆", 35, False, 0, "V-DEL"),
    ("Laser module", "激光模块", 3200, True, 12, "V-TOP"),
    ("Angle encoder", "角度编码器", 2750, True, 12, "V-TOP"),
    ("Battery pack", "电池组", 380, False, 6, "V-TOP"),
    ("Battery charger", "电池充电器", 210, False, 12, "V-TOP"),
    ("Telescope lens", "望远镜镜头", 1600, False, 12, "V-TOP"),
    ("Keypad", "键盘", 240, False, 6, "V-TOP"),
    ("Hard disk 1TB", "硬盘 1TB", 520, True, 36, "V-DEL"),
]
MODELS = [
    "PX-200",
    "PX-350",
    "PX-500",
    "LP-80",
    "LP-120",
    "WF-3000",
    "TS-60",
    "TS-90",
    "GR-5",
    "SV-400",
    "SV-800",
    "MF-45",
    "MF-70",
    "CX-12",
    "CX-20",
]
LOANER_MODELS = [
    ("PX-350", "Loaner printer", "备用打印机"),
    ("TS-60", "Loaner total station", "备用全站仪"),
]


def load_demo(
    session: Session,
    *,
    now: datetime,
    password: str | None = None,
    part_count: int = 300,
    seed: int = 7,
) -> dict[str, tuple[str, str]] | None:
    """Load the demo into an empty database; returns username → (role, token), or None.

    Every demo user logs in to the pages with ``password``, if one is given."""
    if session.scalar(select(Part.id).limit(1)) is not None:
        return None
    # Made-up demo data, repeatable from the seed: nothing secret is drawn from it.
    rng = random.Random(seed)  # noqa: S311  # nosec B311
    tokens: dict[str, tuple[str, str]] = {}
    clerk = None
    for username, role in USERS:
        user = create_user(session, username=username, role=role)
        tokens[username] = (role, issue_token(session, user, name="demo"))
        if password is not None:
            set_password(user, password)
        if role == "clerk":
            clerk = Caller.of(user)

    for code, name, lat, lon in VENDORS:
        catalog.create_location(session, code=code, name=name, kind="vendor", lat=lat, lon=lon)
    for code, name, lat, lon in WAREHOUSES:
        catalog.create_location(session, code=code, name=name, kind="warehouse", lat=lat, lon=lon)
    catalog.create_location(
        session, code="REPAIR-SH", name="Repair bench Shanghai (上海维修台)", kind="repair"
    )
    catalog.create_location(session, code="SCRAP", name="Scrap (报废)", kind="scrap")
    catalog.create_location(session, code="TRANSIT", name="In transit (在途)", kind="transit")

    vans = []
    for code, name, username, (lat, lon), skills in ENGINEERS:
        van_code = f"VAN-{code.removeprefix('E-')}"
        catalog.create_location(session, code=van_code, name=f"Van of {name}", kind="van")
        engineer = create_engineer(
            session,
            code=code,
            name=name,
            username=username,
            home_lat=lat,
            home_lon=lon,
            skills=skills,
            van=van_code,
        )
        tokens[username] = ("engineer", issue_token(session, engineer.user, name="demo"))
        if password is not None and engineer.user is not None:
            set_password(engineer.user, password)
        vans.append(van_code)

    parts = _create_parts(session, rng, part_count)
    _book_opening_stock(session, rng, parts, vans, now=now, by=clerk)
    _customers_and_calls(session, rng, parts, now=now)
    _orders_and_requests(session, rng, parts, now=now, by=clerk)
    _loans_and_repairs(session, now=now, by=clerk)
    _past_visits(session, rng, now=now)
    return tokens


# The customers' staff who sign the past visits' service records, and the work done.
SIGNERS = ("王建国", "刘芳", "陈志强", "赵敏")
WORK_DONE = {
    "卡纸 / paper jam": "清理卡纸通道，测试打印正常 / cleared the paper path, test print OK",
    "无法开机 / no power": "检修电源，开机自检正常 / power fault fixed, self test passes",
    "": "检修完成 / repaired",
}


def _past_visits(session: Session, rng: random.Random, *, now: datetime) -> None:
    """Three weeks of finished calls, so the manager's figures have something to show:
    most fixed on the first visit the same day, some waiting for parts, a few late, each
    closed and rated by the customer."""
    calendar = WorkingCalendar()
    today = now.astimezone(calendar.zone).date()
    for days_ago in range(21, 0, -1):
        day = today - timedelta(days=days_ago)
        if not calendar.is_working_day(day):
            continue
        for code, _, _, engineer, _, _ in rng.sample(CUSTOMERS, 2):
            engineer = engineer or rng.choice(ENGINEERS)[0]
            reported = datetime.combine(day, time(9, 30), calendar.zone) + timedelta(
                minutes=rng.randint(0, 240)
            )
            steps = [("assigned", 10), ("en_route", 15), ("on_site", rng.randint(40, 150))]
            if rng.random() < 0.15:
                steps += [("waiting_for_parts", 30), ("on_site", 20 * 60)]
            steps += [("resolved", rng.randint(30, 120)), ("closed", 60)]
            if reported + timedelta(minutes=10 + sum(m for _, m in steps)) > now:
                continue  # a history, not a visit still going on
            call = report_call(
                session,
                site=f"S-{code.removeprefix('C-')}",
                priority=rng.choice(("P1", "P2", "P3", "P3")),
                calendar=calendar,
                now=now,
                reported_at=reported,
                skills=[],
                description="卡纸 / paper jam" if rng.random() < 0.5 else "无法开机 / no power",
            )
            at = reported + timedelta(minutes=10)
            for status, minutes in steps:
                at += timedelta(minutes=minutes)
                if status == CallStatus.RESOLVED:  # resolved with its record, signed by both
                    complete_call(
                        session,
                        call.id,
                        work_done=WORK_DONE[call.description or ""],
                        signed_by=SIGNERS[call.id % len(SIGNERS)],
                        now=now,
                        at=at,
                        calendar=calendar,
                    )
                    continue
                change_call_status(
                    session,
                    call.id,
                    status,
                    engineer=engineer if status == "assigned" else None,
                    now=now,
                    at=at,
                )
            record_satisfaction(
                session, call.id, score=rng.choice((5, 5, 4, 4, 3)), note=None, now=at
            )


# Each site's contact, told of its calls, loaners and repairs (the last one reads English).
SITE_CONTACTS = (
    ("刘经理", "13800138001"),
    ("陈工", "13800138002"),
    ("赵主管", "13800138003"),
    ("Ms. Lin", "13800138004"),
)


def _loans_and_repairs(session: Session, *, now: datetime, by: Caller | None) -> None:
    """The gold customer's unit is in for repair with a loaner in its place, now a day
    overdue; the silver customer has a loaner out for a week."""
    calendar = WorkingCalendar()
    out = now - timedelta(days=16)
    rma = create_rma(
        session,
        customer="C-HUAWEI-SURVEY",
        items=[ItemIn(serial="EQ-0001")],
        fault="开机自检失败 / fails its power-on self test",
        now=out,
        calendar=calendar,
        by=by,
    )
    for step, body in (
        ("authorize", StepIn(note="Approved by phone")),
        ("receive", ReceiveStepIn(location="REPAIR-SH", items=[StepItem(serial="EQ-0001")])),
    ):
        take_repair_step(session, rma.number, step, body, now=out, calendar=calendar, by=by)
    # The silver customer has just phoned in a unit that jams: its RMA waits for the
    # dispatcher's authorization.
    create_rma(
        session,
        customer="C-PUDONG-PRINT",
        items=[ItemIn(serial="EQ-0002")],
        fault="频繁卡纸 / jams every few pages",
        now=now - timedelta(hours=2),
        calendar=calendar,
        by=by,
    )
    loaners = session.scalars(
        select(Unit)
        .join(Part)
        .join(Location, Location.id == Unit.location_id)
        .where(Part.loaner.is_(True), Location.kind == "warehouse")
        .order_by(Unit.serial)
    ).all()
    loans.lend(
        session,
        serial=loaners[0].serial,
        site="S-HUAWEI-SURVEY",
        engineer="E-LI",
        rma_id=rma.id,
        out_at=out,
        now=now,
        by=by,
    )
    loans.lend(
        session,
        serial=loaners[1].serial,
        site="S-PUDONG-PRINT",
        engineer="E-WANG",
        out_at=now - timedelta(days=7),
        now=now,
        by=by,
    )


def _orders_and_requests(
    session: Session, rng: random.Random, parts: list[Part], *, now: datetime, by: Caller | None
) -> None:
    """Vendor orders on their way (one of them late) and part requests for the open calls:
    some reserved from the shelf, some backordered on an order with its ETA."""
    calendar = WorkingCalendar()
    today = now.astimezone(calendar.zone).date()
    consumables = [p for p in parts if not p.serialized and p.vendor is not None]
    for vendor, days in (("V-HPT", 6), ("V-DEL", -3), ("V-TOP", 12)):
        chosen = [p for p in consumables if p.vendor and p.vendor.code == vendor][:3]
        if not chosen:
            continue
        purchasing.create_order(
            session,
            vendor=vendor,
            deliver_to="WH-SH",
            lines=[
                LineIn(sku=p.sku, qty=rng.choice([5, 10, 20]), eta=today + timedelta(days=days))
                for p in chosen
            ],
            now=now - timedelta(days=10),
            today=today - timedelta(days=10),
            by=by,
        )
    open_calls = session.scalars(select(Call).where(Call.priority == "P1").order_by(Call.id))
    for call, part in zip(open_calls, rng.sample(consumables, 4), strict=False):
        purchasing.request_part(
            session,
            sku=part.sku,
            qty=rng.choice([1, 2, 30]),  # 30: more than any shelf has, so it is backordered
            call=call.id,
            warehouse="WH-SH",
            calendar=calendar,
            now=now,
        )


# code, name, tier, designated engineer, site address, (lat, lon)
CUSTOMERS = [
    (
        "C-HUAWEI-SURVEY",
        "南京华威测绘仪器有限公司",
        "gold",
        "E-LI",
        "江苏省南京市鼓楼区中山北路 88 号",
        (32.0603, 118.7969),
    ),
    (
        "C-PUDONG-PRINT",
        "上海浦东印务有限公司",
        "silver",
        None,
        "上海市浦东新区张江路 500 号",
        (31.2035, 121.5907),
    ),
    (
        "C-SUZHOU-LAB",
        "苏州工业园区检测中心",
        "bronze",
        None,
        "苏州市工业园区星湖街 328 号",
        (31.3176, 120.7215),
    ),
    (
        "C-MINHANG-SCHOOL",
        "闵行区实验学校",
        "none",
        None,
        "上海市闵行区莘庄镇沪闵路 6000 号",
        (31.1113, 121.3820),
    ),
]


def _customers_and_calls(
    session: Session, rng: random.Random, parts: list[Part], *, now: datetime
) -> None:
    """A few customers of each tier with a site, installed equipment and open calls.

    Outside working time the faults' working-time clocks start on the next working
    morning, the day the board then plans; a round-the-clock P1 would be missed that
    night, so such a fault is reported as the P2 it is while the customer's site is shut.
    """
    calendar = WorkingCalendar()
    today = now.astimezone(calendar.zone).date()
    after_hours = calendar.next_working_instant(now) != now
    models = [part for part in parts if part.sku.startswith("LOAN-")]
    for index, (code, name, tier, engineer, address, (lat, lon)) in enumerate(CUSTOMERS):
        create_customer(
            session,
            code=code,
            name=name,
            tier=tier,
            designated_engineer=engineer,
            contract_starts_on=today - timedelta(days=365),
        )
        site = f"S-{code.removeprefix('C-')}"
        person, phone = SITE_CONTACTS[index % len(SITE_CONTACTS)]
        create_site(
            session,
            code=site,
            customer=code,
            address=address,
            lat=lat,
            lon=lon,
            contact_name=person,
            contact_phone=phone,
            contact_email=f"service@{site.lower()}.example.cn",
            contact_language="en" if index == len(CUSTOMERS) - 1 else "zh_CN",
        )
        serial = f"EQ-{index + 1:04d}"
        create_equipment(
            session,
            serial=serial,
            sku=models[index % len(models)].sku,
            site=site,
            installed_on=today - timedelta(days=rng.randint(30, 900)),
        )
        for usual, hours_ago in (("P1", 1), ("P3", 26)):
            shut = after_hours and target_for(session, tier, usual).round_the_clock
            priority = "P2" if shut else usual
            call = report_call(
                session,
                site=site,
                priority=priority,
                equipment=serial,
                calendar=calendar,
                now=now,
                reported_at=now - timedelta(hours=hours_ago),
                skills=["printer"] if "PX" in models[index % len(models)].sku else ["survey"],
                description="设备无法开机 / unit does not power on"
                if priority == "P1"
                else "定期保养 / routine check",
            )
            if priority == "P3":  # the dispatcher has given yesterday's call to an engineer
                change_call_status(
                    session,
                    call.id,
                    CallStatus.ASSIGNED,
                    engineer=engineer or ENGINEERS[index % len(ENGINEERS)][0],
                    now=now,
                    at=now - timedelta(hours=25),
                )
    sweep(session, now=now, calendar=calendar, warn_before=DEFAULT_WARNING)


def _create_parts(session: Session, rng: random.Random, count: int) -> list[Part]:
    parts = []
    combos = [(c, m) for m in MODELS for c in COMPONENTS]
    rng.shuffle(combos)
    for index, (component, model) in enumerate(combos[: max(count - len(LOANER_MODELS), 0)]):
        english, chinese, cost, serialized, warranty, vendor = component
        prefix = english.split()[0][:3].upper()
        sku = f"{prefix}-{model}-{index:03d}"
        price = Decimal(cost) * Decimal(rng.uniform(0.85, 1.25)).quantize(Decimal("0.01"))
        parts.append(
            catalog.create_part(
                session,
                sku=sku,
                name=f"{english} for {model}",
                name_zh=f"{model} {chinese}",
                barcode=f"69{rng.randrange(10**10, 10**11)}",
                serialized=serialized,
                unit_cost=price.quantize(Decimal("0.01")),
                vendor=vendor,
                lead_time_days=rng.choice([3, 5, 7, 14, 30]),
                warranty_months=warranty,
            )
        )
    for model, english, chinese in LOANER_MODELS:
        parts.append(
            catalog.create_part(
                session,
                sku=f"LOAN-{model}",
                name=f"{english} {model}",
                name_zh=f"{chinese} {model}",
                serialized=True,
                loaner=True,
                unit_cost=Decimal("8800.00"),
                vendor="V-HPT" if model.startswith("PX") else "V-TOP",
                lead_time_days=30,
                warranty_months=12,
            )
        )
    return parts


def _book_opening_stock(
    session: Session,
    rng: random.Random,
    parts: list[Part],
    vans: list[str],
    *,
    now: datetime,
    by: Caller | None,
) -> None:
    received_at = now - timedelta(days=30)
    serial_no = 1000
    for part in parts:
        vendor = part.vendor.code if part.vendor else "V-HPT"
        for warehouse in ("WH-SH", "WH-SZ"):
            qty = (
                rng.choice([0, 1, 2, 3, 5, 8, 12, 20])
                if not part.serialized
                else rng.choice([0, 1, 2, 3])
            )
            if part.sku.startswith("LOAN-"):
                qty = 4
            if qty == 0:
                continue
            serials = []
            if part.sku.startswith("LOAN-"):
                model = part.sku.removeprefix("LOAN-").replace("-", "")
                first = 1 if warehouse == "WH-SH" else qty + 1
                serials = [f"LN-{model}-{n:02d}" for n in range(first, first + qty)]
            elif part.serialized:
                serials = [f"SN{serial_no + i:06d}" for i in range(qty)]
                serial_no += qty
            ledger.post_move(
                session,
                sku=part.sku,
                qty=qty,
                from_code=vendor,
                to_code=warehouse,
                reason="receipt",
                reference="opening stock",
                serials=serials,
                at=received_at,
                now=now,
                by=by,
            )
    # Each van carries a few common consumables, issued from Shanghai.
    consumables = [p for p in parts if not p.serialized]
    for van in vans:
        for part in rng.sample(consumables, 12):
            level = ledger_reads.list_stock(session, sku=part.sku, location="WH-SH")
            if level and level[0].available >= 2:
                ledger.post_move(
                    session,
                    sku=part.sku,
                    qty=2,
                    from_code="WH-SH",
                    to_code=van,
                    reason="issue to van",
                    at=now - timedelta(days=rng.randint(1, 20)),
                    now=now,
                    by=by,
                )
