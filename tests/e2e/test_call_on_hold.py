"""The dispatcher puts a call on hold from the board, in Chinese, and resumes it: the
board says since when and why, and its countdown stops while the customer holds it."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, expect

from tests.e2e.conftest import DESKTOP, LiveServer, browser_page, log_in, screenshot


def test_the_dispatcher_holds_and_resumes_a_call_from_the_board(
    browser: Browser, live_server: LiveServer
) -> None:
    with browser_page(browser, DESKTOP, "zh") as page:
        log_in(page, live_server, "dispatch", start="/board", language="zh")
        row = page.locator("#calls tbody tr").first
        call_id = row.get_attribute("data-call")
        row.locator("select[name=reason]").select_option("customer_asked_to_wait")
        row.get_by_role("button", name="挂起").click()
        row = page.locator(f"#calls tr[data-call='{call_id}']")
        expect(row).to_contain_text("起挂起")
        expect(row).to_contain_text("客户要求暂缓")
        expect(row).to_contain_text("暂停计时")
        screenshot(page, "board-call-on-hold-zh")
        row.get_by_role("button", name="恢复计时").click()
        expect(page.get_by_role("status").first).to_contain_text(re.compile("已恢复"))
        expect(page.locator(f"#calls tr[data-call='{call_id}'] [data-held]")).to_have_count(0)
