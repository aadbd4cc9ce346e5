"""Operators: the review queue, a document's review page, Valider / Refuser."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from portal.core import tenancy, uploads
from portal.core.extensions import db
from portal.core.htmx import redirect_to, render
from portal.core.responses import attachment
from portal.core.storage import storage
from portal.core.validators import page_number
from portal.documents import review
from portal.models import DocumentType
from portal.operations import previews
from portal.operations.forms import RefuseForm, ValidateForm
from portal.operations.routes.blueprints import bp


@bp.get("/review")
@login_required
def review_queue():
    type_code = request.args.get("type") or None
    company = (request.args.get("company") or "").strip() or None
    page = request.args.get("page", 1, type=page_number)
    items, total = review.queue(tenancy.current(), type_code=type_code, company=company, page=page)
    types = db.session.scalars(select(DocumentType).order_by(DocumentType.sort_order)).all()
    return render(
        "operations/review_queue.html",
        "operations/_review_table.html",
        items=items,
        total=total,
        page=page,
        pages=max((total + 24) // 25, 1),
        types=types,
        type_code=type_code,
        company=company or "",
    )


def _decision_page(found, validate_form, refuse_form, status=200, errors=None):
    refuse_form.reason.choices = [(0, _("Choisissez un motif…"))] + [
        (reason.id, reason.label_fr) for reason in review.refusal_reasons()
    ]
    data = storage().read(found.version.storage_key, size=found.version.size, sha256=found.version.sha256)
    return render(
        "operations/review_item.html",
        "operations/_decision.html",
        found=found,
        validate_form=validate_form,
        refuse_form=refuse_form,
        pages=previews.page_count(data, found.version.content_type),
        type_labels=review.type_labels(),
        alternatives=review.alternatives_of(found.document_type.code),
        issuer_checks=review.issuer_checks(found),
        errors=errors or {},
        status=status,
    )


@bp.get("/review/<int:version_id>")
@login_required
def review_item(version_id: int):
    found = review.item(tenancy.current(), version_id)
    validate_form = ValidateForm()
    proposed = found.version.precheck.get("proposed_valid_until")
    validate_form.valid_until.data = found.version.valid_until or (date.fromisoformat(proposed) if proposed else None)
    return _decision_page(found, validate_form, RefuseForm())


@bp.get("/review/<int:version_id>/pages/<int:page>.png")
@login_required
def review_page_image(version_id: int, page: int):
    found = review.item(tenancy.current(), version_id)
    data = storage().read(found.version.storage_key, size=found.version.size, sha256=found.version.sha256)
    try:
        image = previews.render_page(data, found.version.content_type, page)
    except previews.NoSuchPage:
        abort(404)
    except previews.PreviewUnavailable:
        return (
            render_template("operations/_preview_unavailable.svg"),
            200,
            {
                "Content-Type": "image/svg+xml",
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "no-store",
            },
        )
    return (
        image,
        200,
        {"Content-Type": "image/png", "X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=300"},
    )


@bp.get("/review/<int:version_id>/download")
@login_required
def review_download(version_id: int):
    found = review.item(tenancy.current(), version_id)
    version = found.version
    data = storage().stream(version.storage_key, size=version.size, sha256=version.sha256)
    name = uploads.download_name(found.document_type.label_fr, version.issued_on, version.content_type)
    return attachment(data, name, version.content_type, version.size)


@bp.post("/review/<int:version_id>/validate")
@login_required
def review_validate(version_id: int):
    form = ValidateForm()
    if not form.validate_on_submit():
        found = review.item(tenancy.current(), version_id)
        return _decision_page(found, form, RefuseForm(formdata=None), 422)
    try:
        found = review.validate(tenancy.current(), current_user, version_id, form.valid_until.data)
    except review.ReviewError as exc:
        found = review.item(tenancy.current(), version_id)
        return _decision_page(found, form, RefuseForm(formdata=None), 422, exc.errors)
    flash(
        _(
            "Document validé : %(label)s — %(org)s.",
            label=found.document_type.label_fr,
            org=found.organisation.legal_name,
        ),
        "success",
    )
    return _next_document()


@bp.post("/review/<int:version_id>/refuse")
@login_required
def review_refuse(version_id: int):
    form = RefuseForm()
    current = tenancy.current()
    if not form.validate_on_submit():
        found = review.item(current, version_id)
        return _decision_page(found, ValidateForm(formdata=None), form, 422)
    try:
        found = review.refuse(current, current_user, version_id, form.reason.data, form.comment.data or "")
    except review.ReviewError as exc:
        found = review.item(current, version_id)
        return _decision_page(found, ValidateForm(formdata=None), form, 422, exc.errors)
    flash(
        _(
            "Document refusé : %(label)s — %(org)s.",
            label=found.document_type.label_fr,
            org=found.organisation.legal_name,
        ),
        "success",
    )
    return _next_document()


def _next_document():
    """After a decision, the next document of the queue (the oldest left), or the empty queue."""
    following = review.next_in_queue(tenancy.current())
    if following is None:
        return redirect_to(url_for("operations.review_queue"))
    return redirect_to(url_for("operations.review_item", version_id=following))
