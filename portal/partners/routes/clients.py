"""The back office of agencies and firms: client sheets and "Gérer le rattachement"."""

from __future__ import annotations

from flask import Blueprint, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.core import tenancy
from portal.core.exceptions import InvalidInput
from portal.core.htmx import redirect_to, render, wants_fragment
from portal.partners import client_sheets, links
from portal.partners.forms import LinkForm, SheetEmailForm, SheetForm

bp = Blueprint("clients", __name__, url_prefix="/clients")


@bp.get("")
@login_required
def index():
    current = tenancy.current()
    rows = client_sheets.sheets_of(current)
    return render("clients/index.html", rows=rows, to_link=[r for r in rows if r.can_link], view="all")


@bp.get("/to-link")
@login_required
def to_link():
    rows = client_sheets.to_link(tenancy.current())
    return render("clients/index.html", rows=rows, to_link=rows, view="to_link")


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    current = tenancy.current()
    client_sheets.require_back_office(current)
    form = SheetForm()
    if form.validate_on_submit():
        try:
            sheet = client_sheets.create(
                current,
                current_user,
                siret=form.siret.data,
                legal_name=form.legal_name.data or "",
                email=form.contact_email.data,
            )
        except InvalidInput as exc:
            exc.attach_to(form)
        else:
            flash(_("Fiche client créée : une demande de mise en relation lui a été envoyée."), "success")
            return redirect_to(url_for("clients.sheet", sheet_id=sheet.id))
    status = 422 if request.method == "POST" else 200
    return render("clients/new.html", "clients/_sheet_form.html", form=form, status=status)


@bp.route("/<int:sheet_id>", methods=["GET", "POST"])
@login_required
def sheet(sheet_id: int):
    current = tenancy.current()
    row = client_sheets.get(current, sheet_id)
    form = SheetEmailForm(data={"contact_email": row.sheet.contact_email})
    if request.method == "POST":
        if form.validate_on_submit():
            mates = client_sheets.update_email(current, current_user, sheet_id, form.contact_email.data)
            if mates and row.link_role is None:
                names = ", ".join(m.company.legal_name for m in mates)
                flash(
                    _(
                        "Cette adresse est aussi celle de %(names)s : vous pouvez rattacher ces comptes.",
                        names=names,
                    ),
                    "info",
                )
            else:
                flash(_("Adresse e-mail du contact enregistrée."), "success")
            return redirect_to(url_for("clients.sheet", sheet_id=sheet_id))
        return render("clients/sheet.html", "clients/_email_form.html", row=row, form=form, mates=[], status=422)
    mates = [r for r in client_sheets.group_of(current, row.sheet) if r.sheet.id != sheet_id]
    return render("clients/sheet.html", row=row, form=form, mates=mates)


@bp.route("/<int:sheet_id>/link", methods=["GET", "POST"])
@login_required
def link(sheet_id: int):
    """ "Gérer le rattachement": a dialog with htmx, a page without JavaScript."""
    current = tenancy.current()
    row = client_sheets.get(current, sheet_id)
    group = client_sheets.group_of(current, row.sheet)
    form = LinkForm()
    form.main_id.choices = form.company_ids.choices = [(r.company.id, r.company.legal_name) for r in group]
    if request.method == "GET":
        form.main_id.data, form.company_ids.data = client_sheets.default_choice(group, sheet_id)
    chosen = client_sheets.plan(group, form.main_id.data, form.company_ids.data or [])
    context = {"row": row, "group": group, "form": form, "main": chosen.main, "linked": chosen.linked}
    status = 200
    if request.method == "POST" and form.validate_on_submit():
        if request.form.get("action") == "confirm":
            try:
                links.propose(current, current_user, sheet_id, form.main_id.data, form.company_ids.data or [])
            except links.LinkError as exc:
                exc.attach_to(form)
                status = 422
            else:
                message = _(
                    "Demande de rattachement envoyée au compte principal %(name)s.", name=chosen.main.legal_name
                )
                flash(message, "success")
                return redirect_to(url_for("clients.index"))
        elif wants_fragment():
            return render("clients/link.html", "clients/_link_summary.html", **context)
    elif request.method == "POST":
        status = 422
    fragment = "clients/_link_dialog.html" if request.method == "GET" else "clients/_link_form.html"
    return render("clients/link.html", fragment, status=status, **context)
