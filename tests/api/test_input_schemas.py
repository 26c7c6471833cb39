"""Input schemas are made once per request: making one must not change the next."""

from __future__ import annotations

from partsvc.api import inventory_schemas as schemas
from partsvc.platform.schemas import INT_COLUMN


def test_a_schema_made_again_and_again_keeps_the_same_validators():
    first = {name: len(field.validators) for name, field in schemas.MoveIn().fields.items()}
    for _ in range(50):
        schemas.MoveIn()
    again = {name: len(field.validators) for name, field in schemas.MoveIn().fields.items()}
    assert again == first


def test_an_integer_field_is_bounded_to_a_32_bit_column_once():
    for _ in range(3):
        schemas.MoveIn()
    assert schemas.MoveIn().fields["qty"].validators.count(INT_COLUMN) == 1
