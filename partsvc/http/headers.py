"""Security headers on every response, and the proxy in front of the app.

Every HTML page gets a Content-Security-Policy of ``default-src 'self'``: no inline script,
no inline style, nothing from elsewhere; the pages keep their CSS and JavaScript in
``partsvc/static``. The one exception is the API's Swagger UI, whose page (rendered by
flask-smorest) starts the UI with an inline script: that page's policy allows exactly
that script by its hash (and the data: images of its stylesheet).
Strict-Transport-Security is sent only on requests that came over HTTPS; behind a proxy,
the app believes X-Forwarded-Proto only when ``PARTSVC_PROXY_FIX`` says a proxy sets it.
"""

from __future__ import annotations

import base64
import hashlib
import re

from flask import Flask, Response, request
from werkzeug.middleware.proxy_fix import ProxyFix

POLICY = (
    "default-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'; "
    "object-src 'none'"
)
SWAGGER_UI = "api-docs.openapi_swagger_ui"
HSTS = "max-age=31536000; includeSubDomains"
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def install(app: Flask, *, behind_proxy: bool) -> None:
    if behind_proxy:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
    app.after_request(_secure)


def _secure(response: Response) -> Response:
    headers = response.headers
    headers["X-Content-Type-Options"] = "nosniff"
    if request.is_secure:
        headers["Strict-Transport-Security"] = HSTS
    if response.mimetype == "text/html":
        policy = POLICY
        if request.endpoint == SWAGGER_UI and not response.is_streamed:
            # Swagger UI's stylesheet draws its icons as data: SVG images.
            policy += "; img-src 'self' data:; script-src 'self' " + " ".join(
                _script_hashes(response.get_data())
            )
        headers["Content-Security-Policy"] = policy
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "same-origin"
    return response


def _script_hashes(page: bytes) -> list[str]:
    """The CSP hashes of a page's inline scripts (only for a page this app renders itself)."""
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(page)
    ]
