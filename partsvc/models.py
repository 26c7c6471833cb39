"""Imports every model so ``Base.metadata`` knows all tables (Alembic, tests)."""

from partsvc.api.idempotency import IdempotentAnswer
from partsvc.audit.models import AuditEvent
from partsvc.auth.models import ApiToken, User
from partsvc.calls.models import (
    Call,
    CallAlert,
    CallStatusChange,
    Contract,
    Customer,
    Engineer,
    Equipment,
    Site,
    SlaTarget,
)
from partsvc.calls.report_models import CallPhoto, FaultReport, UnitLabel
from partsvc.inventory.models import (
    Location,
    Move,
    MoveUnit,
    Part,
    StockCount,
    StockCountLine,
    StockLevel,
    Unit,
)
from partsvc.loans.models import Loan, LoanerReservation, LoanExtension, LoanPolicy, Reminder
from partsvc.platform.db import Base
from partsvc.platform.limits.models import RateCounter
from partsvc.platform.outbox import (
    Notification,
    OutboxEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from partsvc.purchasing.models import (
    EtaChange,
    PartRequest,
    ProcessingTarget,
    Receipt,
    ReceiptLine,
    ReorderRule,
    VendorOrder,
    VendorOrderLine,
)
from partsvc.repairs.models import Rma, RmaItem, RmaStep
from partsvc.routing.models import DayPlan, PlanRoute, PlanStop, PlanUnassigned
from partsvc.workdays.models import CalendarDay

metadata = Base.metadata

__all__ = [
    "ApiToken",
    "AuditEvent",
    "CalendarDay",
    "Call",
    "CallAlert",
    "CallPhoto",
    "CallStatusChange",
    "Contract",
    "Customer",
    "DayPlan",
    "Engineer",
    "Equipment",
    "EtaChange",
    "FaultReport",
    "IdempotentAnswer",
    "Loan",
    "LoanExtension",
    "LoanPolicy",
    "LoanerReservation",
    "Location",
    "Move",
    "MoveUnit",
    "Notification",
    "OutboxEvent",
    "Part",
    "PartRequest",
    "PlanRoute",
    "PlanStop",
    "PlanUnassigned",
    "ProcessingTarget",
    "RateCounter",
    "Receipt",
    "ReceiptLine",
    "Reminder",
    "ReorderRule",
    "Rma",
    "RmaItem",
    "RmaStep",
    "Site",
    "SlaTarget",
    "StockCount",
    "StockCountLine",
    "StockLevel",
    "Unit",
    "UnitLabel",
    "User",
    "VendorOrder",
    "VendorOrderLine",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSubscription",
    "metadata",
]
