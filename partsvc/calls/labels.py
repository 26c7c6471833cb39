"""A unit's QR label (issue 26): the token behind ``/r/{token}``, one per unit.

The token is random and never stored. The label row keeps a random nonce (128 bits) and
the SHA-256 of the token; the token is the HMAC-SHA256 of the nonce under the server's
secret key, so a label can be printed again at any time, while a copy of the database
alone names no working token. Revoking a label makes its page a 404; issuing it again
draws a new nonce, so the old printed code stops working.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from partsvc.audit import trail as audit
from partsvc.auth.identity import Caller
from partsvc.calls.customers import get_customer, get_equipment, get_site
from partsvc.calls.models import Equipment, Site
from partsvc.calls.report_models import UnitLabel

TOKEN_BYTES = 24
"""192 bits of the HMAC make the token (32 URL-safe characters)."""


def label_token(secret: str, nonce: str) -> str:
    """The token a label's nonce stands for under ``secret``."""
    digest = hmac.new(secret.encode(), b"unit-label:" + nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:TOKEN_BYTES]).decode().rstrip("=")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_label(
    session: Session, serial: str, *, secret: str, now: datetime, by: Caller | None
) -> UnitLabel:
    """Give a unit a new label token, revoking the one it had (a re-issue)."""
    unit = get_equipment(session, serial)
    label = session.scalar(
        select(UnitLabel).where(UnitLabel.equipment_id == unit.id).with_for_update(of=UnitLabel)
    )
    reissued = label is not None
    if label is None:
        label = UnitLabel(equipment_id=unit.id)
        session.add(label)
    label.nonce = secrets.token_hex(16)
    label.token_hash = token_hash(label_token(secret, label.nonce))
    label.issued_at = now
    label.issued_by_id = by.id if by else None
    label.revoked_at = None
    session.flush()
    audit.record(
        session,
        "unit_label.reissued" if reissued else "unit_label.issued",
        kind="equipment",
        key=unit.serial,
        details={"at": now},
    )
    return label


def revoke_label(session: Session, serial: str, *, now: datetime) -> UnitLabel | None:
    """Stop a unit's label working (its page becomes a 404); None if it had none."""
    unit = get_equipment(session, serial)
    label = session.scalar(
        select(UnitLabel).where(UnitLabel.equipment_id == unit.id).with_for_update(of=UnitLabel)
    )
    if label is None or label.revoked_at is not None:
        return label
    label.revoked_at = now
    session.flush()
    audit.record(
        session, "unit_label.revoked", kind="equipment", key=unit.serial, details={"at": now}
    )
    return label


def label_of(session: Session, unit: Equipment) -> UnitLabel | None:
    return session.scalar(select(UnitLabel).where(UnitLabel.equipment_id == unit.id))


def unit_for_token(session: Session, token: str) -> Equipment | None:
    """The unit a scanned label names, if the label is in force; None otherwise."""
    if not token or len(token) > 100:
        return None
    label = session.scalar(
        select(UnitLabel).where(
            UnitLabel.token_hash == token_hash(token), UnitLabel.revoked_at.is_(None)
        )
    )
    return label.equipment if label is not None else None


def units_of(
    session: Session, *, site: str | None = None, customer: str | None = None
) -> list[Equipment]:
    """A site's or a customer's units still installed (not swapped out), by serial."""
    query = select(Equipment).where(Equipment.replaced_by_id.is_(None)).order_by(Equipment.serial)
    if site is not None:
        return list(session.scalars(query.where(Equipment.site_id == get_site(session, site).id)))
    owner = get_customer(session, customer or "")
    return list(session.scalars(query.join(Site).where(Site.customer_id == owner.id)))


def issue_missing_labels(
    session: Session,
    units: Sequence[Equipment],
    *,
    secret: str,
    now: datetime,
    by: Caller | None,
) -> int:
    """Issue a label to each unit that has none in force; how many were issued."""
    issued = 0
    for unit in units:
        label = label_of(session, unit)
        if label is None or label.revoked_at is not None:
            issue_label(session, unit.serial, secret=secret, now=now, by=by)
            issued += 1
    return issued


def labels_in_force(
    session: Session, units: Sequence[Equipment], *, secret: str
) -> list[tuple[Equipment, str]]:
    """Each unit with a label in force, with its token (to print); others are left out."""
    printed = []
    for unit in units:
        label = label_of(session, unit)
        if label is not None and label.revoked_at is None:
            printed.append((unit, label_token(secret, label.nonce)))
    return printed
