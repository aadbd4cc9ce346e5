"""The page an employee reaches from a reminder (signed link, no account): his contracts to sign."""

from __future__ import annotations

from flask import Blueprint

from portal.contracts import reminder_wizard
from portal.core import tokens
from portal.core.htmx import render

bp = Blueprint("employee_space", __name__, url_prefix="/s")


@bp.get("/<token>")
def show(token: str):
    try:
        employee, waiting = reminder_wizard.employee_space(token)
    except tokens.InvalidToken as exc:
        return render("employee_space/invalid.html", expired=exc.expired, status=410 if exc.expired else 404)
    return render("employee_space/show.html", employee=employee, contracts=waiting)
