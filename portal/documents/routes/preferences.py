"""« Mes préférences » : the collection mandate, and whether the company is established abroad."""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.core.forms import EmptyForm
from portal.core.htmx import redirect_to, render
from portal.core.labels import current_locale
from portal.core.responses import attachment
from portal.documents import mandates, profile
from portal.documents.forms import MandateForm, SignedMandateForm
from portal.documents.routes.blueprints import bp
from portal.documents.routes.file import supplier


def _page(form: MandateForm, signed_form: SignedMandateForm, status: int = 200, errors: dict | None = None):
    current = supplier()
    types = mandates.collectable_types()
    form.types.choices = [(t.code, t.label(current_locale())) for t in types]
    return render(
        "documents/preferences.html",
        form=form,
        signed_form=signed_form,
        action_form=EmptyForm(),
        mandates=mandates.of(current.organisation),
        labels={t.code: t.label(current_locale()) for t in types},
        errors=errors or {},
        status=status,
    )


@bp.route("/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    current = supplier()
    form = MandateForm()
    form.types.choices = [(t.code, t.label(current_locale())) for t in mandates.collectable_types()]
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        codes = [c for c, _label in form.types.choices] if request.form.get("all") else form.types.data
        try:
            mandate = mandates.create(
                current, current_user, codes, overlap_confirmed=bool(request.form.get("confirm_overlap"))
            )
        except mandates.MandateError as exc:
            return _page(form, SignedMandateForm(), 422, {**exc.errors, "chosen": codes})
        flash(_("Mandat préparé : téléchargez-le, signez-le, puis envoyez-le signé."), "success")
        return redirect_to(url_for("documents.preferences", _anchor=f"mandate-{mandate.id}"))
    return _page(form, SignedMandateForm())


@bp.post("/preferences/establishment")
@login_required
def establishment():
    current = supplier()
    if not EmptyForm().validate_on_submit():
        abort(400)
    abroad = request.form.get("established_abroad") == "y"
    if profile.set_established_abroad(current, current_user, abroad):
        flash(
            _(
                "Noté : votre entreprise est établie à l'étranger ; vos clients vous demandent les documents "
                "de l'article D8222-7."
            )
            if abroad
            else _("Noté : votre entreprise est établie en France."),
            "success",
        )
    return redirect_to(url_for("documents.preferences", _anchor="establishment"))


@bp.get("/preferences/mandates/<int:mandate_id>.pdf")
@login_required
def mandate_pdf(mandate_id: int):
    data = mandates.pdf(supplier(), current_user, mandate_id)
    return attachment(data, f"mandat-de-collecte-M{mandate_id:06d}.pdf", "application/pdf")


@bp.post("/preferences/mandates/<int:mandate_id>/signed")
@login_required
def mandate_signed(mandate_id: int):
    current = supplier()
    signed_form = SignedMandateForm()
    if not signed_form.validate_on_submit():
        errors = {"file": " ".join(signed_form.file.errors) or _("Choisissez le fichier.")}
        return _page(MandateForm(formdata=None), signed_form, 422, {**errors, "mandate_id": mandate_id})
    file = signed_form.file.data
    try:
        mandates.upload_signed(current, current_user, mandate_id, file.read(), file.filename or "mandat")
    except mandates.MandateError as exc:
        return _page(MandateForm(formdata=None), signed_form, 422, {**exc.errors, "mandate_id": mandate_id})
    flash(_("Mandat signé reçu : il sera vérifié par notre équipe."), "success")
    return redirect_to(url_for("documents.preferences"))


@bp.get("/preferences/mandates/<int:mandate_id>/signed")
@login_required
def mandate_signed_download(mandate_id: int):
    mandate, data = mandates.signed_file_for_supplier(supplier(), mandate_id)
    return attachment(data, mandate.signed_filename or "mandat", mandate.signed_content_type)


@bp.route("/preferences/mandates/<int:mandate_id>/revoke", methods=["GET", "POST"])
@login_required
def mandate_revoke(mandate_id: int):
    """GET: the confirmation (what revoking stops); POST: revoke."""
    current = supplier()
    mandate = mandates.own(current, mandate_id)
    if request.method == "GET":
        labels = {t.code: t.label(current_locale()) for t in mandates.collectable_types()}
        return render(
            "documents/mandate_revoke.html",
            mandate=mandate,
            reference=mandates.reference(mandate),
            labels=labels,
            action_form=EmptyForm(),
        )
    if not EmptyForm().validate_on_submit():
        abort(400)
    mandates.revoke(current, current_user, mandate_id)
    flash(_("Mandat révoqué : Vigie ne collectera plus de documents pour vous."), "success")
    return redirect_to(url_for("documents.preferences"))


@bp.post("/preferences/mandates/<int:mandate_id>/cancel")
@login_required
def mandate_cancel(mandate_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        mandate = mandates.cancel(supplier(), current_user, mandate_id)
    except mandates.MandateError as exc:
        flash(str(exc.errors["mandate"]), "error")
    else:
        flash(_("Mandat %(reference)s annulé.", reference=mandates.reference(mandate)), "success")
    return redirect_to(url_for("documents.preferences"))
