"""Import endpoints: a clerk's parts catalogue and opening stock as CSV files."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_smorest import Blueprint

from partsvc.api import imports_schemas as schemas
from partsvc.api.resource import Resource, allow
from partsvc.core.errors import InvalidInput
from partsvc.http import exports
from partsvc.http.context import current_session, current_user, now, today, zone
from partsvc.workflows.imports import customer_file, importer
from partsvc.workflows.imports.customer_rules import ENGINEER_COLUMNS
from partsvc.workflows.imports.rules import PART_COLUMNS, STOCK_COLUMNS

blp = Blueprint(
    "imports",
    __name__,
    url_prefix="/api/v1",
    description="CSV imports of a first day: parts, opening stock, the customer file",
)

CLERKS = ("admin", "clerk")

MAX_FILE_BYTES = 16 * 1024 * 1024
"""An import's body may be this big (the app's limit for other requests is 2 MB): 20,000
parts with English and Chinese names are about 2 MB, with room for long names and serials."""


def _body(columns: tuple[str, ...], example: str) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "description": (
                "A CSV file, as the body (text/csv) or as the form field `file` of a "
                f"multipart upload. Columns: {', '.join(columns)}. UTF-8 (with or without "
                "a BOM), separated by commas, semicolons or tabs; the header row is row 1."
            ),
            "content": {
                "text/csv": {"schema": {"type": "string"}, "example": example},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                },
            },
        }
    }


def uploaded_file() -> tuple[bytes, str | None]:
    """The CSV file of the request, and its name when it came as a multipart upload."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file") or next(iter(request.files.values()), None)
        if upload is None:
            raise InvalidInput(
                "Send the CSV file in the form field 'file'.", errors={"file": ["Missing."]}
            )
        return upload.read(), upload.filename
    return request.get_data(), None


@blp.route("/imports/parts")
class PartsImport(Resource):
    max_content_length = MAX_FILE_BYTES

    @allow(*CLERKS)
    @blp.arguments(schemas.ImportQuery, location="query")
    @blp.response(201, schemas.PartsImportOut)
    @blp.alt_response(200, schema=schemas.PartsImportOut, description="A dry run's answer.")
    @blp.doc(
        **_body(PART_COLUMNS.known, "sku,name,name_zh,unit_cost\nPH-100,Print head,打印头,1850\n")
    )
    def post(self, query: dict[str, Any]) -> Any:
        """Create every part of a CSV file, or none.

        One bad row refuses the file: 422 with `errors` by row (as a spreadsheet numbers
        them, the header being row 1) and column. `dry_run=true` checks the file and says
        what would be created (200), writing nothing.
        """
        data, _ = uploaded_file()
        result = importer.import_parts(current_session(), data, dry_run=query["dry_run"], now=now())
        return result, 200 if result.dry_run else 201


@blp.route("/imports/stock")
class StockImport(Resource):
    max_content_length = MAX_FILE_BYTES

    @allow(*CLERKS)
    @blp.arguments(schemas.ImportQuery, location="query")
    @blp.response(201, schemas.StockImportOut)
    @blp.alt_response(200, schema=schemas.StockImportOut, description="A dry run's answer.")
    @blp.doc(**_body(STOCK_COLUMNS.known, "sku,location,qty,serials\nPH-100,WH-SH,2,SN1 SN2\n"))
    def post(self, query: dict[str, Any]) -> Any:
        """Book the opening stock of a CSV file into warehouses and vans, or nothing.

        Each part and location gets one move from the adjustment location, whose
        reference names the import. A serialized part lists its serials (one row per
        serial, or several in one cell). One bad row refuses the file: 422 with `errors`
        by row and column. `dry_run=true` checks it and says what would be booked (200).
        """
        data, name = uploaded_file()
        result = importer.import_stock(
            current_session(),
            data,
            dry_run=query["dry_run"],
            now=now(),
            today=today(),
            by=current_user(),
            source=name,
            zone=zone(),
        )
        return result, 200 if result.dry_run else 201


OFFICE = ("admin", "dispatcher")
"""Who enters the customer file: those who create customers, sites and engineers."""


@blp.route("/imports/customer-file/<any(engineers, customers, sites, equipment):kind>")
class CustomerFileImport(Resource):
    max_content_length = MAX_FILE_BYTES

    @allow(*OFFICE)
    @blp.arguments(schemas.ImportQuery, location="query")
    @blp.response(201, schemas.CustomerFileImportOut)
    @blp.alt_response(200, schema=schemas.CustomerFileImportOut, description="A dry run's answer.")
    @blp.doc(
        **_body(
            (*ENGINEER_COLUMNS.known, "…"),
            "code,name,tier,contract_starts_on\nC-1,Acme,gold,2024-01-01\n",
        )
    )
    def post(self, query: dict[str, Any], kind: str) -> Any:
        """Create every row of one file of the customer file, or none: engineers, then
        customers with their contract (a start date in the past is taken), then sites,
        then installed equipment.

        Columns — engineers: code, name, home_lat, home_lon, skills, shift_start,
        shift_end, van, username; customers: code, name, tier, contract_starts_on,
        designated_engineer, regional_fee, visit_every_months; sites: code, customer,
        address, lat, lon, region (lat and lon both or neither: a site with an address only
        waits to be placed, counted in `to_place`); equipment: serial, sku, site,
        installed_on, warranty_until, maintenance_until. One bad row refuses the file: 422
        with `errors` by row and column. `dry_run=true` checks it and says what would be
        created (200).
        """
        data, _ = uploaded_file()
        result = customer_file.import_file(
            current_session(), kind, data, dry_run=query["dry_run"], today=today()
        )
        return result, 200 if result.dry_run else 201


@blp.route("/exports/customer-file/<any(engineers, customers, sites, equipment):kind>")
class CustomerFileExport(Resource):
    audited = False

    @allow(*OFFICE)
    @blp.arguments(schemas.ExportFormatQuery, location="query")
    @blp.response(200, description="The file, in the columns its import reads.")
    def get(self, query: dict[str, Any], kind: str) -> Any:
        """One file of the customer file as CSV (UTF-8 with a BOM) or XLSX, in the columns
        its import reads: what one instance exports, another imports."""
        day = today()
        return exports.download(
            query["format"],
            kind,
            customer_file.columns(kind),
            lambda session: customer_file.rows(session, kind, today=day),
        )
