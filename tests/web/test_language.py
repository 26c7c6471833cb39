"""The pages' language: the user's saved choice, else the browser's Accept-Language, else
the deployment's default; refusals in Chinese with their specifics; the switch saves."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from partsvc import create_app
from partsvc.auth.models import User
from partsvc.inventory.models import Part
from partsvc.platform.config import Settings
from partsvc.web.language import countdown, day_text
from tests.factories import make_location, make_part, receive
from tests.web.conftest import Shelf, csrf_token, issue_to_van, login, post_form
from tests.web.test_imports_page import upload
from tests.web.test_myday import Visit, _complete, visit  # noqa: F401 - the fixture

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN,zh;q=0.9"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en-US,en;q=0.9"}


def _heading(html: str) -> str:
    found = re.search(r"<h1>(.*?)</h1>", html, re.S)
    assert found, html
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def test_the_browser_language_chooses_the_login_page(client: FlaskClient) -> None:
    assert _heading(client.get("/login", environ_base=ZH).text) == "登录"
    assert _heading(client.get("/login", environ_base=EN).text) == "Log in"
    assert 'lang="zh-CN"' in client.get("/login", environ_base=ZH).text


@pytest.mark.parametrize(("default", "heading"), [(None, "登录"), ("en", "Log in")])
def test_without_accept_language_the_deployment_default_speaks(
    app: Flask, default: str | None, heading: str
) -> None:
    settings = app.config["PARTSVC_SETTINGS"]
    url = settings.database_url
    chosen = Settings(database_url=url, secret_key="t")
    if default:
        chosen = Settings(database_url=url, secret_key="t", default_locale=default)
    other = create_app(chosen, database=None)
    assert chosen.default_locale == (default or "zh_CN")
    assert _heading(other.test_client().get("/login").text) == heading


def test_the_default_comes_from_partsvc_default_locale() -> None:
    assert Settings.from_env({"PARTSVC_DEFAULT_LOCALE": "en"}).default_locale == "en"
    assert Settings.from_env({}).default_locale == "zh_CN"


def test_the_switch_saves_the_choice_for_the_user_over_the_browser(
    client: FlaskClient, users: dict[str, User], session: Session
) -> None:
    login(client, "clerk")
    page = client.get("/desk", environ_base=EN)
    assert _heading(page.text) == "Clerk desk"
    assert "中文" in page.text and 'id="language-switch"' in page.text

    refused = client.post("/language", data={"locale": "zh_CN", "next": "/desk"})
    assert refused.status_code == 400  # no CSRF token: the form expired page
    chosen = client.post(
        "/language",
        data={"locale": "zh_CN", "next": "/desk", "csrf_token": csrf_token(page.text)},
        environ_base=EN,
    )
    assert chosen.status_code == 302 and chosen.headers["Location"] == "/desk"
    session.expire_all()
    assert session.get(User, users["clerk"].id).locale == "zh_CN"
    assert _heading(client.get("/desk", environ_base=EN).text) == "仓管台"

    fresh = client.application.test_client()  # another browser, logging in anew
    login(fresh, "clerk")
    assert _heading(fresh.get("/desk", environ_base=EN).text) == "仓管台"


def test_an_unknown_language_or_an_outside_address_is_refused(
    client: FlaskClient, users: dict[str, User]
) -> None:
    token = csrf_token(client.get("/login").text)
    assert client.post("/language", data={"locale": "fr", "csrf_token": token}).status_code == 400
    away = client.post(
        "/language", data={"locale": "en", "next": "//evil.example/", "csrf_token": token}
    )
    assert away.headers["Location"] == "/"


def test_booking_out_more_than_in_stock_is_refused_in_chinese_with_its_specifics(
    client: FlaskClient, users: dict[str, User], five_on_a_shelf: Shelf
) -> None:
    login(client, "clerk")
    client.environ_base.update(ZH)
    answer = issue_to_van(client, five_on_a_shelf, 9)
    assert answer.status_code == 409
    assert "库存不足" in answer.text
    shelf, sku = five_on_a_shelf.shelf.code, five_on_a_shelf.part.sku
    assert f"{shelf} 的 {sku} 仅有 5 件可用，无法出库 9 件。" in answer.text
    assert "未记账。" in answer.text
    assert "Not enough stock" not in answer.text


def test_completing_with_a_part_not_on_the_van_is_refused_in_chinese(
    client: FlaskClient,
    session: Session,
    visit: Visit,  # noqa: F811
) -> None:
    login(client, "mei")
    client.environ_base.update(ZH)
    answer = _complete(
        client,
        visit,
        {"work_done": "更换定影组件", "parts": f"{visit.fuser} 5", "signed_by": "李明"},
    )
    assert answer.status_code == 409
    assert f"VAN-E-MEI 的 {visit.fuser} 仅有 3 件可用，无法出库 5 件。" in answer.text
    assert "未保存任何内容。" in answer.text


def test_a_refusal_flashed_to_the_next_page_speaks_chinese(
    client: FlaskClient, users: dict[str, User], session: Session
) -> None:
    part = make_part(session)
    shelf = make_location(session)
    receive(session, part, shelf, 2)
    session.commit()
    login(client, "clerk")
    client.environ_base.update(ZH)
    page = client.get(f"/desk/parts/{part.sku}").text
    move = re.search(r"/desk/moves/(\d+)/reversal", page)
    assert move
    url = f"/desk/moves/{move.group(1)}/reversal"
    client.post(url, data={"csrf_token": csrf_token(page)})
    again = client.post(url, data={"csrf_token": csrf_token(page)}, follow_redirects=True)
    assert "该库存移动已冲销" in again.text or "与当前状态冲突" in again.text
    assert "未做任何更改。" in again.text


def test_form_labels_and_validation_speak_chinese(
    client: FlaskClient, clerk_with_a_part: Part
) -> None:
    part = clerk_with_a_part
    client.environ_base.update(ZH)
    answer = post_form(client, f"/desk/parts/{part.sku}", f"/desk/parts/{part.sku}/moves", {})
    assert answer.status_code == 422
    assert "数量" in answer.text and "原因" in answer.text
    assert "This field is required" not in answer.text


def test_dates_and_countdowns_the_chinese_way(app: Flask) -> None:
    from datetime import date

    with app.test_request_context("/", environ_base=ZH):
        assert day_text(date(2026, 12, 7)) == "2026年12月7日 周一"
        assert countdown(93 * 60 + 5) == "还剩 1 小时 33 分"
        assert countdown(-18 * 60) == "已超时 18 分钟"
    with app.test_request_context("/", environ_base=EN):
        assert day_text(date(2026, 12, 7)) == "Monday 7 December"
        assert countdown(93 * 60 + 5) == "in 1 h 33 min"
        assert countdown(-18 * 60) == "missed by 18 min"


def test_a_file_with_bad_rows_is_refused_in_chinese_with_its_count(
    client: FlaskClient, users: dict[str, User]
) -> None:
    login(client, "clerk")
    client.environ_base.update(ZH)
    answer = upload(
        client, "parts", "sku,name,unit_cost\nWEB-1,Head,12\nWEB-2,Belt,-3\nWEB-1,Fan,1\n"
    )
    assert answer.status_code == 422
    assert "文件有错误，未导入任何内容" in answer.text
    assert "2 行有错误（按行和列列在下方），未导入任何内容。" in answer.text


def test_a_form_without_its_token_is_refused_in_chinese(
    client: FlaskClient, users: dict[str, User]
) -> None:
    login(client, "clerk")
    answer = client.post("/desk/parts/ANY/moves", data={"qty": 1}, environ_base=ZH)
    assert answer.status_code == 400
    assert "表单缺少有效的安全令牌（缺少安全令牌）" in answer.text


def test_every_reason_the_planner_gives_has_its_words() -> None:
    from partsvc.routing.problem import Reason
    from partsvc.web.language import REASONS

    assert {reason.value for reason in Reason} <= set(REASONS)
