"""Documents render a few at a time (issue 23, finding 5): a user with enough renders
going gets 429 with Retry-After at once, on the API and the pages; a process with enough
gets 503; other users print on."""

from __future__ import annotations

from contextlib import ExitStack

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from partsvc.auth.models import User
from partsvc.http.renders import NoRenderTurn, Renders
from tests.conftest import AppMaker
from tests.web.conftest import login, users  # noqa: F401 - the fixture

PDF = "/calls/999999/service-record.pdf"


def test_a_user_has_at_most_their_turns_and_others_theirs(tmp_path: object) -> None:
    renders = Renders(per_process=5, per_user=2, shared_by=f"test {tmp_path}")
    with ExitStack() as held:
        held.enter_context(renders.turn(1))
        held.enter_context(renders.turn(1))
        with pytest.raises(NoRenderTurn) as refused:
            held.enter_context(renders.turn(1))
        assert refused.value.status == 429
        assert refused.value.extra["retry_after"] == 2
        held.enter_context(renders.turn(2))
    with renders.turn(1), renders.turn(1):  # the turns are given back
        pass


def test_a_process_renders_at_most_its_limit(tmp_path: object) -> None:
    renders = Renders(per_process=1, per_user=3, shared_by=f"test {tmp_path}")
    with renders.turn(1), pytest.raises(NoRenderTurn) as refused, renders.turn(2):
        pass
    assert refused.value.status == 503


def _engineer_id(session: Session, name: str) -> int:
    return session.scalar(select(User.id).where(User.username == name)) or 0


def test_the_api_answers_429_with_retry_after_while_the_users_turns_are_taken(
    make_app: AppMaker, auth: dict[str, dict[str, str]], session: Session
) -> None:
    app = make_app(renders_per_process=5)
    client = app.test_client()
    renders: Renders = app.extensions["partsvc.renders"]
    engineer = _engineer_id(session, "test-engineer")
    assert client.get(f"/api/v1{PDF}", headers=auth["engineer"]).status_code == 404
    with renders.turn(engineer), renders.turn(engineer):
        refused = client.get(f"/api/v1{PDF}", headers=auth["engineer"])
        assert refused.status_code == 429
        assert refused.content_type == "application/problem+json"
        assert refused.json["type"] == "/problems/too-many-renders"
        assert refused.headers["Retry-After"] == "2"
        assert client.get(f"/api/v1{PDF}", headers=auth["dispatcher"]).status_code == 404


def test_a_page_says_so_in_the_users_language(
    make_app: AppMaker,
    users: dict[str, User],  # noqa: F811 - the fixture
    session: Session,
) -> None:
    app = make_app(default_locale="zh_CN", renders_per_process=5)
    client = app.test_client()
    assert login(client, "engineer").status_code == 302
    renders: Renders = app.extensions["partsvc.renders"]
    with renders.turn(users["engineer"].id), renders.turn(users["engineer"].id):
        refused = client.get(f"/print{PDF}")
    assert refused.status_code == 429
    assert refused.headers["Retry-After"] == "2"
    assert "同时生成的文档过多" in refused.text
