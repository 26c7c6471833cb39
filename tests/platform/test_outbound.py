"""The one way the service POSTs outward: signed, http(s) only, nothing inside the
network unless allowed; and how a receiver checks the signature."""

from __future__ import annotations

import time

import pytest

from partsvc.platform.notify import DeliveryFailed, post_signed
from partsvc.platform.signing import signature, verify

BODY = b'{"id": "evt_1", "type": "call.received"}'


def test_a_signature_holds_for_its_body_and_secret_and_only_for_a_while():
    now = int(time.time())
    header = signature("s3cret", now, BODY)
    assert header.startswith(f"t={now},v1=")
    assert verify("s3cret", header, BODY)
    assert not verify("s3cret", header, BODY + b" ")  # the body changed
    assert not verify("other", header, BODY)  # another secret
    assert not verify("s3cret", signature("s3cret", now - 301, BODY), BODY)  # replayed later
    assert not verify("s3cret", "v1=abc", BODY)  # no timestamp


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9/hook", "http://localhost:9/hook", "http://[::1]:9/", "http://10.1.2.3/"],
)
def test_an_address_inside_the_network_is_refused_for_good_before_connecting(url):
    with pytest.raises(DeliveryFailed) as refused:
        post_signed(url, "s3cret", BODY, timeout_s=0.2, allow_private=False)
    assert refused.value.final and "inside the network" in str(refused.value)


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "gopher://a/"])
def test_only_http_and_https_are_ever_requested(url):
    with pytest.raises(ValueError, match="http"):
        post_signed(url, "s3cret", BODY, timeout_s=0.2, allow_private=True)
