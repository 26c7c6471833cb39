"""Each RMA step takes its own input: a receipt without a location cannot even be built."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from partsvc.core.errors import InvalidInput
from partsvc.core.worktime import WorkingCalendar
from partsvc.repairs.progress import ReceiveStepIn, StepIn, StepItem
from partsvc.repairs.steps import take_step


def test_a_receipt_needs_its_location_and_items() -> None:
    with pytest.raises(TypeError, match="location"):
        ReceiveStepIn(items=[StepItem(serial="EQ-1")])  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("step", "body"),
    [
        ("receive", StepIn(note="no location, no items")),
        ("authorize", ReceiveStepIn(location="REPAIR", items=[StepItem(serial="EQ-1")])),
    ],
)
def test_a_step_given_another_steps_input_is_refused_before_anything_is_read(
    step: str, body: StepIn
) -> None:
    now = datetime(2026, 12, 7, 9, tzinfo=UTC)
    with pytest.raises(InvalidInput, match=f"The {step} step takes a"):
        take_step(None, "RMA-000001", step, body, now=now, calendar=WorkingCalendar())  # type: ignore[arg-type]
