"""The bare stack's ceiling: what Flask + SQLAlchemy Core + psycopg under gunicorn can
answer on this machine, doing the least a move must do.

``POST /moves`` takes the same JSON as ``POST /api/v1/moves`` (sku, qty, from, to,
reason), runs one guarded UPDATE (take ``qty`` from the source's level, only if it has
that much) and one INSERT (the ledger line, its id returned) in one transaction, and
answers 201 with the line as JSON; 409 if the level is short, 422 if the body is not a
move. No authentication, rate limit, idempotency, audit or schema: everything the
product does above this is what ``bench/ledger.py`` prints as the ratio product/ceiling.

Served by ``bench/ledger.py --ceiling`` (the default) as::

    CEILING_DATABASE_URL=postgresql+psycopg://... gunicorn --chdir bench "ceiling:create_app()"

Its two tables (``ceiling_levels``, ``ceiling_moves``) live beside the product's in the
benchmark's scratch database; ``prepare`` makes them afresh, every level full.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from flask import Flask, jsonify, request
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    create_engine,
    insert,
    update,
)

metadata = MetaData()
levels = Table(
    "ceiling_levels",
    metadata,
    Column("sku", String(64), primary_key=True),
    Column("location", String(64), primary_key=True),
    Column("on_hand", Integer, nullable=False),
)
lines = Table(
    "ceiling_moves",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sku", String(64), nullable=False),
    Column("qty", Integer, nullable=False),
    Column("from_code", String(64), nullable=False),
    Column("to_code", String(64), nullable=False),
    Column("reason", String(100), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

TAKE = (
    update(levels)
    .where(
        levels.c.sku == bindparam("b_sku"),
        levels.c.location == bindparam("b_from"),
        levels.c.on_hand >= bindparam("b_qty"),
    )
    .values(on_hand=levels.c.on_hand - bindparam("b_take"))
)
LINE = insert(lines).returning(lines.c.id)


def prepare(url: str, skus: Iterable[str], locations: Iterable[str], qty: int) -> None:
    """The two tables made afresh, each (sku, location) with ``qty`` on hand."""
    engine = create_engine(url)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    rows = [{"sku": s, "location": loc, "on_hand": qty} for s in skus for loc in locations]
    with engine.begin() as connection:
        connection.execute(insert(levels), rows)
    engine.dispose()


def moves_booked(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as connection:
        count = connection.exec_driver_sql("SELECT count(*) FROM ceiling_moves").scalar()
    engine.dispose()
    return int(count or 0)


def create_app() -> Flask:
    app = Flask(__name__)
    engine = create_engine(os.environ["CEILING_DATABASE_URL"], pool_size=10)

    @app.post("/moves")
    def post_move() -> Any:
        body = request.get_json(silent=True)
        try:
            sku, qty = str(body["sku"]), int(body["qty"])
            source, target, reason = str(body["from"]), str(body["to"]), str(body["reason"])
        except (TypeError, KeyError, ValueError):
            return jsonify(detail="not a move"), 422
        now = datetime.now(UTC)
        with engine.begin() as connection:
            taken = connection.execute(
                TAKE, {"b_sku": sku, "b_from": source, "b_qty": qty, "b_take": qty}
            )
            if taken.rowcount != 1:
                connection.rollback()
                return jsonify(detail="not enough stock"), 409
            move_id = connection.execute(
                LINE,
                {
                    "sku": sku,
                    "qty": qty,
                    "from_code": source,
                    "to_code": target,
                    "reason": reason,
                    "at": now,
                },
            ).scalar_one()
        answer = {"id": move_id, "sku": sku, "qty": qty, "from": source, "to": target}
        answer.update(reason=reason, at=now.isoformat())
        return jsonify(answer), 201

    @app.get("/healthz")
    def healthz() -> Any:
        return {"status": "ok"}

    return app
