"""Field engineers (R26): each a user of role engineer, with a home base, skills, a shift
and a van."""

from __future__ import annotations

from datetime import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from partsvc.auth.identity import create_user
from partsvc.auth.models import Role
from partsvc.calls.models import Engineer
from partsvc.core.errors import Conflict, DuplicateKey, InvalidInput
from partsvc.inventory.catalog import create_location, get_location
from partsvc.inventory.rules import LocationKind
from partsvc.platform.db import flush_or_conflict, one_by_key


def get_engineer(session: Session, code: str) -> Engineer:
    return one_by_key(session, Engineer, Engineer.code, code, what="engineer", field="engineer")


def create_engineer(
    session: Session,
    *,
    code: str,
    name: str,
    home_lat: float,
    home_lon: float,
    skills: list[str],
    shift_start: time = time(9),
    shift_end: time = time(18),
    van: str | None = None,
    username: str | None = None,
) -> Engineer:
    """An engineer with a user account of role engineer and a van (created if none named).

    The account gets no token here: ``partsvc users token CODE`` issues one.
    """
    if session.scalar(select(Engineer.id).where(Engineer.code == code)) is not None:
        raise DuplicateKey(f"An engineer with code {code!r} already exists.", engineer=code)
    if shift_start >= shift_end:
        raise InvalidInput(
            "A shift must end after it starts.", errors={"shift_end": ["After shift_start."]}
        )
    user = create_user(session, username=username or code.lower(), role=Role.ENGINEER)
    engineer = Engineer(
        code=code,
        name=name,
        user_id=user.id,
        home_lat=home_lat,
        home_lon=home_lon,
        skills=sorted(set(skills)),
        shift_start=shift_start,
        shift_end=shift_end,
    )
    session.add(engineer)
    flush_or_conflict(session, f"An engineer with code {code!r} already exists.")
    if van is None:
        create_location(
            session,
            code=f"VAN-{code}",
            name=f"Van of {name}",
            kind=LocationKind.VAN,
            lat=home_lat,
            lon=home_lon,
            engineer_id=engineer.id,
        )
    else:
        location = get_location(session, van)
        if location.kind != LocationKind.VAN:
            raise InvalidInput(
                f"{van!r} is a {location.kind}, not a van.", errors={"van": ["Not a van."]}
            )
        if location.engineer_id is not None:
            raise Conflict(f"Van {van!r} already belongs to another engineer.", van=van)
        location.engineer_id = engineer.id
        session.flush()
    session.refresh(engineer)
    return engineer
