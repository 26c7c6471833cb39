"""What people read on the pages, scanned for the known offenders: raw JSON, an internal
class name, a location code shown where the location has a name, "1 units", the API's
"see errors". Every page of the clerk, the dispatcher, the engineer and the manager, on the
demo data, in Chinese and in English, and a mistyped page address.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
from flask import Flask
from sqlalchemy import select

from partsvc.calls.models import Call, Engineer
from partsvc.inventory.models import Location, Part
from partsvc.platform.db import Database
from partsvc.purchasing.models import VendorOrder
from tests.web.conftest import login
from tests.web.test_demo_day import demo_loaded

WEDNESDAY_MORNING = datetime(2026, 11, 18, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai
LANGUAGES = {"en": {"HTTP_ACCEPT_LANGUAGE": "en-US"}, "zh": {"HTTP_ACCEPT_LANGUAGE": "zh-CN"}}

OFFENDERS = {
    "raw JSON": re.compile(r'\{\s*"(detail|status|title|type)"'),
    "an internal name": re.compile(
        r"\b[A-Z][a-z]+(?:[A-Z][a-z]+)*(?:Source|Error|Form|Session|Status|Kind|Row)\b"
        r"|object at 0x|<partsvc\.|\bNone\b|Decimal\(|datetime\."
    ),
    "a plural of one": re.compile(r"(?<![\d.])1 (units|parts|rows|moves|days|serials)\b"),
    "the API's words": re.compile(r"see errors|problem\+json"),
}


class VisibleText(HTMLParser):
    """The text a reader sees: no scripts, styles, suggestion lists or hidden inputs.
    ``<code>`` marks a code to type as it is (a CSV column's example, a serial): it is
    text, but not a place named by its code."""

    HIDDEN = {"script", "style", "datalist", "template", "title"}

    def __init__(self, skip: frozenset[str]) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skip = skip
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.skip:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in self.skip and self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if not self.depth:
            self.parts.append(data)

    @classmethod
    def of(cls, html: str, *, codes: bool = True) -> str:
        parser = cls(frozenset(cls.HIDDEN if codes else {*cls.HIDDEN, "code"}))
        parser.feed(html)
        return " ".join(" ".join(parser.parts).split())


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database, Flask]]:
    """The demo once for the module, in an SQLite file of its own: these tests only read."""
    from partsvc.platform import migrate

    url = f"sqlite:///{tmp_path_factory.mktemp('words') / 'demo.db'}"
    migrate.upgrade(url)
    with demo_loaded(url, WEDNESDAY_MORNING) as loaded:
        yield loaded


def _pages(database: Database) -> dict[str, list[str]]:
    """Each role's pages, with real keys from the demo."""
    with database.unit_of_work(write=False) as session:
        serialized = session.scalars(
            select(Part.sku).where(Part.serialized.is_(True)).order_by(Part.sku)
        ).first()
        plain = session.scalars(
            select(Part.sku).where(Part.serialized.is_(False)).order_by(Part.sku)
        ).first()
        order = session.scalars(
            select(VendorOrder).where(VendorOrder.status == "sent").order_by(VendorOrder.id)
        ).first()
        call = session.scalars(
            select(Call).where(Call.engineer_id.is_not(None)).order_by(Call.id)
        ).first()
        assert serialized and plain and order and call and call.engineer
        engineer: Engineer = call.engineer
        assert engineer.user is not None
        return {
            "clerk": [
                "/desk",
                f"/desk?q={plain[:3]}",
                f"/desk/parts/{serialized}",
                f"/desk/parts/{plain}",
                f"/desk/orders/{order.number}",
                "/desk/imports",
                "/desk/reorder-rules",
                "/desk/no-such-page",
            ],
            "dispatch": [
                "/board",
                "/board/open-calls",
                "/board/calls/new",
                f"/board/calls/{call.id}",
                "/rmas",
                "/rmas/RMA-000001",
                "/customer-file",
                "/customer-file/sites-to-place",
            ],
            engineer.user.username: ["/my/day", f"/my/calls/{call.id}"],
            "admin": ["/manager", f"/engineers/{engineer.code}/day", "/no-such-page"],
        }


def _named_places(database: Database) -> dict[str, str]:
    with database.unit_of_work(write=False) as session:
        return {
            code: name
            for code, name in session.execute(select(Location.code, Location.name))
            if name and name != code
        }


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_no_page_shows_the_known_offenders(demo: tuple[Database, Flask], language: str) -> None:
    database, app = demo
    places = _named_places(database)
    found: list[str] = []
    for username, paths in _pages(database).items():
        client = app.test_client()
        login(client, username)
        for path in paths:
            answer = client.get(
                path,
                environ_base=LANGUAGES[language],
                headers={"Accept": "text/html"},
                follow_redirects=True,
            )
            assert answer.status_code in (200, 404), (path, answer.status_code)
            assert answer.mimetype == "text/html", path
            text = VisibleText.of(answer.text)
            for what, pattern in OFFENDERS.items():
                found += [f"{path}: {what}: {m.group(0)!r}" for m in pattern.finditer(text)]
            named = VisibleText.of(answer.text, codes=False)
            found += [
                f"{path}: the code {code} without its name"
                for code, name in places.items()
                if re.search(rf"(?<![\w-]){re.escape(code)}(?![\w-])", named) and name not in text
            ]
    assert not found, "\n".join(found)


def test_the_scan_catches_each_offender() -> None:
    """Each pattern finds what it is for (a scan that finds nothing proves nothing)."""
    samples = {
        "raw JSON": '{"detail": "x", "status": 404}',
        "an internal name": "travel HaversineSource",
        "a plural of one": "Received 1 units on VO-000001",
        "the API's words": "The rule is not valid; see errors.",
    }
    for what, sample in samples.items():
        assert OFFENDERS[what].search(VisibleText.of(f"<p>{sample}</p>")), what
    assert not OFFENDERS["a plural of one"].search("Received 11 units, 2.1 units")
