"""the ledger is append-only: moves, the units they carried, stock counts and their lines
refuse UPDATE and DELETE (as audit_events do since 0015); only a move's ``document``, empty
when the move is booked, may be filled in once, in the transaction of its document

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 01:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSAL = "the ledger is append-only (book a reversal or a count instead)"

LEDGER_COLUMNS = {
    "moves": (
        "id",
        "part_id",
        "qty",
        "from_location_id",
        "to_location_id",
        "reason",
        "reference",
        "at",
        "recorded_at",
        "user_id",
        "reverses_id",
    ),  # and "document", below
    "move_units": ("move_id", "unit_id"),
    "stock_counts": ("id", "location_id", "at", "recorded_at", "user_id", "note"),
    "stock_count_lines": ("id", "count_id", "part_id", "expected", "counted", "move_id"),
}
"""Each table and every column an UPDATE may not name."""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"""
            CREATE FUNCTION ledger_refuse_change() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION '{REFUSAL}: % on % refused', TG_OP, TG_TABLE_NAME;
            END
            $$
            """
        )
        for table, columns in LEDGER_COLUMNS.items():
            op.execute(
                f"CREATE TRIGGER {table}_no_update BEFORE UPDATE OF {', '.join(columns)}"
                f" ON {table} FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}"
                " FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}"
                " FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()"
            )
        op.execute(
            "CREATE TRIGGER moves_document_once BEFORE UPDATE OF document ON moves"
            " FOR EACH ROW WHEN (OLD.document IS NOT NULL)"
            " EXECUTE FUNCTION ledger_refuse_change()"
        )
        return
    for table, columns in LEDGER_COLUMNS.items():
        op.execute(
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE OF {', '.join(columns)}"
            f" ON {table} BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}"
            f" BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
        )
    op.execute(
        "CREATE TRIGGER moves_document_once BEFORE UPDATE OF document ON moves"
        f" WHEN OLD.document IS NOT NULL BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
    )


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    op.execute(f"DROP TRIGGER moves_document_once{' ON moves' if postgresql else ''}")
    for table in LEDGER_COLUMNS:
        for kind in ("update", "delete", *(("truncate",) if postgresql else ())):
            op.execute(f"DROP TRIGGER {table}_no_{kind}{f' ON {table}' if postgresql else ''}")
    if postgresql:
        op.execute("DROP FUNCTION ledger_refuse_change()")
