"""Every page in both languages, in a real browser: with Accept-Language zh-CN the visible
text is Chinese but for data and codes, with en it is English; refusals too. Each page is
saved under build/screenshots/ as ``lang-<page>-<zh|en>.png`` (a phone's for the engineer).

What counts as data: an element marked ``translate="no"`` (names, reasons typed by users)
or with a ``lang`` of its own (customers' and parts' Chinese names), <code>, and what was
typed into a form. What
counts as a code: a word with a digit, a hyphen or an underscore (SKUs, serials, order
numbers, WH-SH), or in capitals (RMA, PDF, CSV, P1).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from partsvc.auth.models import User
from partsvc.calls.models import Call
from partsvc.inventory.models import Location, Part, StockLevel
from partsvc.purchasing.models import VendorOrder
from tests.e2e.conftest import (
    DESKTOP,
    PHONE,
    LiveServer,
    an_urgent_printer_call,
    browser_page,
    log_in,
    screenshot,
)

LANGUAGES = ("zh", "en")

VISIBLE_TEXT = """() => {
  const texts = [];
  const skip = 'script, style, title, code, textarea, #language-switch, [translate="no"]';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const element = node.parentElement;
    if (!element || element.closest(skip)) continue;
    const own = element.closest('[lang]');
    if (own && own !== document.documentElement) continue;
    if (!element.checkVisibility()) continue;
    const text = node.textContent.trim();
    if (text) texts.push(text);
  }
  for (const field of document.querySelectorAll('[placeholder]')) {
    if (field.checkVisibility()) texts.push(field.placeholder);
  }
  for (const labelled of document.querySelectorAll('[aria-label]')) {
    if (labelled.checkVisibility()) texts.push(labelled.getAttribute('aria-label'));
  }
  return texts;
}"""

HAN = re.compile(r"[\u3400-\u9fff]")
PATH = re.compile(r"(?<!\S)/\S*")  # a path of the site, like /api/v1/docs, is a code
WORD = re.compile(r"[A-Za-z][A-Za-z0-9'’_.\-]*")
ALLOWED = {"partsvc", "Excel", "Bearer", "yes", "no", "serialized", "loaner", "fuser"}
"""Names that stay as they are in Chinese (the product, Excel, the Bearer scheme), the CSV
columns and values an import file must use, and a search example meant to be English."""


SEARCH_EXAMPLE = "打印头"
"""The clerk desk's search shows, in English too, that a part is found by its Chinese name."""


def _is_code(word: str) -> bool:
    return bool(re.search(r"[0-9_\-]", word)) or (word.isupper() and len(word) > 1)


def english_words(texts: list[str]) -> list[str]:
    """The words in Latin letters that are neither codes nor allowed: untranslated text."""
    return [
        word
        for text in texts
        for word in WORD.findall(PATH.sub(" ", text))
        if not _is_code(word) and word not in ALLOWED
    ]


def han_characters(texts: list[str]) -> int:
    return sum(len(HAN.findall(text)) for text in texts)


def assert_speaks(page: Page, language: str, name: str) -> None:
    """The page's own words are all in ``language``; saved for review."""
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN" if language == "zh" else "en")
    texts: list[str] = page.evaluate(VISIBLE_TEXT)
    if language == "zh":
        assert english_words(texts) == [], (name, english_words(texts), texts)
        assert han_characters(texts) >= 10, (name, texts)
    else:
        chinese = [text for text in texts if HAN.search(text.replace(SEARCH_EXAMPLE, ""))]
        assert chinese == [], (name, chinese)
        assert len(english_words(texts)) >= 5, (name, texts)
    screenshot(page, f"lang-{name}-{language}")


@dataclass(frozen=True)
class Keys:
    sku: str
    available: int
    order: str
    engineer_user: str
    call_id: int


@pytest.fixture(scope="module")
def keys(live_server: LiveServer) -> Keys:
    with live_server.database.unit_of_work(write=False) as session:
        level = session.scalars(
            select(StockLevel)
            .join(Part, Part.id == StockLevel.part_id)
            .join(Location, Location.id == StockLevel.location_id)
            .where(Location.code == "WH-SH", Part.serialized.is_(False), StockLevel.on_hand > 0)
            .order_by(Part.sku)
        ).first()
        assert level is not None
        order = session.scalars(
            select(VendorOrder).where(VendorOrder.status.in_(["sent", "partially_received"]))
        ).first()
        assert order is not None
        call = session.scalars(
            select(Call).where(Call.status == "assigned").order_by(Call.id)
        ).first()
        assert call is not None and call.engineer is not None and call.engineer.user
        return Keys(
            level.part.sku, level.available, order.number, call.engineer.user.username, call.id
        )


@pytest.fixture(params=LANGUAGES)
def language(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def desktop(browser: Browser, language: str) -> Iterator[Page]:
    with browser_page(browser, DESKTOP, language) as opened:
        yield opened


@pytest.fixture
def phone_in(browser: Browser, language: str) -> Iterator[Page]:
    with browser_page(browser, PHONE, language) as opened:
        yield opened


def test_the_login_page(desktop: Page, live_server: LiveServer, language: str) -> None:
    desktop.goto(live_server.url + "/login")
    assert_speaks(desktop, language, "login")


def test_the_clerk_desk_and_its_pages(
    desktop: Page, live_server: LiveServer, keys: Keys, language: str
) -> None:
    log_in(desktop, live_server, "clerk", start="/desk", language=language)
    assert_speaks(desktop, language, "desk")
    desktop.goto(live_server.url + "/desk?q=" + keys.sku.split("-")[0])
    assert_speaks(desktop, language, "desk-search")
    desktop.goto(live_server.url + f"/desk/parts/{keys.sku}")
    assert_speaks(desktop, language, "part")
    desktop.goto(live_server.url + f"/desk/orders/{keys.order}")
    assert_speaks(desktop, language, "order")
    desktop.goto(live_server.url + "/desk/imports")
    assert_speaks(desktop, language, "imports")


REFUSED = {
    "zh": "WH-SH 的 {sku} 仅有 {available} 件可用，无法出库 {asked} 件。",
    "en": "Only {available} of {sku} available at WH-SH; cannot book out {asked}.",
}


def test_a_refused_booking_says_why_in_the_pages_language(
    desktop: Page, live_server: LiveServer, keys: Keys, language: str
) -> None:
    log_in(desktop, live_server, "clerk", start=f"/desk/parts/{keys.sku}", language=language)
    with live_server.database.unit_of_work(write=False) as session:
        level = session.scalars(
            select(StockLevel)
            .join(Part, Part.id == StockLevel.part_id)
            .join(Location, Location.id == StockLevel.location_id)
            .where(Part.sku == keys.sku, Location.code == "WH-SH")
        ).one()
        available = level.available
    form = desktop.locator("#move-form")
    form.locator("input[name=qty]").fill(str(available + 100))
    form.locator("input[name=from_code]").fill("WH-SH")
    form.locator("input[name=to_code]").fill("VAN-WANG")
    form.locator("input[name=reason]").fill("issue to van")
    form.locator("button[type=submit]").click()
    expected = REFUSED[language].format(sku=keys.sku, available=available, asked=available + 100)
    expect(desktop.get_by_role("alert")).to_contain_text(expected)
    assert_speaks(desktop, language, "part-refused")


PLAN_BUTTON = {"zh": re.compile("规划当天"), "en": re.compile("Plan the day")}
CANDIDATES = {"zh": "候选工程师", "en": "Candidates"}


def test_the_dispatch_board_and_the_candidates(
    desktop: Page, live_server: LiveServer, language: str
) -> None:
    log_in(desktop, live_server, "dispatch", start="/board", language=language)
    assert_speaks(desktop, language, "board")
    if not desktop.locator("#timeline").count():
        desktop.get_by_role("button", name=PLAN_BUTTON[language]).click(no_wait_after=True)
        expect(desktop.locator("#timeline")).to_be_visible(timeout=60_000)
    call_id = an_urgent_printer_call(live_server)
    desktop.reload()
    assert_speaks(desktop, language, "board-plan")
    row = desktop.locator(f"#calls tr[data-call='{call_id}']")
    row.get_by_role("link", name=CANDIDATES[language]).click()
    expect(desktop.locator("#candidates")).to_be_visible()
    assert_speaks(desktop, language, "candidates")


def test_the_new_call_form_and_the_rma_pages(
    desktop: Page, live_server: LiveServer, language: str
) -> None:
    log_in(desktop, live_server, "dispatch", start="/board/calls/new", language=language)
    assert_speaks(desktop, language, "new-call")
    desktop.goto(live_server.url + "/rmas")
    assert_speaks(desktop, language, "rmas")
    desktop.goto(live_server.url + "/rmas/RMA-000001")
    assert_speaks(desktop, language, "rma")


def test_the_engineers_day_and_call_on_a_phone(
    phone_in: Page, live_server: LiveServer, keys: Keys, language: str
) -> None:
    log_in(phone_in, live_server, keys.engineer_user, start="/my/day", language=language)
    assert_speaks(phone_in, language, "myday")
    phone_in.goto(live_server.url + f"/my/calls/{keys.call_id}")
    assert_speaks(phone_in, language, "mycall")


def test_the_manager(desktop: Page, live_server: LiveServer, language: str) -> None:
    log_in(desktop, live_server, "admin", start="/manager", language=language)
    assert_speaks(desktop, language, "manager")


def test_the_switch_in_the_header_changes_the_language_and_keeps_it(
    browser: Browser, live_server: LiveServer
) -> None:
    try:
        with browser_page(browser, DESKTOP, "en") as page:
            log_in(page, live_server, "clerk", start="/desk")
            expect(page.get_by_role("heading", name="Clerk desk")).to_be_visible()
            page.get_by_role("button", name="中文").click()
            expect(page.get_by_role("heading", name="仓管台")).to_be_visible()
            page.reload()
            expect(page.get_by_role("heading", name="仓管台")).to_be_visible()
        with browser_page(browser, DESKTOP, "en") as page:  # another browser: still Chinese
            log_in(page, live_server, "clerk", start="/desk")
            expect(page.get_by_role("heading", name="仓管台")).to_be_visible()
            page.get_by_role("button", name="English").click()
            expect(page.get_by_role("heading", name="Clerk desk")).to_be_visible()
    finally:  # the clerk reads the browser's language again, as the other tests expect
        with live_server.database.unit_of_work() as session:
            clerk = session.scalars(select(User).where(User.username == "clerk")).one()
            clerk.locale = None


STEPS = {
    "zh": ("出发", "已到场", "完工并签字"),
    "en": ("Set off", "Arrived on site", "Complete and sign"),
}
NOT_ON_VAN = {
    "zh": "{van} 的 {sku} 仅有 {on_van} 件可用，无法出库 {asked} 件。",
    "en": "Only {on_van} of {sku} available at {van}; cannot book out {asked}.",
}


def test_completing_with_more_than_the_van_holds_is_refused_in_the_pages_language(
    phone_in: Page, live_server: LiveServer, language: str
) -> None:
    """On the phone: the engineer sets off, arrives, and asks for more of a part than the
    van holds (the last assigned call, so the engineer's own test keeps the first)."""
    with live_server.database.unit_of_work(write=False) as session:
        call = session.scalars(
            select(Call)
            .where(Call.status.in_(["assigned", "en_route", "on_site"]))
            .order_by(Call.id.desc())
        ).first()
        assert call is not None and call.engineer is not None and call.engineer.user
        van = call.engineer.van.code
        level = session.scalars(
            select(StockLevel)
            .join(Part, Part.id == StockLevel.part_id)
            .join(Location, Location.id == StockLevel.location_id)
            .where(Location.code == van, Part.serialized.is_(False))
            .order_by(Part.sku)
        ).first()
        assert level is not None
        username, call_id, sku, on_van = (
            call.engineer.user.username,
            call.id,
            level.part.sku,
            level.available,
        )
    set_off, arrived, complete = STEPS[language]
    log_in(phone_in, live_server, username, start=f"/my/calls/{call_id}", language=language)
    # Each step reloads the page: wait for the next step's button before looking for it.
    if phone_in.get_by_role("button", name=set_off, exact=True).count():
        phone_in.get_by_role("button", name=set_off, exact=True).click()
        expect(phone_in.get_by_role("button", name=arrived, exact=True)).to_be_visible()
    if phone_in.get_by_role("button", name=arrived, exact=True).count():
        phone_in.get_by_role("button", name=arrived, exact=True).click()
    form = phone_in.locator("#complete-form")
    expect(form).to_be_visible()
    form.locator("textarea[name=work_done]").fill("更换零件")
    form.locator("textarea[name=parts]").fill(f"{sku} {on_van + 50}")
    form.locator("input[name=signed_by]").fill("王建国")
    phone_in.get_by_role("button", name=complete).click()
    expected = NOT_ON_VAN[language].format(van=van, sku=sku, on_van=on_van, asked=on_van + 50)
    expect(phone_in.get_by_role("alert")).to_contain_text(expected)
    assert_speaks(phone_in, language, "mycall-refused")
