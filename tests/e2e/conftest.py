"""The pages in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright)
against a live server on 127.0.0.1 holding the demo data.

The server runs in a thread of the test process on its own SQLite file, so what the browser
books is committed for real and never leaks into the rolled-back tests. Screenshots go to
``build/screenshots/`` (not committed) for review.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select
from werkzeug.serving import make_server

from partsvc import create_app
from partsvc.calls.calls import report_call
from partsvc.calls.models import Site
from partsvc.core.worktime import WorkingCalendar
from partsvc.demo import load_demo
from partsvc.platform import migrate
from partsvc.platform.config import Settings
from partsvc.platform.db import Database
from tests import system

CHROMIUM = system.CHROMIUM
PASSWORD = "demo-password-e2e"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
# Chromium as root in a container, with no calls home (the machine's network is closed).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


PLAN_SECONDS = 3.0
"""The planner's time limit on the live server: long enough to watch its progress."""
BOARD_REFRESH_SECONDS = 1.0
"""How often an open board fetches its calls again: a test need not wait the real 15 s."""


class RunningClock:
    """The server's clock: a Wednesday at 09:30 in Shanghai, running at the real pace, so
    the engineers' shifts lie ahead whenever the tests run."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.began = time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.began)


class LiveServer:
    def __init__(self, url: str, database: Database, clock: RunningClock) -> None:
        self.url = url
        self.database = database
        self.clock = clock


def demo_database(url: str) -> tuple[Database, RunningClock]:
    """A new database at ``url`` holding the demo, and the running clock it was loaded at."""
    migrate.upgrade(url)
    database = Database(url)
    clock = RunningClock(datetime(2026, 11, 18, 1, 30, tzinfo=UTC))
    with database.unit_of_work() as session:
        load_demo(session, now=clock(), password=PASSWORD)
    return database, clock


@contextmanager
def serving(app: Flask, database: Database, clock: RunningClock) -> Iterator[LiveServer]:
    """The app served from a thread on a free port; the database disposed of afterwards."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", database, clock)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        database.dispose()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'partsvc.db'}"
    database, clock = demo_database(url)
    app = create_app(
        Settings(
            database_url=url,
            secret_key="e2e-secret",
            plan_time_limit_s=PLAN_SECONDS,
            board_refresh_s=BOARD_REFRESH_SECONDS,
            login_rate="1000/minute",  # every test logs in from 127.0.0.1
            files_dir=str(tmp_path_factory.mktemp("files")),  # customers' photos
        ),
        database=database,
        clock=clock,
    )
    with serving(app, database, clock) as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}}
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
"""A phone-sized screen, as engineers use."""
LOCALES = {"zh": "zh-CN", "en": "en-US"}
"""The browser's language, sent as Accept-Language: the pages answer in it."""


@contextmanager
def browser_page(browser: Browser, screen: dict[str, Any], language: str) -> Iterator[Page]:
    context = browser.new_context(**screen, locale=LOCALES[language])
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    with refusals_of_the_policy(opened):
        yield opened
    context.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A desktop browser whose language is English (tests/e2e/test_languages.py: Chinese)."""
    with browser_page(browser, DESKTOP, "en") as opened:
        yield opened


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    with browser_page(browser, PHONE, "en") as opened:
        yield opened


@contextmanager
def refusals_of_the_policy(page: Page) -> Iterator[None]:
    """Fail the test if Chromium refused anything under the pages' Content-Security-Policy
    (an inline script or style the page needs would silently do nothing otherwise)."""
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield
    assert not refused, refused


LOGIN_WORDS = {
    "en": ("Log in", "Username", "Password"),
    "zh": ("登录", "用户名", "密码"),
}


def log_in(
    page: Page, server: LiveServer, username: str, start: str = "/", language: str = "en"
) -> None:
    log_in_words, username_label, password_label = LOGIN_WORDS[language]
    page.goto(server.url + start)
    expect(page.get_by_role("heading", name=log_in_words)).to_be_visible()
    page.get_by_label(username_label).fill(username)
    page.get_by_label(password_label).fill(PASSWORD)
    page.get_by_role("button", name=log_in_words).click()
    expect(page.get_by_text(f"{username} (")).to_be_visible()


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def an_urgent_printer_call(server: LiveServer) -> int:
    """A customer in Shanghai phones in a P1: the printer is down. Its call id."""
    with server.database.unit_of_work() as session:
        site = session.scalars(select(Site).where(Site.code == "S-PUDONG-PRINT")).one()
        return report_call(
            session,
            site=site.code,
            priority="P1",
            calendar=WorkingCalendar(),
            now=server.clock(),
            skills=["printer"],
            description="打印机停机 / printer down",
        ).id
