"""The customer file of a first day: engineers, customers with their contract, sites and
installed equipment, imported from CSV and exported to it in the same columns.

Each file is imported whole or not at all, as the parts file is: every row is read and
checked against the file and the database, one bad row refuses the file with every
problem listed (``InvalidRows``), and only then is each row created through the same
services a dispatcher's form uses, in the caller's transaction. A contract may start in
the past here (a customer gold since 2024 is entered as such), which a change of
contract never does. The export writes what an import reads, so the file of one
instance imports into another.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from partsvc.auth.models import User
from partsvc.calls.customers import create_customer, create_equipment, create_site
from partsvc.calls.engineers import create_engineer
from partsvc.calls.models import Customer, Engineer, Equipment, Site
from partsvc.core.errors import InvalidInput
from partsvc.inventory.catalog import create_location
from partsvc.inventory.models import Location, Part
from partsvc.inventory.rules import LocationKind
from partsvc.workflows.imports import customer_rules as rules
from partsvc.workflows.imports.csvfile import Problems, read_rows
from partsvc.workflows.imports.importer import _refuse_if_any

KINDS = tuple(rules.FILES)
_BATCH = 500


@dataclass(frozen=True)
class CustomerFileImported:
    """What an import of one file of the customer file created, or would create."""

    kind: str
    dry_run: bool
    rows: int
    created: int
    to_place: int = 0
    """Sites among them known only by their address, to be placed on the map later."""


def import_file(
    session: Session, kind: str, data: bytes, *, dry_run: bool, today: date
) -> CustomerFileImported:
    """Create every row of one file of the customer file (``kind`` one of ``KINDS``), or
    none: ``InvalidRows`` lists every bad row by row and column."""
    if kind not in rules.FILES:
        raise InvalidInput(f"No such file of the customer file: {kind!r}.", errors={"kind": [kind]})
    problems = Problems()
    rows = read_rows(data, rules.FILES[kind], problems)
    parse, check, create = _STEPS[kind]
    found = parse(rows, problems)
    if found and not problems:
        check(session, found, problems)
    _refuse_if_any(problems, len(rows))
    if not dry_run:
        for item in found:
            create(session, item, today)
        session.flush()
    to_place = sum(1 for item in found if isinstance(item, rules.SiteRow) and not item.placed)
    return CustomerFileImported(
        kind=kind, dry_run=dry_run, rows=len(rows), created=len(found), to_place=to_place
    )


def _existing(session: Session, column: Any, values: Sequence[str]) -> set[str]:
    """Which of ``values`` the ``column`` already holds."""
    taken: set[str] = set()
    for start in range(0, len(values), 1000):
        taken.update(
            session.scalars(select(column).where(column.in_(values[start : start + 1000])))
        )
    return taken


def _taken(
    problems: Problems, items: Sequence[Any], attr: str, column: str, taken: set[str], what: str
) -> None:
    for item in items:
        value = getattr(item, attr)
        if value and value in taken:
            problems.add(item.row, column, f"{what} {value!r} already exists.")


def _missing(
    problems: Problems, items: Sequence[Any], attr: str, known: set[str], what: str
) -> None:
    for item in items:
        value = getattr(item, attr)
        if value and value not in known:
            problems.add(item.row, attr, f"No {what} with code {value!r}.")


# ---------------------------------------------------------------- engineers


def _check_engineers(
    session: Session, found: Sequence[rules.EngineerRow], problems: Problems
) -> None:
    codes = [item.code for item in found]
    _taken(problems, found, "code", "code", _existing(session, Engineer.code, codes), "Engineer")
    names = [item.username or item.code.lower() for item in found]
    users = _existing(session, User.username, names)
    for item, name in zip(found, names, strict=True):
        if name in users:
            problems.add(item.row, "username", f"A user named {name!r} already exists.")
    vans = {item.van for item in found if item.van}
    places = {
        row.code: row
        for row in session.execute(
            select(Location.code, Location.kind, Location.engineer_id).where(
                Location.code.in_(vans)
            )
        )
    }
    for item in found:
        place = places.get(item.van or "")
        if place is None:
            continue
        if place.kind != LocationKind.VAN:
            problems.add(item.row, "van", f"{item.van} is a {place.kind}, not a van.")
        elif place.engineer_id is not None:
            problems.add(item.row, "van", f"Van {item.van} already belongs to another engineer.")


def _create_engineer(session: Session, item: rules.EngineerRow, today: date) -> None:
    if item.van and session.scalar(select(Location.id).where(Location.code == item.van)) is None:
        create_location(
            session,
            code=item.van,
            name=f"Van of {item.name}"[:200],
            kind=LocationKind.VAN,
            lat=item.home_lat,
            lon=item.home_lon,
        )
    create_engineer(
        session,
        code=item.code,
        name=item.name,
        home_lat=item.home_lat,
        home_lon=item.home_lon,
        skills=list(item.skills),
        shift_start=item.shift_start,
        shift_end=item.shift_end,
        van=item.van,
        username=item.username,
    )


# ---------------------------------------------------------------- customers


def _check_customers(
    session: Session, found: Sequence[rules.CustomerRow], problems: Problems
) -> None:
    codes = [item.code for item in found]
    _taken(problems, found, "code", "code", _existing(session, Customer.code, codes), "Customer")
    wanted = sorted({item.designated_engineer for item in found if item.designated_engineer})
    _missing(
        problems,
        found,
        "designated_engineer",
        _existing(session, Engineer.code, wanted),
        "engineer",
    )


def _create_customer(session: Session, item: rules.CustomerRow, today: date) -> None:
    assert item.contract_starts_on is not None  # checked: a required cell
    create_customer(
        session,
        code=item.code,
        name=item.name,
        tier=item.tier,
        contract_starts_on=item.contract_starts_on,
        designated_engineer=item.designated_engineer,
        regional_fee=item.regional_fee,
        visit_every_months=item.visit_every_months,
    )


# ---------------------------------------------------------------- sites


def _check_sites(session: Session, found: Sequence[rules.SiteRow], problems: Problems) -> None:
    codes = [item.code for item in found]
    _taken(problems, found, "code", "code", _existing(session, Site.code, codes), "Site")
    places = _existing(session, Location.code, codes) - _existing(session, Site.code, codes)
    _taken(problems, found, "code", "code", places, "A stock location")
    owners = sorted({item.customer for item in found if item.customer})
    _missing(problems, found, "customer", _existing(session, Customer.code, owners), "customer")


def _create_site(session: Session, item: rules.SiteRow, today: date) -> None:
    create_site(
        session,
        code=item.code,
        customer=item.customer,
        address=item.address,
        lat=item.lat,
        lon=item.lon,
        region=item.region,
    )


# ---------------------------------------------------------------- equipment


def _check_equipment(
    session: Session, found: Sequence[rules.EquipmentRow], problems: Problems
) -> None:
    serials = [item.serial for item in found]
    _taken(
        problems,
        found,
        "serial",
        "serial",
        _existing(session, Equipment.serial, serials),
        "Equipment",
    )
    skus = sorted({item.sku for item in found if item.sku})
    known = _existing(session, Part.sku, skus)
    for item in found:
        if item.sku and item.sku not in known:
            problems.add(item.row, "sku", f"No part with SKU {item.sku!r}; import the parts first.")
    sites = sorted({item.site for item in found if item.site})
    _missing(problems, found, "site", _existing(session, Site.code, sites), "site")


def _create_equipment(session: Session, item: rules.EquipmentRow, today: date) -> None:
    assert item.installed_on is not None  # checked: a required cell
    unit = create_equipment(
        session, serial=item.serial, sku=item.sku, site=item.site, installed_on=item.installed_on
    )
    if item.warranty_until is not None:
        unit.warranty_until = item.warranty_until
    if item.maintenance_until is not None:
        unit.maintenance_until = item.maintenance_until


_STEPS: dict[str, tuple[Callable[..., Any], Callable[..., None], Callable[..., None]]] = {
    "engineers": (rules.parse_engineers, _check_engineers, _create_engineer),
    "customers": (rules.parse_customers, _check_customers, _create_customer),
    "sites": (rules.parse_sites, _check_sites, _create_site),
    "equipment": (rules.parse_equipment, _check_equipment, _create_equipment),
}


# ---------------------------------------------------------------- export


def columns(kind: str) -> tuple[str, ...]:
    """The columns of one file of the customer file, as the import reads them."""
    return rules.FILES[kind].known


def rows(session: Session, kind: str, *, today: date) -> Iterator[list[Any]]:
    """The rows of one file of the customer file, in its columns, a batch at a time."""
    return _EXPORTS[kind](session, today)


def _streamed(session: Session, query: Any) -> Iterator[Any]:
    return iter(session.scalars(query.execution_options(yield_per=_BATCH)))


def _engineer_rows(session: Session, today: date) -> Iterator[list[Any]]:
    for engineer in _streamed(session, select(Engineer).order_by(Engineer.code)):
        yield [
            engineer.code,
            engineer.name,
            engineer.home_lat,
            engineer.home_lon,
            " ".join(engineer.skills or ()),
            engineer.shift_start.strftime("%H:%M"),
            engineer.shift_end.strftime("%H:%M"),
            engineer.van.code if engineer.van else None,
            engineer.user.username if engineer.user else None,
        ]


def _customer_rows(session: Session, today: date) -> Iterator[list[Any]]:
    for customer in _streamed(session, select(Customer).order_by(Customer.code)):
        contract = customer.contract_on(today) or next(iter(customer.contracts), None)
        if contract is None:
            yield [customer.code, customer.name, "none", customer.created_at.date().isoformat()]
            continue
        engineer = contract.designated_engineer
        yield [
            customer.code,
            customer.name,
            contract.tier,
            contract.starts_on.isoformat(),
            engineer.code if engineer else None,
            "yes" if contract.regional_fee else "no",
            contract.visit_every_months,
        ]


def _site_rows(session: Session, today: date) -> Iterator[list[Any]]:
    query = (
        select(Site.code, Customer.code, Site.address, Site.lat, Site.lon, Site.region)
        .join(Customer, Customer.id == Site.customer_id)
        .order_by(Site.code)
    )
    for row in session.execute(query.execution_options(yield_per=_BATCH)):
        yield list(row)


def _equipment_rows(session: Session, today: date) -> Iterator[list[Any]]:
    query = (
        select(
            Equipment.serial,
            Part.sku,
            Site.code,
            Equipment.installed_on,
            Equipment.warranty_until,
            Equipment.maintenance_until,
        )
        .join(Part, Part.id == Equipment.part_id)
        .join(Site, Site.id == Equipment.site_id)
        .order_by(Equipment.serial)
    )
    for row in session.execute(query.execution_options(yield_per=_BATCH)):
        yield [row[0], row[1], row[2], *(day.isoformat() for day in row[3:])]


_EXPORTS: dict[str, Callable[[Session, date], Iterator[list[Any]]]] = {
    "engineers": _engineer_rows,
    "customers": _customer_rows,
    "sites": _site_rows,
    "equipment": _equipment_rows,
}
