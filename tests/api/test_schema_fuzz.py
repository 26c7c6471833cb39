"""schemathesis against /api/v1/openapi.json: every operation, with every check.

The operations come from the document the app serves, so a new endpoint is fuzzed as soon
as it exists. Each operation runs in its own rolled-back transaction (the ``app`` fixture),
first as an admin (who may call everything) and then, briefly, as an engineer (who is
refused most writes and must be refused with a documented problem).

The run is bounded and derandomized: the same examples on every run, a few minutes on
SQLite and on PostgreSQL. ``PARTSVC_FUZZ_EXAMPLES`` raises the bound for a longer hunt.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from partsvc import create_app
from partsvc.platform.config import Settings

EXAMPLES = int(os.environ.get("PARTSVC_FUZZ_EXAMPLES", "12"))

CONFIG = {
    "generation": {
        "mode": "all",  # valid input must be taken, invalid input refused
        "max-examples": EXAMPLES,
        "deterministic": True,
        "database": "none",
        "with-security-parameters": False,  # the test sends the token itself
    },
    "checks": {"enabled": True},
    "phases": {
        "examples": {"enabled": True},
        "coverage": {"enabled": True},
        "fuzzing": {"enabled": True},
    },
}

# Rules JSON Schema cannot state (one field depending on another, a day not in the past):
# for these operations a 422 naming only these fields is a fair answer to schema-valid input.
# Any other 422 to schema-valid input means the document and the validators disagree.
BUSINESS_RULES: dict[str, set[str]] = {
    # a cursor this service never gave out; a business time (API.md) in the future
    "*": {"cursor", "at", "reported_at", "requested_at", "out_at"},
    "POST /api/v1/engineers": {"shift_end"},  # after shift_start
    "POST /api/v1/parts": {"loaner"},  # a loaner model is serialized
    "POST /api/v1/locations": {"engineer"},  # only a van belongs to an engineer
    "POST /api/v1/customers": {"designated_engineer"},  # R19: only with a gold contract
    "POST /api/v1/sites": {"lat", "lon"},  # both or neither: an address alone waits to be placed
    "PATCH /api/v1/sites/{site}": {"lat", "lon"},  # both, to place the site
    "PUT /api/v1/customers/{customer}/contract": {"designated_engineer", "starts_on"},
    "PUT /api/v1/sla-policy/{tier}/{priority}": {"resolve_minutes", "resolve_working_days"},
    "PUT /api/v1/loan-policy": {"max_days"},  # at least loan_days
    "PUT /api/v1/reorder-rules/{sku}/{location}": {"reorder_qty", "max_qty"},  # exactly one
    "POST /api/v1/loaner-reservations": {"sku", "serial"},  # exactly one
    "POST /api/v1/rmas": {"items"},  # each: a serial, or a sku and a quantity
    # a receipt's items must be on the RMA; a swap names units that exist
    "POST /api/v1/rmas/{rma}/receive": {"items", "location"},
    "POST /api/v1/rmas/{rma}/complete": {"items"},
    "POST /api/v1/rmas/{rma}/ship": {"engineer", "location"},
    "POST /api/v1/plans": {"date"},  # today or a day ahead
    "GET /api/v1/calendar": {"to"},  # not before from
    "POST /api/v1/tokens": {"expires_at"},  # in the future
    "POST /api/v1/webhooks": {"url"},  # not an address inside the network, no credentials
}
FILE_ROWS = "/problems/invalid-rows"
"""A CSV import's rows are checked by rules no schema says (tests/api/test_imports_api.py)."""

_document_app = create_app(Settings(database_url="sqlite://", secret_key="document-only"))
schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json", _document_app, config=schemathesis.Config.from_dict(CONFIG)
)


@pytest.fixture
def app(make_app):  # type: ignore[no-untyped-def]
    """The tests' app with the bad-token limit per address lifted: schemathesis sends a
    wrong token with every example (the limit itself: tests/api/test_rate_limits.py)."""
    return make_app(token_failure_rate="1000000/minute")


@schemathesis.check
def schema_valid_input_is_accepted(ctx, response, case):
    """positive_data_acceptance, except a 422 that names only a rule listed above."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except AssertionError:
        if response.status_code != 422:
            raise
        problem = response.json()
        if problem.get("type") == FILE_ROWS:
            return None
        excused = BUSINESS_RULES["*"] | BUSINESS_RULES.get(case.operation.label, set())
        if not set(problem.get("errors", {})) <= excused:
            raise
        return None


def _call(case, app, token):
    case.call_and_validate(
        app=app,
        headers={"Authorization": token},
        excluded_checks=[positive_data_acceptance],
        additional_checks=[schema_valid_input_is_accepted],
    )


@schema.parametrize()
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_operation_answers_an_admin_as_its_document_says(case, app, tokens):
    _call(case, app, tokens["admin"])


@schema.parametrize()
@settings(
    max_examples=max(2, EXAMPLES // 4),
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_every_operation_answers_an_engineer_as_its_document_says(case, app, tokens):
    _call(case, app, tokens["engineer"])
