"""The office imports sites known only by their address, in each language: the customer
file says how many wait to be placed, the board warns of a call at one, its engineer gets
an address search instead of a map pin, and placing a site takes it off the list."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from partsvc.calls.calls import report_call
from partsvc.calls.models import Call, Customer, Engineer
from partsvc.core.worktime import WorkingCalendar
from tests.e2e.conftest import DESKTOP, PHONE, LiveServer, browser_page, log_in, screenshot

WORDS = {
    "en": {
        "file": "2 sites wait to be placed on the map",
        "imported": "Imported 2 rows of Sites.",
        "place_them": "place them",
        "notice": "1 open call is at a site with no place on the map yet",
        "save": "Save",
        "latitude": "Latitude",
        "longitude": "Longitude",
        "too_far": "The latitude must be from -90 to 90 degrees",
        "placed": "placed at 31.323600, 120.726600",
        "find": "Find the address on the map",
    },
    "zh": {
        "file": "有 2 个地点等待在地图上定位",
        "imported": "已导入地点 2 行。",
        "place_them": "去定位",
        "notice": "有 1 张未完成工单所在的地点尚未在地图上定位",
        "save": "保存",
        "latitude": "纬度",
        "longitude": "经度",
        "too_far": "纬度须在 -90 到 90 度之间",
        "placed": "已定位于 31.323600, 120.726600",
        "find": "在地图上查找地址",
    },
}


def _customer(server: LiveServer) -> str:
    with server.database.unit_of_work(write=False) as session:
        code = session.scalars(select(Customer.code).order_by(Customer.code)).first()
        assert code is not None
        return code


def _a_call_for_li_at(server: LiveServer, site: str) -> int:
    """A routine call at the site, already given to Li Na (username lina)."""
    with server.database.unit_of_work() as session:
        call = report_call(
            session, site=site, priority="P3", calendar=WorkingCalendar(), now=server.clock()
        )
        li = session.scalars(select(Engineer).where(Engineer.code == "E-LI")).one()
        session.get(Call, call.id).engineer_id = li.id  # type: ignore[union-attr]
        session.get(Call, call.id).status = "assigned"  # type: ignore[union-attr]
        return call.id


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_office_imports_sites_by_address_and_places_one(
    browser: Browser, live_server: LiveServer, tmp_path, language: str
) -> None:
    words = WORDS[language]
    first, second = f"S-ADDR-{language.upper()}-1", f"S-ADDR-{language.upper()}-2"
    owner = _customer(live_server)
    sites = tmp_path / "sites.csv"
    sites.write_text(
        "code,customer,address,lat,lon\n"
        f"{first},{owner},苏州工业园区星湖街328号,,\n"
        f"{second},{owner},苏州吴中区东吴北路1号,,\n",
        encoding="utf-8",
    )
    with browser_page(browser, DESKTOP, language) as page:
        log_in(page, live_server, "dispatch", start="/customer-file", language=language)
        form = page.locator("#import-sites")
        form.locator("input[type=file]").set_input_files(str(sites))
        form.locator("button[type=submit]").click()
        expect(page.locator("#sites-waiting")).to_contain_text(words["file"])
        expect(page.get_by_role("status").first).to_contain_text(words["imported"])
        screenshot(page, f"customer-file-sites-waiting-{language}")

        call_id = _a_call_for_li_at(live_server, first)
        page.goto(live_server.url + "/board")
        expect(page.locator("#unplaced-notice")).to_contain_text(words["notice"])
        screenshot(page, f"board-unplaced-notice-{language}")

        page.goto(live_server.url + "/customer-file")
        page.locator("#to-place-link").click()
        row = page.locator(f"#site-{first}")
        expect(row).to_be_visible()
        expect(row.locator("a.map-link")).to_have_attribute(
            "href", "https://uri.amap.com/search?keyword=" + _quoted("苏州工业园区星湖街328号")
        )
        row.get_by_label(words["latitude"]).fill("91")
        row.get_by_label(words["longitude"]).fill("120.7266")
        row.get_by_role("button", name=words["save"]).click()
        expect(page.locator(f"#site-{first} .error")).to_contain_text(words["too_far"])
        screenshot(page, f"sites-to-place-refused-{language}")

        with browser_page(browser, PHONE, language) as phone:
            log_in(phone, live_server, "lina", start=f"/my/calls/{call_id}", language=language)
            expect(phone.locator("#find-address")).to_contain_text(words["find"])
            expect(phone.locator("#open-map")).to_have_count(0)
            screenshot(phone, f"engineer-call-unplaced-site-{language}")

        row = page.locator(f"#site-{first}")
        row.get_by_label(words["latitude"]).fill("31.3236")
        row.get_by_label(words["longitude"]).fill("120.7266")
        row.get_by_role("button", name=words["save"]).click()
        expect(page.get_by_role("status").first).to_contain_text(words["placed"])
        expect(page.locator(f"#site-{first}")).to_have_count(0)
        expect(page.locator(f"#site-{second}")).to_be_visible()
        screenshot(page, f"sites-to-place-{language}")

        # Leave the demo as it was for the others: the second site placed too.
        row = page.locator(f"#site-{second}")
        row.get_by_label(words["latitude"]).fill("31.2630")
        row.get_by_label(words["longitude"]).fill("120.6330")
        row.get_by_role("button", name=words["save"]).click()
        expect(page.locator(f"#site-{second}")).to_have_count(0)


def _quoted(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="/")
