"""The clerk's reorder rules (R5): listed, set and removed from the desk and a part's page.

A rule is one part at one warehouse; setting it again replaces it (the API's PUT), so one
form both creates and edits. The form checks what a rule needs before the service does,
so the clerk reads which field is wrong in their language.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from partsvc.core.errors import PartsvcError
from partsvc.http.context import now
from partsvc.inventory import catalog
from partsvc.purchasing import reorder
from partsvc.web.pages import attempt, db, notice, page, refused

bp = Blueprint("rules", __name__, url_prefix="/desk/reorder-rules")

CLERKS = ("clerk", "admin")
MAX_QTY = 1_000_000
MAX_LISTED = 500


class RuleForm(FlaskForm):  # type: ignore[misc]
    sku = StringField(_l("Part (SKU)"), validators=[DataRequired(), Length(max=64)])
    location = StringField(_l("Warehouse"), validators=[DataRequired(), Length(max=64)])
    reorder_point = IntegerField(
        _l("Reorder at or below"), validators=[InputRequired(), NumberRange(0, MAX_QTY)]
    )
    reorder_qty = IntegerField(
        _l("Order a fixed quantity"), validators=[Optional(), NumberRange(1, MAX_QTY)]
    )
    max_qty = IntegerField(_l("or order up to"), validators=[Optional(), NumberRange(1, MAX_QTY)])

    def validate(self, extra_validators: Any = None) -> bool:
        good: bool = super().validate(extra_validators)
        if (self.reorder_qty.data is None) == (self.max_qty.data is None):
            self.reorder_qty.errors = [
                *self.reorder_qty.errors,
                _("Give a fixed quantity or a maximum, one of the two."),
            ]
            good = False
        elif (
            self.max_qty.data is not None
            and self.reorder_point.data is not None
            and self.max_qty.data <= self.reorder_point.data
        ):
            self.max_qty.errors = [*self.max_qty.errors, _("Above the reorder point.")]
            good = False
        return good


@bp.get("")
@page(*CLERKS)
def home() -> Any:
    """Every rule, and the form: empty, or filled in with the rule to edit."""
    form = RuleForm(formdata=None)
    sku, location = request.args.get("sku", ""), request.args.get("location", "")
    if sku and location:
        for rule in reorder.list_reorder_rules(db(), sku=sku, limit=MAX_LISTED):
            if rule.location.code == location:
                form.process(
                    data={
                        "sku": rule.part.sku,
                        "location": rule.location.code,
                        "reorder_point": rule.reorder_point,
                        "reorder_qty": rule.reorder_qty,
                        "max_qty": rule.max_qty,
                    }
                )
    elif sku:
        form.sku.data = sku
    return _rules_page(form)


@bp.post("")
@page(*CLERKS)
def save() -> Any:
    form = RuleForm()
    if not form.validate():
        return _rules_page(form), 422
    rule = attempt(
        lambda session: reorder.set_reorder_rule(
            session,
            sku=form.sku.data.strip(),
            location=catalog.resolve_location_code(session, form.location.data),
            reorder_point=form.reorder_point.data,
            reorder_qty=form.reorder_qty.data,
            max_qty=form.max_qty.data,
            now=now(),
        )
    )
    if isinstance(rule, PartsvcError):
        return _rules_page(form, refusal=rule), rule.status
    notice("rule_set", sku=rule.part.sku, location=rule.location.name or rule.location.code)
    return redirect(_back(rule.part.sku))


@bp.post("/removal")
@page(*CLERKS)
def remove() -> Any:
    sku, location = request.form.get("sku", ""), request.form.get("location", "")
    removed = attempt(
        lambda session: reorder.delete_reorder_rule(session, sku=sku, location=location)
    )
    if isinstance(removed, PartsvcError):
        refused(removed)
    else:
        notice("rule_removed", sku=sku, location=catalog.place_name(db(), location))
    return redirect(_back(sku))


def _back(sku: str) -> str:
    """Back to the part's page when the form was sent from there, else to the rules."""
    if request.form.get("from") == "part":
        return url_for("desk.part", sku=sku)
    return url_for("rules.home")


def _rules_page(form: RuleForm, refusal: PartsvcError | None = None) -> str:
    return render_template(
        "desk/rules.html",
        rules=reorder.list_reorder_rules(db(), limit=MAX_LISTED),
        form=form,
        refusal=refusal,
        warehouses=catalog.location_choices(db(), kind="warehouse"),
    )
