"""The lists' download links in a real browser, in Chinese and in English: each list page
shows "Download: CSV · Excel" under its list, and a click saves the file with the page's
filters. Saved as ``downloads-<page>-<zh|en>.png`` under build/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from partsvc.calls.models import Engineer
from partsvc.inventory.models import Part
from partsvc.purchasing import reorder
from tests.e2e.conftest import DESKTOP, PHONE, LiveServer, browser_page, log_in, screenshot

WORD = {"zh": "下载：", "en": "Download:"}


@pytest.fixture(params=("zh", "en"))
def language(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def desktop(browser: Browser, language: str) -> Iterator[Page]:
    with browser_page(browser, DESKTOP, language) as opened:
        yield opened


def links_of(page: Page, box: str, language: str) -> None:
    links = page.locator(f"#{box}")
    expect(links).to_be_visible()
    expect(links).to_contain_text(WORD[language])
    expect(links.get_by_role("link", name="CSV")).to_be_visible()
    expect(links.get_by_role("link", name="Excel")).to_be_visible()


def saved(page: Page, box: str, name: str) -> bytes:
    with page.expect_download() as download:
        page.locator(f"#{box}").get_by_role("link", name=name).click()
    return Path(download.value.path()).read_bytes()


def test_the_clerk_downloads_the_desks_lists(
    desktop: Page, live_server: LiveServer, language: str
) -> None:
    with live_server.database.unit_of_work() as session:  # a rule, for the rules' list
        sku = session.scalars(select(Part.sku).order_by(Part.sku)).first()
        assert sku is not None
        reorder.set_reorder_rule(
            session, sku=sku, location="WH-SH", reorder_point=1, reorder_qty=5,
            now=live_server.clock(),
        )  # fmt: skip
    log_in(desktop, live_server, "clerk", start=f"/desk?q={sku[:3]}", language=language)
    for box in ("parts-downloads", "to-receive-downloads", "late-downloads"):
        links_of(desktop, box, language)
    screenshot(desktop, f"downloads-desk-{language}")
    data = saved(desktop, "parts-downloads", "CSV")
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\r\n") > 1
    assert saved(desktop, "to-receive-downloads", "Excel").startswith(b"PK\x03\x04")
    desktop.goto(live_server.url + "/desk/reorder-rules")
    links_of(desktop, "rules-downloads", language)
    screenshot(desktop, f"downloads-rules-{language}")


def test_the_dispatcher_downloads_the_rmas_as_filtered(
    desktop: Page, live_server: LiveServer, language: str
) -> None:
    log_in(desktop, live_server, "dispatch", start="/rmas", language=language)
    desktop.locator("#rma-filters input[name=overdue]").check()
    desktop.locator("#rma-filters button").click()
    links_of(desktop, "rma-downloads", language)
    href = desktop.locator("#rma-downloads a").first.get_attribute("href") or ""
    assert "overdue=1" in href
    screenshot(desktop, f"downloads-rmas-{language}")


def test_the_manager_downloads_the_overdue_loans(
    desktop: Page, live_server: LiveServer, language: str
) -> None:
    log_in(desktop, live_server, "admin", start="/manager", language=language)
    if desktop.locator("#overdue-loans").count():
        links_of(desktop, "overdue-loans-downloads", language)
        assert saved(desktop, "overdue-loans-downloads", "CSV").startswith(b"\xef\xbb\xbf")
    screenshot(desktop, f"downloads-manager-{language}")


def test_the_engineer_downloads_their_loans_and_van_on_a_phone(
    browser: Browser, live_server: LiveServer, language: str
) -> None:
    with live_server.database.unit_of_work(write=False) as session:
        engineer = session.scalars(
            select(Engineer).where(Engineer.user_id.is_not(None)).order_by(Engineer.id)
        ).first()
        assert engineer is not None and engineer.user is not None
        username = engineer.user.username
    with browser_page(browser, PHONE, language) as phone:
        log_in(phone, live_server, username, start="/my/day", language=language)
        links_of(phone, "van-downloads", language)
        phone.locator("#van-downloads").scroll_into_view_if_needed()
        screenshot(phone, f"downloads-myday-{language}")
        assert saved(phone, "van-downloads", "CSV").startswith(b"\xef\xbb\xbf")
