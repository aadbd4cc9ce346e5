"""The page an employee reaches from a reminder (signed link, no account): his contracts to sign."""

from __future__ import annotations

from portal.employee_space import bp
from portal.htmx import render
from portal.services import reminders, tokens


@bp.get("/<token>")
def show(token: str):
    try:
        employee, waiting = reminders.employee_space(token)
    except tokens.InvalidToken as exc:
        return render("employee_space/invalid.html", expired=exc.expired, status=410 if exc.expired else 404)
    return render("employee_space/show.html", employee=employee, contracts=waiting)
