from __future__ import annotations

from flask import Blueprint, abort, flash, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from portal.core import tenancy
from portal.core.exceptions import InvalidInput
from portal.core.forms import EmptyForm
from portal.core.htmx import redirect_to, render, wants_fragment
from portal.core.labels import current_locale, de
from portal.core.responses import attachment
from portal.core.validators import page_number, whole_number
from portal.documents import compliance, versions
from portal.partners import compliance_dashboard as supplier_dashboard
from portal.partners import links, partnerships, proof, requirements, vigilance
from portal.partners.forms import EngagementForm, EngagementImportForm, InviteCompanyForm, PeriodForm, RequestForm
from portal.partners.routes.answers import answered

bp = Blueprint("partners", __name__, url_prefix="/partners")


@bp.get("")
@login_required
def index():
    current = tenancy.current()
    return render(
        "partners/index.html",
        result=partnerships.partners_of(
            current, search=request.args.get("q", ""), page=request.args.get("page", 1, type=int)
        ),
        links=links.of(current),
        sent=partnerships.sent_by(current),
        action_form=EmptyForm(),
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    current = tenancy.current()
    query = request.args.get("q", "").strip()
    invite_form = InviteCompanyForm()
    status = 200
    if request.method == "POST":
        if invite_form.validate_on_submit():
            try:
                partnership = partnerships.invite(
                    current,
                    current_user,
                    email=invite_form.email.data,
                    siret=invite_form.siret.data,
                    legal_name=invite_form.legal_name.data,
                )
            except partnerships.PartnershipError as exc:
                exc.attach_to(invite_form)
            else:
                flash(_("Invitation envoyée à %(email)s.", email=partnership.invited_email), "success")
                return redirect_to(url_for("partners.index"))
        status = 422
    fragment = "partners/_invite_company_form.html" if request.method == "POST" else "partners/_results.html"
    return render(
        "partners/new.html",
        fragment,
        query=query,
        results=partnerships.search(current, query),
        request_form=RequestForm(),
        invite_form=invite_form,
        status=status,
    )


@bp.post("/request")
@login_required
def ask():
    form = RequestForm()
    target_id = whole_number(form.target_id.data)
    if not form.validate_on_submit() or target_id is None:
        abort(400)
    try:
        partnerships.request(tenancy.current(), current_user, target_id)
    except partnerships.PartnershipError as exc:
        flash(str(exc.errors["target"]), "warning")
    else:
        flash(_("Demande de mise en relation envoyée."), "success")
    return redirect_to(url_for("partners.index"))


@bp.post("/requests/<int:partnership_id>/<any(accept, refuse):decision>")
@login_required
def decide(partnership_id: int, decision: str):
    if not EmptyForm().validate_on_submit():
        abort(400)
    current = tenancy.current()
    try:
        partnership = partnerships.decide(current, current_user, partnership_id, accept=decision == "accept")
    except partnerships.PartnershipError as exc:
        flash(str(exc.errors["decision"]), "warning")
        return redirect_to(url_for("main.home"))
    name = partnership.requester.legal_name
    message = (
        _("Vous avez accepté la demande %(de_name)s.", name=name, de_name=de(name))
        if decision == "accept"
        else _("Vous avez refusé la demande %(de_name)s.", name=name, de_name=de(name))
    )
    return answered(current, f"request-{partnership.id}", message)


@bp.post("/<int:partnership_id>/<any(suspend, resume, end):action>")
@login_required
def change(partnership_id: int, action: str):
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        partnerships.change(tenancy.current(), current_user, partnership_id, action)
    except partnerships.PartnershipError as exc:
        flash(str(exc.errors["decision"]), "warning")
    else:
        done = {"suspend": _("Relation suspendue."), "resume": _("Relation reprise."), "end": _("Relation terminée.")}
        flash(done[action], "success")
    return redirect_to(url_for("partners.index"))


@bp.get("/companies/<int:organisation_id>")
@login_required
def company(organisation_id: int):
    return _company_page(organisation_id, EngagementForm(formdata=None))


def _period_form(form: PeriodForm | None = None) -> PeriodForm:
    if form is None:
        form = PeriodForm(formdata=None)
        form.start.data, form.end.data = proof.default_period()
    return form


def _company_page(
    organisation_id: int, engagement_form: EngagementForm, status: int = 200, period_form: PeriodForm | None = None
):
    current = tenancy.current()
    organisation = partnerships.shared_with(current, organisation_id)
    types = requirements.types()
    return render(
        "partners/company.html",
        "partners/_vigilance.html",
        status=status,
        organisation=organisation,
        file=compliance.load(organisation),
        figures=partnerships.declared_figures(current, organisation_id),
        types=types,
        type_labels={t.code: t.label(current_locale()) for t in types},
        chosen=requirements.chosen(current, organisation_id),
        for_all=requirements.chosen(current, None),
        action_form=EmptyForm(),
        engagements=(engagements := vigilance.timeline(current, organisation_id)),
        engagement_form=engagement_form,
        proofs=proof.listed(current, organisation_id) if engagements is not None else [],
        period_form=_period_form(period_form),
        threshold=vigilance.threshold_cents() // 100,
    )


@bp.post("/companies/<int:organisation_id>/engagements")
@login_required
def record_engagement(organisation_id: int):
    current = tenancy.current()
    form = EngagementForm()
    if form.validate_on_submit():
        try:
            vigilance.record(
                current,
                current_user,
                organisation_id,
                reference=form.reference.data,
                amount_cents=vigilance.parse_amount(form.amount.data),
                starts_on=form.starts_on.data,
                ends_on=form.ends_on.data,
            )
        except InvalidInput as exc:
            exc.attach_to(form)
        else:
            flash(_("Engagement « %(reference)s » enregistré.", reference=form.reference.data.strip()), "success")
            if (
                wants_fragment()
            ):  # the section redrawn in place (a redirect to the same page's #anchor would not reload)
                return _company_page(organisation_id, EngagementForm(formdata=None))
            return redirect_to(url_for("partners.company", organisation_id=organisation_id) + "#vigilance")
    return _company_page(organisation_id, form, status=422)


@bp.post("/companies/<int:organisation_id>/engagements/<int:engagement_id>/delete")
@login_required
def remove_engagement(organisation_id: int, engagement_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    vigilance.remove(tenancy.current(), current_user, engagement_id)
    flash(_("Engagement supprimé."), "success")
    return redirect_to(url_for("partners.company", organisation_id=organisation_id) + "#vigilance")


@bp.post("/companies/<int:organisation_id>/proofs")
@login_required
def request_proof(organisation_id: int):
    """ "Dossier de preuve": for the period given, or for one engagement (``engagement_id``)."""
    current = tenancy.current()
    form = PeriodForm()
    if not form.validate_on_submit():
        return _company_page(organisation_id, EngagementForm(formdata=None), 422, form)
    engagement_id = whole_number(request.form.get("engagement_id"))
    try:
        proof.request(
            current,
            current_user,
            organisation_id,
            start=form.start.data,
            end=form.end.data,
            engagement_id=engagement_id,
        )
    except InvalidInput as exc:
        exc.attach_to(form)
        return _company_page(organisation_id, EngagementForm(formdata=None), 422, form)
    flash(_("Dossier de preuve en préparation : il apparaît ci-dessous dès qu'il est prêt."), "success")
    return redirect_to(url_for("partners.company", organisation_id=organisation_id) + "#proofs")


@bp.get("/proofs/<int:proof_id>")
@login_required
def proof_row(proof_id: int):
    """One proof file's line (htmx polls it while the job builds it)."""
    return render("partners/_proof_row.html", proof_file=proof.own(tenancy.current(), proof_id))


@bp.get("/proofs/<int:proof_id>/download")
@login_required
def proof_download(proof_id: int):
    data, name, size = proof.file_of(tenancy.current(), proof_id)
    return attachment(data, name, "application/zip", size)


@bp.post("/engagements/import")
@login_required
def import_engagements():
    """Engagements from a CSV or XLSX file: all of them, or none with the errors by line."""
    current = tenancy.current()
    form = EngagementImportForm()
    rejected = None
    if form.validate_on_submit():
        upload = form.file.data
        try:
            if not upload or not upload.filename:
                raise InvalidInput({"file": _("Choisissez un fichier CSV ou XLSX.")})
            count = vigilance.import_file(current, current_user, upload.filename, upload.read())
        except vigilance.ImportRejected as exc:
            exc.attach_to(form)
            rejected = exc.lines
        except InvalidInput as exc:
            exc.attach_to(form)
        else:
            flash(ngettext("%(num)d engagement importé.", "%(num)d engagements importés.", count), "success")
            return redirect_to(url_for("partners.compliance_dashboard") + "#engagement-import")
    return _dashboard(status=422, import_form=form, rejected=rejected)


@bp.get("/engagements/template.csv")
@login_required
def engagements_template():
    return attachment(("\ufeff" + vigilance.import_template()).encode(), "modele-engagements.csv", "text/csv")


@bp.post("/compliance/urssaf-export")
@login_required
def urssaf_export():
    """ "Export contrôle URSSAF": every supplier's proof over a period, streamed as it is written."""
    current = tenancy.current()
    form = PeriodForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        data, name = proof.urssaf_export(current, current_user, form.start.data, form.end.data)
    except InvalidInput as exc:
        for message in exc.errors.values():
            flash(str(message), "error")
        return redirect_to(url_for("partners.compliance_dashboard"))
    return attachment(stream_with_context(data), name, "application/zip")


@bp.get("/companies/<int:organisation_id>/versions/<int:version_id>/download")
@login_required
def download(organisation_id: int, version_id: int):
    version = partnerships.shared_version(tenancy.current(), organisation_id, version_id)
    data, name = versions.file_of(version)
    return attachment(data, name, version.content_type, version.size)


def _codes() -> list[str]:
    return request.form.getlist("types")


def _save_requirements(current, supplier_id: int | None, done: str) -> None:
    try:
        saved = requirements.save(current, current_user, supplier_id, _codes())
    except InvalidInput as exc:  # only a form changed by hand sends a code the catalogue lacks
        flash(str(exc.errors["types"]), "warning")
    else:
        flash(done, "success")
        contractual = [t.label(current_locale()) for t in requirements.types() if t.code in saved and not t.legal_basis]
        if contractual:
            flash(
                _(
                    "Ces documents ne sont pas exigés par la loi : %(names)s. Ils ne lient vos fournisseurs "
                    "que si vos contrats les prévoient ; vos fournisseurs le voient.",
                    names=", ".join(contractual),
                ),
                "info",
            )


@bp.route("/requirements", methods=["GET", "POST"])
@login_required
def requirements_page():
    current = tenancy.current()
    if request.method == "POST":
        if not EmptyForm().validate_on_submit():
            abort(400)
        _save_requirements(current, None, _("Documents exigés de tous vos fournisseurs enregistrés."))
        return redirect_to(url_for("partners.requirements_page"))
    return render(
        "partners/requirements.html",
        types=requirements.types(),
        chosen=requirements.chosen(current, None),
        action_form=EmptyForm(),
    )


@bp.post("/companies/<int:organisation_id>/requirements")
@login_required
def company_requirements(organisation_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    _save_requirements(tenancy.current(), organisation_id, _("Documents exigés de ce fournisseur enregistrés."))
    return redirect_to(url_for("partners.company", organisation_id=organisation_id))


@bp.get("/compliance")
@login_required
def compliance_dashboard():
    return _dashboard()


def _dashboard(status: int = 200, import_form: EngagementImportForm | None = None, rejected=None):
    current = tenancy.current()
    compliance_status = request.args.get("status") or None
    search = (request.args.get("q") or "").strip() or None
    expiring = request.args.get("expiring") == "1"
    legal = request.args.get("vigilance") or None
    legal = legal if legal in supplier_dashboard.VIGILANCE_FILTERS else None
    result = supplier_dashboard.page(
        current,
        status=compliance_status,
        search=search,
        number=request.args.get("page", 1, type=page_number),
        expiring=expiring,
        vigilance=legal,
    )
    return render(
        "partners/compliance.html",
        "partners/_compliance_table.html" if status == 200 else "partners/_engagement_import.html",
        status=status,
        result=result,
        status_filter=compliance_status,
        search=search or "",
        statuses=supplier_dashboard.STATUSES,
        expiring=expiring,
        vigilance_filter=legal,
        period_form=_period_form(),
        import_form=import_form or EngagementImportForm(formdata=None),
        rejected=rejected,
        import_columns=vigilance.IMPORT_COLUMNS,
    )


@bp.get("/compliance.csv")
@login_required
def compliance_csv():
    current = tenancy.current()
    data = supplier_dashboard.csv_export(
        current,
        status=request.args.get("status") or None,
        search=(request.args.get("q") or "").strip() or None,
        expiring=request.args.get("expiring") == "1",
        vigilance=request.args.get("vigilance") or None,
    )
    return attachment(data.encode(), f"conformite-fournisseurs-{current.organisation.siren}.csv", "text/csv")
