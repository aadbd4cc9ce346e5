from __future__ import annotations

from flask import abort, flash, request, stream_with_context, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.exceptions import Forbidden

from portal.core import tenancy
from portal.core.exceptions import InvalidInput
from portal.core.forms import EmptyForm
from portal.core.htmx import redirect_to, render, wants_fragment
from portal.core.labels import current_locale
from portal.core.responses import attachment
from portal.documents import auto_validation, compliance, exports, quitus, versions
from portal.documents.forms import AddDocumentForm, UploadForm
from portal.documents.routes.blueprints import bp
from portal.platforms import connections


def supplier():
    current = tenancy.current()
    if not current.organisation.is_supplier:
        raise Forbidden()
    return current


def _sync_confirmed(form: UploadForm) -> bool:
    return bool(form.confirm_sync.data) if "confirm_sync" in form else False


def _upload(form: UploadForm) -> versions.Upload:
    file = form.file.data
    return versions.Upload(
        data=file.read(),
        filename=file.filename or "document",
        issued_on=form.issued_on.data,
        valid_until=form.valid_until.data if "valid_until" in form else None,
        verification_code=form.verification_code.data if "verification_code" in form else None,
    )


@bp.get("/documents")
@login_required
def pending():
    file = compliance.load(supplier().organisation)
    return render("documents/pending.html", "documents/_pending_tab.html", file=file)


@bp.get("/documents/online")
@login_required
def online():
    current = supplier()
    file = compliance.load(current.organisation)
    return render("documents/online.html", file=file, synced_checks=connections.checks_of(current.organisation.id))


@bp.route("/documents/<code>/update", methods=["GET", "POST"])
@login_required
def update(code: str):
    current = supplier()
    file = compliance.load(current.organisation)
    row = file.row_for(code)
    if row is None:
        abort(404)
    synced_by = connections.provider_of(current.organisation.id, code)
    form = UploadForm().adapt(row.document_type, synced_by)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                sent = versions.submit(
                    current.organisation, current_user, code, _upload(form), sync_confirmed=_sync_confirmed(form)
                )
            except versions.InvalidUpload as exc:
                exc.attach_to(form)
            else:
                for notice in versions.supplier_notices(sent, row.document_type, current.organisation):
                    flash(notice, "warning")
                if auto_validation.consider(sent.id):
                    message = _(
                        "Document envoyé et validé automatiquement : %(label)s.",
                        label=row.document_type.label(current_locale()),
                    )
                else:
                    message = _(
                        "Document envoyé : %(label)s. Il est en cours de vérification.",
                        label=row.document_type.label(current_locale()),
                    )
                if wants_fragment():
                    file = compliance.load(current.organisation)
                    return render(
                        "documents/pending.html",
                        "documents/_pending_sent.html",
                        row=file.row_for(code),
                        file=file,
                        message=message,
                        trigger="document-uploaded",
                    )
                flash(message, "success")
                return redirect_to(url_for("documents.pending"))
        status = 422
    return render(
        "documents/update.html",
        "documents/_pending_item.html",
        row=row,
        form=form,
        file=file,
        open_form=True,
        synced_by=synced_by and connections.label(synced_by),
        status=status,
    )


@bp.route("/documents/add", methods=["GET", "POST"])
@login_required
def add():
    """Step 1: the type; step 2 (same page with ``type_code``): only the fields that type needs.
    With htmx, changing the type redraws the form in place."""
    current = supplier()
    file = compliance.load(current.organisation)
    chosen = (request.form if request.method == "POST" else request.args).get("type_code", "")
    kind = next((t for t in file.types if t.code == chosen), None)
    form = AddDocumentForm()
    form.type_code.choices = [("", _("Choisissez…"))] + [(t.code, t.label(current_locale())) for t in file.types]
    synced_by = connections.provider_of(current.organisation.id, kind.code) if kind else None
    if kind is None:
        for name in ("file", "issued_on", "valid_until", "verification_code", "confirm_sync"):
            del form[name]
    else:
        form.type_code.data = kind.code
        form.adapt(kind, synced_by)
    status = 200
    if request.method == "POST":
        if form.validate_on_submit() and kind is not None:
            try:
                sent = versions.submit(
                    current.organisation, current_user, kind.code, _upload(form), sync_confirmed=_sync_confirmed(form)
                )
            except versions.InvalidUpload as exc:
                exc.attach_to(form)
            else:
                for notice in versions.supplier_notices(sent, kind, current.organisation):
                    flash(notice, "warning")
                if auto_validation.consider(sent.id):
                    flash(_("Document ajouté et validé automatiquement."), "success")
                else:
                    flash(_("Document ajouté : il est en cours de vérification."), "success")
                return redirect_to(url_for("documents.online"))
        status = 422
    return render(
        "documents/add.html",
        "documents/_add_form.html",
        form=form,
        file=file,
        kind=kind,
        synced_by=synced_by and connections.label(synced_by),
        status=status,
    )


@bp.get("/documents/versions/<int:version_id>/download")
@login_required
def download(version_id: int):
    version = versions.own_version(supplier().organisation, version_id)
    data, name = versions.file_of(version)
    return attachment(data, name, version.content_type, version.size)


@bp.post("/documents/export")
@login_required
def export():
    """ "Exporter mon dossier": every version ever sent, with its manifest (a POST: it is audited)."""
    current = supplier()
    if not EmptyForm().validate_on_submit():
        abort(400)
    data, name = exports.own_file(current, current_user)
    return attachment(stream_with_context(data), name, "application/zip")


@bp.post("/documents/versions/<int:version_id>/withdraw")
@login_required
def withdraw(version_id: int):
    current = supplier()
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        kind = versions.withdraw(current.organisation, current_user, version_id)
    except InvalidInput as exc:
        flash(str(exc.errors["withdraw"]), "error")
    else:
        flash(_("Version refusée retirée : %(label)s.", label=kind.label(current_locale())), "success")
    return redirect_to(url_for("documents.pending"))


@bp.post("/documents/quitus")
@login_required
def issue_quitus():
    """Issuing a quitus writes (a row, an audit entry): a POST, then the PDF is fetched by GET."""
    current = supplier()
    if not EmptyForm().validate_on_submit():
        abort(400)
    issued = quitus.issue(current.organisation, current_user)
    return redirect_to(url_for("documents.quitus_pdf", quitus_id=issued.id))


@bp.get("/documents/quitus/<int:quitus_id>.pdf")
@login_required
def quitus_pdf(quitus_id: int):
    current = supplier()
    issued = quitus.own(current.organisation, quitus_id)
    data = quitus.render(issued, current.organisation)
    return attachment(data, f"quitus-{current.organisation.siren}-{issued.issued_at:%Y-%m-%d}.pdf", "application/pdf")


@bp.get("/verifier")
def verify_form():
    code = request.args.get("code", "").strip()
    if code:
        return redirect_to(url_for("documents.verify", code="".join(c for c in code if c.isalnum()).upper()))
    return render("documents/verify.html", result=None, code="")


@bp.get("/verifier/<code>")
def verify(code: str):
    result = quitus.verify(code)
    return render("documents/verify.html", result=result, code=code, status=200 if result else 404)
