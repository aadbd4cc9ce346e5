"""'Ajouter un client': eight steps, each a plain form; htmx swaps the next step in place."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms.fields.choices import SelectChoice

from portal.core import clock, tenancy
from portal.core.exceptions import InvalidInput
from portal.core.htmx import redirect_to, render, wants_fragment
from portal.core.validators import whole_number
from portal.firm import access, client_files, client_wizard, identifiers, new_client, tree_templates
from portal.firm.forms import (
    ActionForm,
    CollaboratorsForm,
    CompanyForm,
    ExecutiveForm,
    FiscalYearForm,
    SiretForm,
    TemplateChoiceForm,
)
from portal.firm.routes.blueprints import bp


def _form(step: int, draft, current, *, posted: bool):
    """The step's form, filled from the request when posted, else from the draft."""
    data = draft.data
    kwargs = {} if posted else {"formdata": None}
    if step == 1:
        return SiretForm(data={"siret": data.get("company", {}).get("siret", "")}, **kwargs)
    if step == 2:
        return CompanyForm(data=data.get("company", {}), **kwargs)
    if step == 3:
        fiscal = data.get("fiscal") or {}
        values = {key: date.fromisoformat(value) for key, value in fiscal.items()}
        if not values:
            year = clock.today().year
            values = {"starts_on": date(year, 1, 1), "ends_on": date(year, 12, 31)}
        form = FiscalYearForm(data=values, **kwargs)
        if not posted:
            form.show(values["starts_on"], values["ends_on"])
        return form
    if step == 4:
        form = TemplateChoiceForm(data={"template_id": data.get("template_id")}, **kwargs)
        form.template_id.choices = [SelectChoice(t.id, t.name) for t in client_wizard.templates_for(draft.firm_id)]
        return form
    if step == 5:
        shared = client_files.shared_theme_ids(draft.firm_id)
        executive = data.get("executive") or {"theme_ids": shared, "invite_now": True}
        form = ExecutiveForm(data=executive, **kwargs)
        names = {t.id: t.name for t in tree_templates.themes_of(draft.firm_id)}
        form.theme_ids.choices = [SelectChoice(theme_id, names[theme_id]) for theme_id in shared]
        return form
    if step == 7:
        form = CollaboratorsForm(data={"user_ids": data.get("collaborators", [current_user.id])}, **kwargs)
        form.user_ids.choices = [SelectChoice(u.id, u.full_name) for _m, u in access.members(current)]
        return form
    return ActionForm(**kwargs)


def _handle(step: int, form, draft, current) -> None:
    if step == 2:
        client_wizard.step_company(current, draft, form.data)
    elif step == 3:
        try:
            client_wizard.step_fiscal(draft, form.starts_on.data, form.ends_on.data, *form.shown())
        except client_wizard.EndToCheck as asked:
            form.ends_on.data, form.ends_on.raw_data = asked.proposal, [asked.proposal.isoformat()]
            form.show(form.starts_on.data, asked.proposal)
            raise
    elif step == 4:
        client_wizard.step_template(draft, form.template_id.data)
    elif step == 5:
        client_wizard.step_executive(draft, form.data, form.theme_ids.data or [], form.invite_now.data)
    elif step == 6:
        client_wizard.step_apps(draft, request.form)
    elif step == 7:
        client_wizard.step_collaborators(current, draft, current_user, set(form.user_ids.data or []))


def _page(step: int, draft, current, form, *, status: int = 200, errors: dict | None = None, **extra):
    context = {
        "step": step,
        "steps": client_wizard.STEPS,
        "draft": draft,
        "form": form,
        "errors": errors or {},
        "skip_template": len(client_wizard.templates_for(draft.firm_id)) <= 1,
        "previous": client_wizard.previous_step(draft, step) if step > 1 else None,
        **extra,
    }
    if step == 6:
        context["apps"] = client_wizard.apps_for_wizard(draft.firm_id)
        context["chosen"] = {a["app_id"]: a for a in draft.data.get("apps", [])}
        context["values"] = request.form if request.method == "POST" else {}
    if step == 8:
        context["summary"] = _summary(draft, current)
    response = render("firm/wizard.html", "firm/_wizard.html", status=status, **context)
    if wants_fragment() and request.method == "POST" and status == 200:
        response.headers["HX-Push-Url"] = url_for("firm.wizard_step", step=step)
    return response


def _summary(draft, current) -> dict:
    data = draft.data
    templates = {t.id: t.name for t in client_wizard.templates_for(draft.firm_id)}
    themes = {t.id: t.name for t in tree_templates.themes_of(draft.firm_id)}
    people = {u.id: u.full_name for _m, u in access.members(current)}
    apps = {a.id: a.name for a, _spec in client_wizard.apps_for_wizard(draft.firm_id)}
    executive = data.get("executive", {})
    return {
        "company": data.get("company", {}),
        "fiscal": data.get("fiscal", {}),
        "template": templates.get(client_wizard.chosen_template_id(draft)),
        "executive": executive,
        "themes": [themes[t] for t in executive.get("theme_ids", []) if t in themes],
        "apps": [apps[a["app_id"]] for a in data.get("apps", []) if a["app_id"] in apps],
        "collaborators": [people[u] for u in data.get("collaborators", []) if u in people],
        "missing": client_wizard.missing_step(draft),
    }


@bp.get("/clients/new")
@login_required
def wizard():
    draft = client_wizard.draft_of(tenancy.current(), current_user)
    return redirect_to(url_for("firm.wizard_step", step=min(client_wizard.missing_step(draft) or 8, draft.step)))


@bp.route("/clients/new/<int:step>", methods=["GET", "POST"])
@login_required
def wizard_step(step: int):
    current = tenancy.current()
    if step == 8 and request.method == "POST":
        saved = new_client.saved_from(current, current_user, whole_number(request.form.get("draft_id")))
        if saved is not None:
            return redirect_to(url_for("firm.client", file_id=saved))
    draft = client_wizard.draft_of(current, current_user)
    if step not in client_wizard.STEPS:
        abort(404)
    if step > draft.step:
        return redirect_to(url_for("firm.wizard_step", step=draft.step))
    if step == 4 and len(client_wizard.templates_for(draft.firm_id)) <= 1:
        return redirect_to(url_for("firm.wizard_step", step=5 if draft.step >= 5 else 3))
    posted = request.method == "POST"
    form = _form(step, draft, current, posted=posted)
    if not posted:
        return _page(step, draft, current, form)
    if not form.validate_on_submit():
        return _page(step, draft, current, form, status=422)
    if step == 1:
        return _siret(draft, current, form)
    if step == 8:
        try:
            client_file = new_client.create(current, current_user)
        except InvalidInput as exc:
            missing = exc.errors.get("step")
            if missing:
                return redirect_to(url_for("firm.wizard_step", step=missing))
            return _page(step, draft, current, form, status=422, errors=exc.errors)
        flash(
            _("Dossier client créé. La création de l'arborescence peut prendre quelques minutes."),
            "success",
        )
        return redirect_to(url_for("firm.client", file_id=client_file.id))
    try:
        _handle(step, form, draft, current)
    except InvalidInput as exc:
        exc.attach_to(form)
        return _page(step, draft, current, form, status=422, errors=exc.errors)
    return _go(draft, current, client_wizard.next_step(draft, step))


def _go(draft, current, step: int):
    if wants_fragment():
        return _page(step, draft, current, _form(step, draft, current, posted=False))
    return redirect_to(url_for("firm.wizard_step", step=step))


def _siret(draft, current, form):
    try:
        answer = client_wizard.step_siret(current, draft, form.siret.data)
    except InvalidInput as exc:
        exc.attach_to(form)
        return _page(1, draft, current, form, status=422)
    if answer.taken:
        form.siret.errors = [*form.siret.errors, _("SIRET déjà utilisé par un dossier client du cabinet.")]
        return _page(1, draft, current, form, status=422, duplicate=answer.duplicate, taken=True)
    return _go(draft, current, 2)


@bp.post("/clients/new/manual")
@login_required
def wizard_manual():
    """ "Continuer sans SIRET": the company's data is typed at step 2."""
    current = tenancy.current()
    draft = client_wizard.draft_of(current, current_user)
    if not ActionForm().validate_on_submit():
        abort(400)
    client_wizard.skip_siret(draft)
    return _go(draft, current, 2)


@bp.get("/clients/new/fiscal-end")
@login_required
def wizard_fiscal_end():
    """htmx: the end date proposed for the start date typed (12 months later, minus one day)."""
    access.require_firm(tenancy.current())
    form = FiscalYearForm(formdata=request.args)
    if form.starts_on.data:
        form.ends_on.data = identifiers.proposed_end(form.starts_on.data)
    form.ends_on.errors = []
    return render("firm/_fiscal_end.html", form=form)


@bp.post("/clients/new/cancel")
@login_required
def wizard_cancel():
    if not ActionForm().validate_on_submit():
        abort(400)
    client_wizard.discard(tenancy.current(), current_user)
    flash(_("Ajout du client abandonné."), "info")
    return redirect_to(url_for("firm.clients"))
