"""The company side of linked accounts: accept a group, unlink, and "Accès aux documents"."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from portal.core import tenancy
from portal.core.forms import EmptyForm
from portal.core.htmx import redirect_to, render, wants_fragment
from portal.core.labels import de
from portal.core.responses import attachment
from portal.documents import versions
from portal.partners import linked_documents, links
from portal.partners.routes.answers import answered

bp = Blueprint("linked", __name__, url_prefix="/linked")


@bp.get("/requests/<int:request_id>/accept")
@login_required
def confirm(request_id: int):
    """ "Accepter": first step, the summary of the accounts to link and "Accepter groupe"."""
    link_request = links.request_for(tenancy.current(), request_id)
    return render("linked/confirm.html", "linked/_confirm.html", link_request=link_request, action_form=EmptyForm())


@bp.post("/requests/<int:request_id>/<any(accept, refuse):decision>")
@login_required
def decide(request_id: int, decision: str):
    if not EmptyForm().validate_on_submit():
        abort(400)
    current = tenancy.current()
    try:
        link_request = links.decide(current, current_user, request_id, accept=decision == "accept")
    except links.LinkError as exc:
        flash(str(exc.errors["decision"]), "warning")
        if wants_fragment():
            link_request = links.request_for(current, request_id)
            return render(
                "linked/confirm.html",
                "linked/_confirm.html",
                link_request=link_request,
                action_form=EmptyForm(),
                status=422,
            )
        return redirect_to(url_for("main.home"))
    names = ", ".join(link.secondary.legal_name for link in link_request.links)
    message = (
        _("Rattachement accepté : %(names)s est rattaché à votre compte.", names=names)
        if decision == "accept"
        else _("Vous avez refusé le rattachement %(de_names)s.", names=names, de_names=de(names))
    )
    return answered(current, f"link-request-{link_request.id}", message)


@bp.post("/<int:link_id>/end")
@login_required
def end(link_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        link = links.end(tenancy.current(), current_user, link_id)
    except links.LinkError as exc:
        flash(str(exc.errors["decision"]), "warning")
    else:
        flash(
            _(
                "%(secondary)s n'est plus rattaché à %(main)s.",
                secondary=link.secondary.legal_name,
                main=link.main.legal_name,
            ),
            "success",
        )
    return redirect_to(url_for("partners.index"))


@bp.get("/documents")
@login_required
def access():
    """ "Accès aux documents": the first linked account, or why there is none."""
    accounts = linked_documents.linked_accounts(tenancy.current())
    if accounts:
        return redirect(url_for("linked.account", organisation_id=accounts[0].id), code=303)
    return render("linked/access.html", exchanged=None)


@bp.get("/documents/<int:organisation_id>")
@login_required
def account(organisation_id: int):
    return render(
        "linked/access.html",
        "linked/_account.html",
        exchanged=linked_documents.exchanged(tenancy.current(), organisation_id),
    )


@bp.get("/documents/<int:organisation_id>/versions/<int:version_id>/download")
@login_required
def download(organisation_id: int, version_id: int):
    version = linked_documents.version_for(tenancy.current(), organisation_id, version_id)
    data, name = versions.file_of(version)
    return attachment(data, name, version.content_type, version.size)
