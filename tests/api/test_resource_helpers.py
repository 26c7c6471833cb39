"""Request fingerprints, cursors and problem details, without a database."""

from __future__ import annotations

import pytest

from partsvc.api import idempotency
from partsvc.api.resource import decode_cursor, encode_cursor
from partsvc.core.errors import InvalidInput
from partsvc.http.problems import _flatten_messages


def test_the_same_json_spaced_or_ordered_differently_has_one_fingerprint():
    a = idempotency.fingerprint("POST", "/api/v1/moves", b'{"qty": 1, "sku": "A"}')
    b = idempotency.fingerprint("POST", "/api/v1/moves", b'{ "sku":"A","qty":1 }')
    assert a == b


def test_a_different_body_path_or_method_has_another_fingerprint():
    base = idempotency.fingerprint("POST", "/api/v1/moves", b'{"qty": 1}')
    assert base != idempotency.fingerprint("POST", "/api/v1/moves", b'{"qty": 2}')
    assert base != idempotency.fingerprint("POST", "/api/v1/parts", b'{"qty": 1}')
    assert base != idempotency.fingerprint("PUT", "/api/v1/moves", b'{"qty": 1}')


def test_a_body_that_is_not_json_still_has_a_fingerprint():
    assert idempotency.fingerprint("POST", "/x", b"\xff\xfe") != idempotency.fingerprint(
        "POST", "/x", b""
    )


@pytest.mark.parametrize("key", ["", "x" * 256, "new\nline"])
def test_a_malformed_idempotency_key_is_refused(key):
    with pytest.raises(InvalidInput):
        idempotency.check_key(key)


@pytest.mark.parametrize("last_id", [1, 42, 2**31 - 1])
def test_a_cursor_gives_back_the_id_it_was_made_from(last_id):
    assert decode_cursor(encode_cursor(last_id)) == last_id


@pytest.mark.parametrize("cursor", ["nonsense", "eyJpZCI6ICJ4In0", "e30", "!!!"])
def test_a_cursor_we_did_not_make_is_invalid_input(cursor):
    with pytest.raises(InvalidInput):
        decode_cursor(cursor)


def test_validation_messages_are_flattened_to_field_names():
    messages = {"json": {"qty": ["Too small."]}, "query": {"limit": ["Too big."]}}
    assert _flatten_messages(messages) == {"qty": ["Too small."], "limit": ["Too big."]}
