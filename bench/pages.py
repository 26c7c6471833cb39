"""How fast the pages render on the demo data (issue 7: under 100 ms, one request each).

Loads the demo into a fresh SQLite file, plans the day (2 s), logs each role in through
the login form, and times each main page through the Flask test client (the whole
request: session cookie, role check, queries, template), after one warm-up request.
Prints median and p95 per page in ms, then one JSON line. Sets its own login limit;
any answer but 200 voids the figures (exit 1).

    .venv/bin/python bench/pages.py [--repeat 30]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select
from verdict import Answers, show_settings

from partsvc import create_app
from partsvc.calls.labels import issue_label, label_token
from partsvc.calls.models import Call, Equipment
from partsvc.core.worktime import WorkingCalendar
from partsvc.demo import load_demo
from partsvc.platform import migrate
from partsvc.platform.config import Settings
from partsvc.platform.db import Database, utcnow
from partsvc.routing.travel import travel_source
from partsvc.workflows import planning

PASSWORD = "bench-password-1"
CUSTOMER = ["/r/{token}", "/t/{tracking}"]
"""The customer's pages (no login): a unit's fault report and a call's tracking page."""
PAGES = {
    "clerk": [
        "/desk",
        "/desk?q=打印头",
        "/desk/parts/{sku}",
        "/desk/parts/LOAN-PX-350",  # serialized: its serials by location, to tick
        "/desk/orders/VO-000001",
        "/desk/reorder-rules",
    ],
    "dispatch": [
        "/board",
        "/board/open-calls",
        "/board/calls/new",
        "/board/calls/1",
        "/board/suggest/sites?q=华威",
        "/rmas",
        "/rmas/RMA-000001",
        "/engineers/E-WANG/day",
        "/units/{serial}",
    ],
    "wang": ["/engineers/E-WANG/day"],
    "admin": ["/manager"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    url = f"sqlite:///{folder / 'partsvc.db'}"
    migrate.upgrade(url)
    database = Database(url)
    now = utcnow()
    with database.unit_of_work() as session:
        load_demo(session, now=now, password=PASSWORD)
    # One login per role from one address: the login limit set above that, for this run.
    settings = Settings(
        database_url=url, secret_key="bench", login_rate="100/minute", log_level="WARNING"
    )
    show_settings(database="SQLite (demo data)", repeat=args.repeat, login_rate=settings.login_rate)
    answers = Answers()
    calendar = WorkingCalendar(timezone=settings.timezone)
    # The board draws today's plan as a timeline and a map: plan the day first.
    planning.plan_day(
        database,
        now.astimezone(calendar.zone).date(),
        now=now,
        today=now.astimezone(calendar.zone).date(),
        calendar=calendar,
        source=travel_source(settings),
        time_limit_s=2,
        by=None,
    )
    app = create_app(settings, database=database)
    figures = {}
    with database.unit_of_work() as session:
        unit = session.scalars(select(Equipment).order_by(Equipment.id)).first()
        assert unit is not None
        serial = unit.serial
        label = issue_label(session, serial, secret="bench", now=now, by=None)
        scanned = label_token("bench", label.nonce)
    customer = app.test_client()
    form = customer.get(f"/r/{scanned}").text
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form)
    assert found is not None
    sent = customer.post(
        f"/r/{scanned}",
        data={
            "contact_name": "王女士",
            "contact_phone": "13912345678",
            "description": "打印机停机",
            "urgency": "down",
            "csrf_token": found[1],
        },
    )
    answers.check("POST /r/{token}", sent.status_code, 303, sent.text)
    tracking = sent.headers.get("Location", "/t/-").split("/t/")[1].split("?")[0]
    pages = dict(PAGES)
    with database.unit_of_work(write=False) as session:
        # A visit's page, phone first, as its engineer opens it (whoever has one today).
        visit = session.scalars(
            select(Call)
            .where(Call.engineer_id.is_not(None), Call.status.not_in(["resolved", "closed"]))
            .order_by(Call.id)
        ).first()
        if visit is not None and visit.engineer and visit.engineer.user:
            pages[visit.engineer.user.username] = [f"/my/calls/{visit.id}"]
    for username, paths in pages.items():
        client = app.test_client()
        page = client.get("/login").text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        assert token is not None
        login = client.post(
            "/login", data={"username": username, "password": PASSWORD, "csrf_token": token[1]}
        )
        answers.check("POST /login", login.status_code, 302, login.text)
        for path in paths:
            path = path.format(serial=serial) if "{serial}" in path else path
            if "{sku}" in path:
                found = re.search(r'/desk/parts/([^"?]+)"', client.get("/desk?q=Fuser").text)
                assert found is not None
                path = path.format(sku=found[1])
            figures[path] = time_page(client, path, username, args.repeat, answers)
    for template in CUSTOMER:
        path = template.format(token=scanned, tracking=tracking)
        figures[template] = time_page(customer, path, "customer", args.repeat, answers)
    database.dispose()
    print(json.dumps({"repeat": args.repeat, "pages": figures}, ensure_ascii=False))
    sys.exit(answers.verdict())


def time_page(client: Any, path: str, who: str, repeat: int, answers: Answers) -> dict[str, float]:
    """Median and p95 of ``repeat`` requests for ``path``, after one warm-up."""
    first = client.get(path)
    answers.check(f"GET {path}", first.status_code, 200, first.text)
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        answer = client.get(path)
        times.append((time.perf_counter() - began) * 1000)
        answers.check(f"GET {path}", answer.status_code, 200, answer.text)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * len(times)) - 1)]
    median = round(statistics.median(times), 1)
    print(f"{who:<9} {path[:40]:<40} median {median:6.1f} ms   p95 {p95:6.1f} ms")
    return {"median_ms": median, "p95_ms": round(p95, 1)}


if __name__ == "__main__":
    main()
