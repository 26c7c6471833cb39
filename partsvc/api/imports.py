"""Import endpoints: a clerk's parts catalogue and opening stock as CSV files."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_smorest import Blueprint

from partsvc.api import imports_schemas as schemas
from partsvc.api.resource import Resource, allow
from partsvc.core.errors import InvalidInput
from partsvc.http.context import current_session, current_user, now, today, zone
from partsvc.workflows.imports import importer
from partsvc.workflows.imports.rules import PART_COLUMNS, STOCK_COLUMNS

blp = Blueprint(
    "imports",
    __name__,
    url_prefix="/api/v1",
    description="CSV imports for a clerk's first day: parts, then opening stock",
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
