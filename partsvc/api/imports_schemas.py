"""Import API schemas: the query, and what an import wrote (or would write)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from partsvc.platform.schemas import QuerySchema


class ImportQuery(QuerySchema):
    dry_run = fields.Boolean(
        load_default=False,
        metadata={"description": "Check every row and say what would be written; write nothing."},
    )


class PartsImportOut(Schema):
    dry_run = fields.Boolean()
    rows = fields.Integer(metadata={"description": "Rows read below the header."})
    parts = fields.Integer(metadata={"description": "Parts created (or to be created)."})
    serialized = fields.Integer(metadata={"description": "How many of them are serialized."})


class StockImportOut(Schema):
    dry_run = fields.Boolean()
    rows = fields.Integer(metadata={"description": "Rows read below the header."})
    moves = fields.Integer(metadata={"description": "Moves booked: one per part and location."})
    units = fields.Integer(metadata={"description": "Units booked in, all locations together."})
    serials = fields.Integer(metadata={"description": "Serials among them."})
    reference = fields.String(metadata={"description": "The reference of every move booked."})
    locations = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "Units booked in per location code."},
    )


class ExportFormatQuery(QuerySchema):
    format = fields.String(load_default="csv", validate=validate.OneOf(("csv", "xlsx")))


class CustomerFileImportOut(Schema):
    kind = fields.String(metadata={"description": "engineers, customers, sites or equipment"})
    dry_run = fields.Boolean()
    rows = fields.Integer(metadata={"description": "Rows read below the header."})
    created = fields.Integer(metadata={"description": "Rows created (or to be created)."})
    to_place = fields.Integer(
        metadata={
            "description": "Sites among them with an address and no lat/lon, waiting for an "
            "operator to place them on the map (0 for the other files)."
        }
    )
