"""Printable documents (PRODUCT.md section 7): Jinja templates in templates/documents/
with one print stylesheet, rendered to PDF by WeasyPrint.

Rendering fetches nothing from outside: its fetcher serves only files inside the
package's static folder, and refuses every other ``file:`` path and every network URL,
so a name or address a customer typed cannot make the server read /etc/passwd or call
out. Fonts come from the system (Noto CJK for Chinese); charts and QR codes are inline SVG.
"""

from __future__ import annotations

import functools
import logging
import mimetypes
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape

from partsvc.platform.resources import STATIC, TEMPLATES

PRINT_CSS = STATIC / "print.css"

log = logging.getLogger(__name__)


def static_file(url: str) -> Path | None:
    """The package's static file a ``file:`` URL names, or None for anything else."""
    parts = urlsplit(url)
    if parts.scheme != "file":
        return None
    path = Path(unquote(parts.path)).resolve()
    return path if path.is_relative_to(STATIC.resolve()) and path.is_file() else None


@functools.cache
def _weasyprint() -> tuple[Any, Any, Any]:
    """WeasyPrint (HTML, the safe fetcher, the stylesheet), loaded at the first document:
    importing it takes about a second and needs Pango, which a process that never prints
    (a sweep, a worker that only serves JSON) should not pay for."""
    from weasyprint import CSS, HTML
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class SafeFetcher(URLFetcher):  # type: ignore[misc]
        """Only the package's own static files; anything else is refused (and not drawn)."""

        def fetch(self, url: str, headers: dict[str, str] | None = None) -> URLFetcherResponse:
            path = static_file(url)
            if path is None:
                log.warning(
                    "document asked for %s: refused, only the package's static files load",
                    url[:200],
                )
                raise ValueError(f"not fetched: {url[:200]}")
            kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": kind})

    stylesheet = CSS(filename=str(PRINT_CSS), url_fetcher=SafeFetcher())
    return HTML, SafeFetcher, stylesheet


_environment = Environment(
    loader=FileSystemLoader(str(TEMPLATES)),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def local_text(moment: datetime | None, zone: ZoneInfo, style: str = "%Y-%m-%d %H:%M") -> str:
    """A time as the deployment's clocks show it."""
    return moment.astimezone(zone).strftime(style) if moment is not None else ""


_environment.filters["local"] = local_text


def render_pdf(template: str, **context: Any) -> bytes:
    """``templates/documents/<template>`` with ``context``, as a PDF."""
    html_document, fetcher, stylesheet = _weasyprint()
    html = _environment.get_template(f"documents/{template}").render(**context)
    document = html_document(string=html, base_url=STATIC.as_uri() + "/", url_fetcher=fetcher())
    pdf: bytes = document.write_pdf(stylesheets=[stylesheet])
    return pdf
