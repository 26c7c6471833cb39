"""What makes a row of the customer file right: engineers, customers with their
contract, sites and installed equipment. No database, no Flask.

The customer file is the first day's other half, after parts and stock. Like the parts
file, each check adds a problem to the row and column at fault and goes on; what the
database already holds is looked up by ``customer_file`` and checked there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, time

from partsvc.calls.rules import Tier
from partsvc.workflows.imports import csvfile
from partsvc.workflows.imports.csvfile import CellError, Columns, Problems, Row
from partsvc.workflows.imports.rules import _cell, _first_or_duplicate, _optional, _required

ENGINEER_COLUMNS = Columns(
    required=("code", "name", "home_lat", "home_lon"),
    optional=("skills", "shift_start", "shift_end", "van", "username"),
)
CUSTOMER_COLUMNS = Columns(
    required=("code", "name", "tier", "contract_starts_on"),
    optional=("designated_engineer", "regional_fee", "visit_every_months"),
)
SITE_COLUMNS = Columns(required=("code", "customer", "address"), optional=("lat", "lon", "region"))
"""A site without lat and lon is known only by its address: an operator places it later."""

NOT_PLACED_WHOLE = "Give both lat and lon, or leave both empty for the site to be placed later."
EQUIPMENT_COLUMNS = Columns(
    required=("serial", "sku", "site", "installed_on"),
    optional=("warranty_until", "maintenance_until"),
)
FILES = {
    "engineers": ENGINEER_COLUMNS,
    "customers": CUSTOMER_COLUMNS,
    "sites": SITE_COLUMNS,
    "equipment": EQUIPMENT_COLUMNS,
}
"""The four files of the customer file, in the order they are imported."""

EARLIEST = date(1990, 1, 1)
LATEST = date(2100, 12, 31)
_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::00)?")


def a_date(value: str) -> date:
    """``2024-03-01`` (or 2024/3/1, as Excel in China writes it)."""
    match = _DATE.fullmatch(value)
    try:
        if match is None:
            raise ValueError
        day = date(*(int(part) for part in match.groups()))
    except ValueError:
        raise CellError(f"{value[:40]!r} is not a date: write it as 2024-03-01.") from None
    if not EARLIEST <= day <= LATEST:
        raise CellError(f"{value} is out of range: from {EARLIEST} to {LATEST}.")
    return day


def a_time(value: str) -> time:
    """``08:30``."""
    match = _TIME.fullmatch(value)
    try:
        if match is None:
            raise ValueError
        return time(int(match[1]), int(match[2]))
    except ValueError:
        raise CellError(f"{value[:40]!r} is not a time of day: write it as 08:30.") from None


def degrees(low: float, high: float):  # type: ignore[no-untyped-def]
    def parse(value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            raise CellError(f"{value[:40]!r} is not a number of degrees.") from None
        if not low <= number <= high:
            raise CellError(f"{value[:40]} is out of range: from {low} to {high}.")
        return number

    return parse


def a_tier(value: str) -> str:
    if value.lower() not in set(Tier):
        raise CellError(f"{value[:40]!r} is not a tier: {', '.join(Tier)}.")
    return value.lower()


# ---------------------------------------------------------------- rows


@dataclass(frozen=True)
class EngineerRow:
    row: int
    code: str
    name: str
    home_lat: float
    home_lon: float
    skills: tuple[str, ...]
    shift_start: time
    shift_end: time
    van: str | None
    username: str | None


@dataclass(frozen=True)
class CustomerRow:
    row: int
    code: str
    name: str
    tier: str
    contract_starts_on: date | None
    designated_engineer: str | None
    regional_fee: bool
    visit_every_months: int | None


@dataclass(frozen=True)
class SiteRow:
    row: int
    code: str
    customer: str
    address: str
    lat: float | None
    lon: float | None
    region: str | None

    @property
    def placed(self) -> bool:
        return self.lat is not None


@dataclass(frozen=True)
class EquipmentRow:
    row: int
    serial: str
    sku: str
    site: str
    installed_on: date | None
    warranty_until: date | None
    maintenance_until: date | None


def parse_engineers(rows: Iterable[Row], problems: Problems) -> list[EngineerRow]:
    found: list[EngineerRow] = []
    first: dict[str, int] = {}
    for row in rows:
        code = _cell(row, "code", _required(csvfile.key), problems, "")
        start = _cell(row, "shift_start", _optional(a_time), problems, None) or time(9)
        end = _cell(row, "shift_end", _optional(a_time), problems, None) or time(18)
        if start >= end:
            problems.add(row.number, "shift_end", "A shift must end after it starts.")
        skills = []
        for skill in csvfile.serial_list(row["skills"]):
            try:
                skills.append(csvfile.key(skill))
            except CellError as error:
                problems.add(row.number, "skills", str(error))
        found.append(
            EngineerRow(
                row=row.number,
                code=code,
                name=_cell(row, "name", _required(lambda v: csvfile.text(v, 200)), problems, ""),
                home_lat=_cell(row, "home_lat", _required(degrees(-90, 90)), problems, 0.0),
                home_lon=_cell(row, "home_lon", _required(degrees(-180, 180)), problems, 0.0),
                skills=tuple(sorted(set(skills))),
                shift_start=start,
                shift_end=end,
                van=_cell(row, "van", _optional(csvfile.key), problems, None),
                username=_cell(row, "username", _optional(csvfile.key), problems, None),
            )
        )
        if code:
            _first_or_duplicate(first, code, row.number, "code", "Engineer", problems)
    return found


def parse_customers(rows: Iterable[Row], problems: Problems) -> list[CustomerRow]:
    found: list[CustomerRow] = []
    first: dict[str, int] = {}
    for row in rows:
        code = _cell(row, "code", _required(csvfile.key), problems, "")
        tier = _cell(row, "tier", _required(a_tier), problems, "")
        designated = _cell(row, "designated_engineer", _optional(csvfile.key), problems, None)
        if designated and tier and tier != Tier.GOLD:
            problems.add(
                row.number,
                "designated_engineer",
                "Only a gold contract names a designated engineer (R19).",
            )
        found.append(
            CustomerRow(
                row=row.number,
                code=code,
                name=_cell(row, "name", _required(lambda v: csvfile.text(v, 200)), problems, ""),
                tier=tier,
                contract_starts_on=_cell(
                    row, "contract_starts_on", _required(a_date), problems, None
                ),
                designated_engineer=designated,
                regional_fee=_cell(row, "regional_fee", csvfile.yes_no, problems, False),
                visit_every_months=_cell(
                    row,
                    "visit_every_months",
                    _optional(lambda v: csvfile.whole_number(v, 1, 120)),
                    problems,
                    None,
                ),
            )
        )
        if code:
            _first_or_duplicate(first, code, row.number, "code", "Customer", problems)
    return found


def parse_sites(rows: Iterable[Row], problems: Problems) -> list[SiteRow]:
    found: list[SiteRow] = []
    first: dict[str, int] = {}
    for row in rows:
        code = _cell(row, "code", _required(csvfile.key), problems, "")
        lat = _cell(row, "lat", _optional(degrees(-90, 90)), problems, None)
        lon = _cell(row, "lon", _optional(degrees(-180, 180)), problems, None)
        if bool(row["lat"]) != bool(row["lon"]):
            problems.add(row.number, "lon" if row["lat"] else "lat", NOT_PLACED_WHOLE)
        found.append(
            SiteRow(
                row=row.number,
                code=code,
                customer=_cell(row, "customer", _required(csvfile.key), problems, ""),
                address=_cell(
                    row, "address", _required(lambda v: csvfile.text(v, 500)), problems, ""
                ),
                lat=lat if lon is not None else None,
                lon=lon if lat is not None else None,
                region=_cell(row, "region", _optional(csvfile.key), problems, None),
            )
        )
        if code:
            _first_or_duplicate(first, code, row.number, "code", "Site", problems)
    return found


def parse_equipment(rows: Iterable[Row], problems: Problems) -> list[EquipmentRow]:
    found: list[EquipmentRow] = []
    first: dict[str, int] = {}
    for row in rows:
        serial = _cell(row, "serial", _required(lambda v: csvfile.key(v, 100)), problems, "")
        installed = _cell(row, "installed_on", _required(a_date), problems, None)
        warranty = _cell(row, "warranty_until", _optional(a_date), problems, None)
        if installed and warranty and warranty < installed:
            problems.add(row.number, "warranty_until", "The warranty ends before the install.")
        found.append(
            EquipmentRow(
                row=row.number,
                serial=serial,
                sku=_cell(row, "sku", _required(csvfile.key), problems, ""),
                site=_cell(row, "site", _required(csvfile.key), problems, ""),
                installed_on=installed,
                warranty_until=warranty,
                maintenance_until=_cell(
                    row, "maintenance_until", _optional(a_date), problems, None
                ),
            )
        )
        if serial:
            _first_or_duplicate(first, serial, row.number, "serial", "Serial", problems)
    return found
