"""Printable documents (PRODUCT.md section 7): Jinja templates in templates/documents/
with one print stylesheet, rendered to PDF by WeasyPrint.

Rendering fetches nothing from outside: ``SafeFetcher`` serves only files inside the
package's static folder, and refuses every other ``file:`` path and every network URL,
so a name or address a customer typed cannot make the server read /etc/passwd or call
out. Fonts come from the system (Noto CJK for Chinese); charts and QR codes are inline SVG.
"""

from __future__ import annotations

import logging
import mimetypes
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
STATIC = Path(__file__).resolve().parents[1] / "static"
PRINT_CSS = STATIC / "print.css"

log = logging.getLogger(__name__)


class SafeFetcher(URLFetcher):  # type: ignore[misc]
    """Only the package's own static files; anything else is refused (and not rendered)."""

    def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
        parts = urlsplit(url)
        if parts.scheme == "file":
            path = Path(unquote(parts.path)).resolve()
            if path.is_relative_to(STATIC.resolve()) and path.is_file():
                kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": kind})
        log.warning(
            "document asked for %s: refused, only the package's static files load", url[:200]
        )
        raise ValueError(f"not fetched: {url[:200]}")


_environment = Environment(
    loader=FileSystemLoader(str(TEMPLATES)),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_stylesheet: CSS | None = None


def _local(moment: datetime | None, zone: ZoneInfo, style: str = "%Y-%m-%d %H:%M") -> str:
    """A time as the deployment's clocks show it."""
    return moment.astimezone(zone).strftime(style) if moment is not None else ""


_environment.filters["local"] = _local


def render_pdf(template: str, **context: Any) -> bytes:
    """``templates/documents/<template>`` with ``context``, as a PDF."""
    global _stylesheet
    if _stylesheet is None:
        _stylesheet = CSS(filename=str(PRINT_CSS), url_fetcher=SafeFetcher())
    html = _environment.get_template(f"documents/{template}").render(**context)
    document = HTML(string=html, base_url=STATIC.as_uri() + "/", url_fetcher=SafeFetcher())
    pdf: bytes = document.write_pdf(stylesheets=[_stylesheet])
    return pdf
