"""API tokens: listed, issued with an expiry, revoked; expired and revoked ones get 401."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from partsvc.audit.models import AuditEvent


def _issue(client, headers, **body):
    answer = client.post("/api/v1/tokens", json={"name": "laptop", **body}, headers=headers)
    assert answer.status_code == 201, answer.json
    return answer.json


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_a_new_token_is_shown_once_and_works(client, auth):
    issued = _issue(client, auth["clerk"])
    assert issued["token"].startswith("psv_")
    assert (issued["user"], issued["name"], issued["revoked_at"]) == ("test-clerk", "laptop", None)
    assert client.get("/api/v1/parts", headers=_bearer(issued["token"])).status_code == 200
    listed = client.get("/api/v1/tokens", headers=auth["clerk"]).json["items"]
    assert issued["id"] in [t["id"] for t in listed]
    assert all("token" not in t and "token_hash" not in t for t in listed)


def test_a_user_lists_only_their_own_tokens_and_an_admin_everyones(client, auth):
    _issue(client, auth["clerk"])
    own = client.get("/api/v1/tokens", headers=auth["clerk"]).json["items"]
    assert {t["user"] for t in own} == {"test-clerk"}
    everyone = client.get("/api/v1/tokens", headers=auth["admin"]).json["items"]
    assert {t["user"] for t in everyone} >= {"test-admin", "test-clerk", "test-engineer"}
    one = client.get("/api/v1/tokens", query_string={"user": "test-clerk"}, headers=auth["admin"])
    assert {t["user"] for t in one.json["items"]} == {"test-clerk"}
    peek = client.get("/api/v1/tokens", query_string={"user": "test-admin"}, headers=auth["clerk"])
    assert peek.status_code == 403
    unknown = client.get("/api/v1/tokens", query_string={"user": "nobody"}, headers=auth["admin"])
    assert unknown.status_code == 404


def test_an_expired_token_gets_401(client, auth, clock):
    expires = clock.now + timedelta(hours=1)
    issued = _issue(client, auth["engineer"], expires_at=expires.isoformat())
    assert client.get("/api/v1/parts", headers=_bearer(issued["token"])).status_code == 200
    clock.advance(hours=1)
    answer = client.get("/api/v1/parts", headers=_bearer(issued["token"]))
    assert answer.status_code == 401
    assert answer.content_type == "application/problem+json"


def test_a_token_cannot_be_issued_already_expired(client, auth, clock):
    past = (clock.now - timedelta(minutes=1)).isoformat()
    answer = client.post(
        "/api/v1/tokens", json={"name": "old", "expires_at": past}, headers=auth["clerk"]
    )
    assert answer.status_code == 422
    assert "expires_at" in answer.json["errors"]


def test_a_revoked_token_gets_401_and_revoking_it_twice_is_409(client, auth, clock):
    issued = _issue(client, auth["dispatcher"])
    revoke = f"/api/v1/tokens/{issued['id']}/revoke"
    answer = client.post(revoke, headers=_bearer(issued["token"]))
    assert answer.status_code == 200, answer.json
    assert answer.json["revoked_at"] is not None
    assert "token" not in answer.json
    assert client.get("/api/v1/parts", headers=_bearer(issued["token"])).status_code == 401
    assert client.post(revoke, headers=auth["dispatcher"]).status_code == 409


def test_nobody_but_the_owner_or_an_admin_revokes_a_token(client, auth):
    issued = _issue(client, auth["clerk"])
    revoke = f"/api/v1/tokens/{issued['id']}/revoke"
    assert client.post(revoke, headers=auth["engineer"]).status_code == 404
    assert client.get("/api/v1/parts", headers=_bearer(issued["token"])).status_code == 200
    assert client.post(revoke, headers=auth["admin"]).status_code == 200
    assert client.post("/api/v1/tokens/999999/revoke", headers=auth["admin"]).status_code == 404


def test_an_admin_issues_a_token_for_another_user_and_others_cannot(client, auth):
    issued = _issue(client, auth["admin"], user="test-engineer")
    assert issued["user"] == "test-engineer"
    mine = client.get("/api/v1/tokens", headers=_bearer(issued["token"])).json["items"]
    assert {t["user"] for t in mine} == {"test-engineer"}
    answer = client.post(
        "/api/v1/tokens", json={"name": "x", "user": "test-admin"}, headers=auth["clerk"]
    )
    assert answer.status_code == 403


def test_issuing_and_revoking_are_audited_with_who_did_it(client, auth, session):
    issued = _issue(client, auth["admin"], user="test-clerk")
    client.post(f"/api/v1/tokens/{issued['id']}/revoke", headers=auth["clerk"])
    session.expire_all()
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.subject_kind == "token", AuditEvent.subject_key == str(issued["id"]))
        .order_by(AuditEvent.id)
    )
    assert [(e.action, e.username, e.details["user"]) for e in events] == [
        ("token.issued", "test-admin", "test-clerk"),
        ("token.revoked", "test-clerk", "test-clerk"),
    ]


def test_a_token_needs_no_name_and_an_unknown_field_is_refused(client, auth):
    unnamed = client.post("/api/v1/tokens", json={}, headers=auth["clerk"])
    assert unnamed.status_code == 201, unnamed.json
    assert unnamed.json["name"] == ""
    odd = client.post("/api/v1/tokens", json={"scope": "all"}, headers=auth["clerk"])
    assert odd.status_code == 422
    assert "scope" in odd.json["errors"]
