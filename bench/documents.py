"""How long each printed document takes to render (issue 8: the service record under 0.5 s).

Loads the demo into a fresh SQLite file, completes one call (parts from the van and a
loaner, so its service record has everything), plans and publishes the day (2 s), then
renders each document a number of times after one warm-up and prints the median and the
worst in ms, then one JSON line. The last PDF of each is kept in build/documents/ for
review (`pdftoppm -png -r 60 build/documents/X.pdf build/documents/X` to look at it).

    .venv/bin/python bench/documents.py [--repeat 10]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from partsvc.auth.identity import Caller
from partsvc.calls.models import Call
from partsvc.core.worktime import WorkingCalendar
from partsvc.demo import load_demo
from partsvc.documents import papers
from partsvc.platform import migrate
from partsvc.platform.config import Settings
from partsvc.platform.db import Database, utcnow
from partsvc.purchasing.models import VendorOrder
from partsvc.repairs.models import RmaItem
from partsvc.routing import plans
from partsvc.routing.travel import travel_source
from partsvc.workflows import planning

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for the picks from the demo data that the tests make too
from tests.demo_data import complete_on_site, issue_a_loaner, spare_on_van  # noqa: E402

OUT = ROOT / "build" / "documents"
ADMIN = Caller(0, "bench", "admin")


def prepare(database: Database, calendar: WorkingCalendar) -> dict[str, object]:
    """A finished call with a part and a loaner, and the day planned: what each document needs."""
    now = utcnow()
    today = now.astimezone(calendar.zone).date()
    with database.unit_of_work() as session:
        load_demo(session, now=now - timedelta(hours=2), part_count=300)
    plan_id = planning.plan_day(
        database,
        today,
        now=now,
        today=today,
        calendar=calendar,
        source=travel_source(Settings(database_url=database.url)),
        time_limit_s=2,
        by=None,
    )
    with database.unit_of_work() as session:
        plans.publish_plan(session, plan_id, now=now, today=today, by=None)
    with database.unit_of_work() as session:
        in_repair = set(session.scalars(select(RmaItem.serial)))
        assigned = session.scalars(select(Call).where(Call.status == "assigned").order_by(Call.id))
        call = next(
            c for c in assigned if c.equipment is not None and c.equipment.serial not in in_repair
        )
        assert call.engineer is not None and call.engineer.van is not None
        van = call.engineer.van
        level = spare_on_van(session, van)
        loaner = issue_a_loaner(session, van, now)
        complete_on_site(
            session,
            call.id,
            level.part.sku,
            "更换定影组件，清洁走纸通道，测试打印正常 / replaced the fuser",
            loaner=loaner.serial,
            taken_back=call.equipment.serial if call.equipment else None,
            now=now,
            calendar=calendar,
        )
        order = session.scalars(select(VendorOrder).order_by(VendorOrder.id)).first()
        assert order is not None
        return {
            "call": call.id,
            "loan": _loan_of(session, call.id),
            "order": order.number,
            "engineer": call.engineer.code,
            "today": today,
            "now": now,
        }


def _loan_of(session, call_id: int) -> int:  # type: ignore[no-untyped-def]
    from partsvc.calls.models import ServiceRecord

    record = session.scalar(select(ServiceRecord).where(ServiceRecord.call_id == call_id))
    assert record is not None and record.loan_id is not None
    return int(record.loan_id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'partsvc.db'}"
    migrate.upgrade(url)
    database = Database(url)
    calendar = WorkingCalendar()
    keys = prepare(database, calendar)
    zone = calendar.zone
    documents: dict[str, Callable[..., bytes]] = {
        "service-record": lambda s: papers.service_record(s, keys["call"], zone=zone, caller=ADMIN),
        "loaner-agreement": lambda s: papers.loaner_agreement(
            s, keys["loan"], zone=zone, caller=ADMIN
        ),
        "rma-authorization": lambda s: papers.rma_authorization(s, "RMA-000001", zone=zone),
        "vendor-order": lambda s: papers.vendor_order(
            s, keys["order"], today=keys["today"], zone=zone
        ),
        "day-sheet": lambda s: papers.day_sheet(
            s, keys["engineer"], keys["today"], calendar=calendar, caller=ADMIN
        ),
        "monthly-report": lambda s: papers.monthly_report(
            s,
            keys["today"].replace(day=1),
            now=keys["now"],
            zone=zone,
            settings=Settings(),
        ),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    figures = {}
    for name, render in documents.items():
        with database.unit_of_work(write=False) as session:
            render(session)  # warm-up: fonts and the stylesheet are loaded once per process
            times = []
            for _ in range(args.repeat):
                began = time.perf_counter()
                pdf = render(session)
                times.append((time.perf_counter() - began) * 1000)
        (OUT / f"{name}.pdf").write_bytes(pdf)
        figures[name] = {"median_ms": round(statistics.median(times)), "max_ms": round(max(times))}
        median, worst = figures[name]["median_ms"], figures[name]["max_ms"]
        print(f"{name:<18} median {median:5d} ms   max {worst:5d} ms")
    database.dispose()
    print(json.dumps({"repeat": args.repeat, "documents": figures}))


if __name__ == "__main__":
    main()
