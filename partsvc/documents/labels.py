"""QR labels for installed units (issue 26): one label sized for a label printer, or a
sheet of them on A4 for a site or a customer. Each carries the unit's model and serial,
the service hotline, and a QR code of the unit's report page, ``{public_url}/r/{token}``."""

from __future__ import annotations

from collections.abc import Sequence

from partsvc.calls.models import Equipment
from partsvc.documents.papers import qr_svg
from partsvc.documents.render import render_pdf


def report_url(public_url: str, token: str) -> str:
    """The page a unit's QR code opens."""
    return f"{public_url.rstrip('/')}/r/{token}"


def unit_labels(
    labelled: Sequence[tuple[Equipment, str]], *, public_url: str, hotline: str, sheet: bool
) -> bytes:
    """The labels of ``labelled`` (each unit with its token) as a PDF."""
    labels = [
        {
            "unit": unit,
            "url": report_url(public_url, token),
            "qr": qr_svg(report_url(public_url, token)),
        }
        for unit, token in labelled
    ]
    return render_pdf("unit_labels.html", labels=labels, hotline=hotline, sheet=sheet)
