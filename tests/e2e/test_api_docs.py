"""The API's Swagger UI still runs under the Content-Security-Policy of the pages."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import LiveServer, screenshot


def test_the_api_docs_show_the_endpoints(page: Page, live_server: LiveServer) -> None:
    page.goto(live_server.url + "/api/v1/docs")
    expect(page.get_by_text("/api/v1/moves", exact=True).first).to_be_visible()
    screenshot(page, "api-docs")
