"""``/api/v1``: what a company's ERP or purchasing tool reads, on the portal's own use-cases.

Built with flask-smorest (marshmallow schemas → OpenAPI 3.1 at ``/api/v1/openapi.json``). It is an
extension of a plain Flask app, so the portal keeps its app factory, pages and error pages (apiflask
would need its ``APIFlask`` app class). A request carries ``Authorization: Bearer <key>``; the key
acts as its creator's membership (``portal.api.keys``), narrowed by its scopes; every answer outside
the key's company is 404, whatever id or SIREN is typed.
"""

from __future__ import annotations

import functools
import http
import time
from datetime import UTC, date

from flask import current_app, g, json, request
from flask_smorest import Api, Blueprint, abort
from flask_smorest.utils import prepare_response
from limits import parse
from sqlalchemy import bindparam, select
from webargs.flaskparser import FlaskParser
from werkzeug.datastructures import CombinedMultiDict

from portal.api import keys, schemas, webhook_endpoints
from portal.core import problems
from portal.core.exceptions import InvalidInput
from portal.core.extensions import csrf, db, limiter
from portal.core.labels import current_locale
from portal.core.responses import attachment
from portal.documents import auto_validation, compliance, issuer_links, versions, warning_text
from portal.models import DocumentVersion, Organisation, Partnership
from portal.partners import partnerships, requirements, vigilance


class _Parser(FlaskParser):
    """``location="files"`` reads a whole multipart form: its files and its other fields, so that one
    schema describes one ``multipart/form-data`` request body in the OpenAPI file."""

    def load_files(self, req, schema):
        return self._makeproxy(CombinedMultiDict([req.files, req.form]), schema)


class _Blueprint(Blueprint):
    ARGUMENTS_PARSER = _Parser()


bp = _Blueprint(
    "api_v1",
    __name__,
    url_prefix="/api/v1",
    description="Vigie's public API: suppliers' compliance, documents, requirements.",
)
csrf.exempt(bp)


class VigieApi(Api):
    """flask-smorest without its app-wide error handler: the portal's pages keep their HTML errors;
    API paths get problem details from ``portal.core.errors``."""

    ERROR_SCHEMA = schemas.Problem

    def _register_error_handlers(self):
        pass

    def _register_responses(self):
        """Error responses documented as they are served: ``application/problem+json``."""
        for status in [*http.HTTPStatus, None]:
            response = {"description": status.phrase if status else "Default error response"}
            if status is None or not (100 <= status < 200 or status in (204, 304)):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, "application/problem+json")
            self.spec.components.response(status.name if status else "DEFAULT_ERROR", response, lazy=True)


api = VigieApi(
    spec_kwargs={
        "info": {"description": __doc__.split("\n\n")[0]},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
    }
)


def init_app(app) -> None:
    app.config.setdefault("API_TITLE", "Vigie")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    api.init_app(app)
    api.register_blueprint(bp)
    limiter.exempt(bp)  # the API counts per key, below


# --- authentication, scopes, rate limit --------------------------------------------------------


def caller() -> keys.Caller:
    return g.api_caller


def need(scope: str) -> keys.Caller:
    found = caller()
    if not found.allows(scope):
        abort(403, detail=problems.missing_scope(scope))
    return found


@bp.before_request
def _authenticate():
    if request.method in ("GET", "HEAD") and not db.session().in_transaction():
        # A read needs no transaction: each statement sees what is committed when it runs, as in the
        # READ COMMITTED transaction it would otherwise open, and the audit row commits with its
        # INSERT. That spares the BEGIN and COMMIT round trips of every read. (A test holding the
        # app context may have begun one already: then the request runs in it.)
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    given = request.headers.get("Authorization", "")
    scheme, _, presented = given.partition(" ")
    found = keys.authenticate(presented.strip()) if scheme.lower() == "bearer" and presented.strip() else None
    if found is None:
        abort(401, detail=problems.bad_key(), headers={"WWW-Authenticate": 'Bearer realm="vigie"'})
    g.api_caller = found
    _count(found)


def _count(found: keys.Caller) -> None:
    item = parse(current_app.config["API_RATE_LIMIT"])
    try:
        allowed = limiter.limiter.hit(item, "api", str(found.key_id))
        reset, remaining = limiter.limiter.get_window_stats(item, "api", str(found.key_id))
    except Exception:  # noqa: BLE001 - the counter's store down: serve, as the portal's forms do
        current_app.logger.warning("API rate limit not counted (storage unavailable)", exc_info=True)
        return
    seconds = max(int(reset - time.time()), 0)
    g.api_rate = {
        "RateLimit-Limit": str(item.amount),
        "RateLimit-Remaining": str(max(remaining, 0)),
        "RateLimit-Reset": str(seconds),
    }
    if not allowed:
        abort(429, detail=problems.too_many(), headers={**g.api_rate, "Retry-After": str(max(seconds, 1))})


@bp.after_request
def _audit(response):
    found = g.get("api_caller")
    for name, value in (g.get("api_rate") or {}).items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Cache-Control", "private, no-cache")
    if found is not None:
        session = db.session
        if session.new or session.dirty or session.deleted:  # nothing a view left pending goes with it
            session.rollback()
        keys.record_use(found, request.method, request.full_path.rstrip("?"), response.status_code)
    return response


# --- helpers -----------------------------------------------------------------------------------


def _utc(moment):
    return moment.replace(tzinfo=UTC) if moment is not None else None


def _day(value):
    """A date the reader stored as ISO text (None when unread or unreadable)."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return value


def _reading(check: dict) -> dict | None:
    """What the pre-checks read on a file (None: nothing was read)."""
    if not check:
        return None
    return {
        "detected_type": check.get("detected_type"),
        "certified_on": _day(check.get("certified_on")),
        "valid_until": _day(check.get("valid_until")),
        "verification_code": check.get("verification_code"),
        "issuer": check.get("issuer"),
    }


def _supplier(siren: str) -> Organisation:
    """The company of that SIREN whose file the caller's company may read, or 404."""
    if len(siren) != 9 or not siren.isdigit():
        abort(404)
    organisation = db.session.scalar(select(Organisation).where(Organisation.siren == siren))
    if organisation is None:
        abort(404)
    return partnerships.shared_with(caller().tenancy, organisation.id)


def _documents(file: compliance.ComplianceFile) -> list[dict]:
    """Each document the partner page lists, with what Vigie read on its valid version (one query)."""
    rows = file.online
    active_ids = [row.active.id for row in rows if row.active is not None]
    readings = (
        dict(
            db.session.execute(
                select(DocumentVersion.id, DocumentVersion.precheck).where(DocumentVersion.id.in_(active_ids))
            ).all()
        )
        if active_ids
        else {}
    )
    language = current_locale()
    answered = []
    for row in rows:
        active = row.active
        check = (readings.get(active.id) or {}) if active is not None else {}
        reading = _reading(check)
        links = (
            issuer_links.checks_for(
                row.document_type.code, check.get("issuer"), active.verification_code, check.get("verification_code")
            )
            if active is not None
            else []
        )
        answered.append(
            {
                "type": row.document_type.code,
                "label": row.document_type.label(language),
                "required": row.required,
                "required_by": list(row.requested_by),
                "state": row.state,
                "document_id": active.id if active is not None else None,
                "issued_on": active.issued_on if active is not None else None,
                "valid_until": active.valid_until if active is not None else None,
                "verification_code": active.verification_code if active is not None else None,
                "reading": reading,
                "verification_links": [link.__dict__ for link in links],
            }
        )
    return answered


# --- resources ---------------------------------------------------------------------------------


@functools.cache
def _suppliers_statement(by_status: bool, by_siren: bool, since: bool):
    """The list's statement for one combination of filters, built once (building a statement costs
    about as much as running it on a page this size)."""
    query = (
        select(
            Partnership.id,
            Organisation.siren,
            Organisation.legal_name,
            Partnership.compliance_status,
            Partnership.expiring_count,
            Partnership.status_updated_at,
            Partnership.decided_at,
        )
        .join(Organisation, Organisation.id == Partnership.target_id)
        .where(
            Partnership.requester_id == bindparam("requester_id"),
            Partnership.status == "accepted",
            Partnership.id > bindparam("after"),
        )
        .order_by(Partnership.id)
        .limit(bindparam("limit"))
    )
    if by_status:
        query = query.where(Partnership.compliance_status == bindparam("status"))
    if by_siren:
        query = query.where(Organisation.siren == bindparam("siren"))
    if since:
        query = query.where(Partnership.status_updated_at >= bindparam("since"))
    return query


@bp.get("/suppliers")
@bp.arguments(schemas.SupplierListArgs, location="query", as_kwargs=True)
@bp.response(200, schemas.SupplierPage, headers={"ETag": {"schema": {"type": "string"}}})
@bp.alt_response(304, description="Not modified (If-None-Match)")
def suppliers(cursor, limit, status, siren, updated_since):
    """The company's accepted partners and their compliance as it sees them, by creation order."""
    organisation_id = need("suppliers:read").organisation_id  # the key's company: no tenancy to load
    since = updated_since.astimezone(UTC).replace(tzinfo=None) if updated_since is not None else None
    rows = (
        db.session.connection()
        .execute(  # plain rows: no ORM layer on the hot list
            _suppliers_statement(bool(status), bool(siren), since is not None),
            {
                "requester_id": organisation_id,
                "after": cursor,
                "limit": limit + 1,
                "status": status,
                "siren": siren,
                "since": since,
            },
        )
        .all()
    )
    window = compliance.window_days()
    page = rows[:limit]
    # The hot list: its rows are plain values already, so they are written as JSON here rather than
    # through the schema's dump (the schema documents them; the fuzz test checks every answer
    # against it), and werkzeug adds the ETag and answers If-None-Match.
    return _json_with_etag(
        {
            "data": [
                {
                    "siren": row.siren,
                    "legal_name": row.legal_name,
                    "status": row.compliance_status,
                    "expiring_documents": row.expiring_count,
                    "expiring_within_days": window,
                    "status_changed_at": _iso(row.status_updated_at),
                    "partner_since": _iso(row.decided_at),
                }
                for row in page
            ],
            "next_cursor": page[-1].id if len(rows) > limit else None,
        }
    )


def _iso(moment) -> str | None:
    return _utc(moment).isoformat() if moment is not None else None


def _json_with_etag(body: dict):
    answer = current_app.response_class(json.dumps(body), mimetype="application/json")
    answer.add_etag()
    return answer.make_conditional(request)


@bp.get("/suppliers/<siren>")
@bp.etag
@bp.response(200, schemas.SupplierDetail)
def supplier(siren: str):
    """One partner: each document with its state, validity, who requires it, what was read on it and
    where its issuer confirms it."""
    tenancy = need("suppliers:read").tenancy
    organisation = _supplier(siren)
    relation = db.session.scalar(
        select(Partnership).where(
            Partnership.requester_id == tenancy.organisation.id,
            Partnership.target_id == organisation.id,
            Partnership.status == "accepted",
        )
    )
    if relation is not None:  # kept up to date with every change (partner_status): what the list says
        status, expiring = relation.compliance_status, relation.expiring_count
    else:  # a file read the other way round (the company asked us): computed for us
        status, expiring = compliance.summary(compliance.load(organisation, for_client=tenancy.organisation.id))
    file = compliance.load(organisation)
    return {
        "siren": organisation.siren,
        "legal_name": organisation.legal_name,
        "status": status,
        "expiring_documents": expiring,
        "expiring_within_days": compliance.window_days(),
        "status_changed_at": _utc(relation.status_updated_at) if relation else None,
        "partner_since": _utc(relation.decided_at) if relation else None,
        "documents": _documents(file),
    }


FILE_RESPONSE = {
    "200": {
        "description": "The file, as an attachment",
        "content": {
            kind: {"schema": {"type": "string", "format": "binary"}}
            for kind in ("application/pdf", "image/jpeg", "image/png")
        },
    }
}


@bp.get("/suppliers/<siren>/documents/<int:document_id>/file")
@bp.doc(responses=FILE_RESPONSE)
def supplier_file(siren: str, document_id: int):
    """The valid file of one of the partner's documents (``document_id`` from ``GET /suppliers/{siren}``)."""
    tenancy = need("documents:read").tenancy
    organisation = _supplier(siren)
    version = partnerships.shared_version(tenancy, organisation.id, document_id)
    data, name = versions.file_of(version)
    return attachment(data, name, version.content_type, version.size)


@bp.get("/me/documents")
@bp.etag
@bp.response(200, schemas.OwnDocuments)
def own_documents():
    """A supplier's own file, as its "Mes documents" pages show it."""
    tenancy = need("documents:read").tenancy
    organisation = tenancy.organisation
    if not organisation.is_supplier:
        abort(403, detail=problems.not_a_supplier())
    return {
        "siren": organisation.siren,
        "legal_name": organisation.legal_name,
        "documents": _documents(compliance.load(organisation)),
    }


@bp.errorhandler(InvalidInput)
def _invalid(error: InvalidInput):
    """A use-case's refusal of what was sent: one entry per field, in the reader's language."""
    errors = [{"field": field, "message": str(message)} for field, message in error.errors.items()]
    return problems.response(422, errors=errors)


def _partner_id(siren: str | None) -> int | None:
    return _supplier(siren).id if siren else None


@bp.get("/requirements")
@bp.arguments(schemas.RequirementArgs, location="query", as_kwargs=True)
@bp.etag
@bp.response(200, schemas.Requirements)
def get_requirements(supplier):
    """The document types the company requires of all its suppliers, or of one partner (``supplier``)."""
    tenancy = need("suppliers:read").tenancy
    chosen = requirements.chosen(tenancy, _partner_id(supplier))
    available = [t.code for t in requirements.types()]
    return {"supplier": supplier, "types": [code for code in available if code in chosen], "available_types": available}


@bp.put("/requirements")
@bp.arguments(schemas.RequirementArgs, location="query", as_kwargs=True)
@bp.arguments(schemas.RequirementBody, as_kwargs=True)
@bp.response(200, schemas.Requirements)
def put_requirements(supplier, types):
    """Replace what is required (the portal's "Documents exigés" form)."""
    found = need("requirements:write")
    saved = requirements.save(found.tenancy, found.user, _partner_id(supplier), types)
    available = [t.code for t in requirements.types()]
    return {"supplier": supplier, "types": [code for code in available if code in saved], "available_types": available}


@bp.post("/partnership-requests")
@bp.arguments(schemas.PartnershipRequestBody)
@bp.response(201, schemas.PartnershipRequest)
def partnership_request(body):
    """Ask a company on Vigie to connect (``siren``), or invite one that is not (``siret``, ``email``,
    ``legal_name``): the portal's "Ajouter un partenaire"."""
    found = need("partners:write")
    siren = body.get("siren") or (body.get("siret") or "")[:9]
    if not siren:
        raise InvalidInput({"siren": problems.siren_or_siret()})
    target = db.session.scalar(select(Organisation).where(Organisation.siren == siren))
    if target is not None:
        partnership = partnerships.request(found.tenancy, found.user, target.id)
    else:
        missing = {name: problems.needed_to_invite() for name in ("siret", "email", "legal_name") if not body.get(name)}
        if missing:
            raise InvalidInput(missing)
        partnership = partnerships.invite(
            found.tenancy, found.user, email=body["email"], siret=body["siret"], legal_name=body["legal_name"]
        )
        target = db.session.get(Organisation, partnership.target_id)
    return {
        "id": partnership.id,
        "siren": target.siren,
        "legal_name": target.legal_name,
        "status": partnership.status,
        "invited_email": partnership.invited_email,
    }


def _cents(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _engagement(view: vigilance.EngagementView) -> dict:
    e = view.engagement
    return {
        "id": e.id,
        "reference": e.reference,
        "amount_ht": _cents(e.amount_cents),
        "starts_on": e.starts_on,
        "ends_on": e.ends_on,
        "cumulative_12_months_ht": _cents(view.cumulative_cents),
        "legal_duty": view.applies,
        "checkpoints": [
            {
                "day": c.day,
                "kind": "conclusion" if c.conclusion else "six-monthly",
                "state": c.state,
                "documents": [
                    {
                        "accepted_types": list(item.need.codes),
                        "article": item.need.article,
                        "state": item.state,
                        "version_id": item.version.id if item.version else None,
                        "received_on": item.received_on,
                    }
                    for item in c.items
                ],
            }
            for c in view.checkpoints
        ],
    }


@bp.get("/suppliers/<siren>/engagements")
@bp.response(200, schemas.EngagementList)
def engagements(siren: str):
    """The company's engagements with that partner and their legal checkpoints (the supplier's page)."""
    found = need("suppliers:read")
    views = vigilance.timeline(found.tenancy, _supplier(siren).id)
    if views is None:  # a file read the other way round: the company did not ask this one
        abort(404)
    return {"data": [_engagement(view) for view in views]}


@bp.post("/suppliers/<siren>/engagements")
@bp.arguments(schemas.EngagementBody, as_kwargs=True)
@bp.response(201, schemas.Engagement)
def record_engagement(siren: str, reference, amount_ht, starts_on, ends_on):
    """Record a contract or an order with that partner (the "Vigilance légale" form)."""
    found = need("engagements:write")
    supplier = _supplier(siren)
    try:
        engagement = vigilance.record(
            found.tenancy,
            found.user,
            supplier.id,
            reference=reference,
            amount_cents=vigilance.parse_amount(str(amount_ht)),
            starts_on=starts_on,
            ends_on=ends_on,
        )
    except InvalidInput as exc:  # the use-case's field names, as this body names them
        renamed = {"amount": "amount_ht"}
        raise InvalidInput({renamed.get(name, name): message for name, message in exc.errors.items()}) from None
    views = vigilance.timeline(found.tenancy, supplier.id) or []
    return _engagement(next(view for view in views if view.engagement.id == engagement.id))


@bp.post("/me/documents/<code>/versions")
@bp.arguments(schemas.VersionUpload, location="files", as_kwargs=True)
@bp.response(201, schemas.SentVersion)
def send_version(code, issued_on, valid_until, verification_code, confirm_sync, file):
    """A new version of one of the supplier's documents (multipart): the portal's "Mettre à jour",
    same checks; answers what was read on it."""
    found = need("documents:write")
    organisation = found.tenancy.organisation
    if not organisation.is_supplier:
        abort(403, detail=problems.not_a_supplier())
    kind = versions.document_type(code)  # 404 for a type not in the catalogue
    upload = versions.Upload(
        data=file.read(),
        filename=file.filename or "document",
        issued_on=issued_on,
        valid_until=valid_until,
        verification_code=verification_code,
    )
    sent = versions.submit(organisation, found.user, code, upload, sync_confirmed=confirm_sync)
    notices = versions.supplier_notices(sent, kind, organisation)
    auto_validation.consider(sent.id)
    check = sent.precheck or {}
    return {
        "id": sent.id,
        "type": code,
        "status": sent.status,
        "issued_on": sent.issued_on,
        "valid_until": sent.valid_until,
        "verification_code": sent.verification_code,
        "reading": _reading(check),
        "warnings": notices + [warning_text.shown(w) for w in check.get("warnings", [])],
    }


def _webhook(endpoint) -> dict:
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "events": list(endpoint.events),
        "active": endpoint.active,
        "failing_since": _utc(endpoint.failing_since),
    }


@bp.get("/webhooks")
@bp.response(200, schemas.WebhookList)
def list_webhooks():
    """The company's webhook endpoints (Paramètres → API › Webhooks)."""
    tenancy = need("webhooks:write").tenancy
    return {"data": [_webhook(endpoint) for endpoint in webhook_endpoints.listed(tenancy)]}


@bp.post("/webhooks")
@bp.arguments(schemas.WebhookBody, as_kwargs=True)
@bp.response(201, schemas.NewWebhook)
def create_webhook(url, events):
    """Register an endpoint; its signing secret is in this answer only."""
    found = need("webhooks:write")
    endpoint, secret = webhook_endpoints.create(found.tenancy, found.user, url=url, events=events)
    return {**_webhook(endpoint), "secret": secret}


@bp.delete("/webhooks/<int:webhook_id>")
@bp.response(204)
def switch_off_webhook(webhook_id: int):
    """Switch an endpoint off: nothing more is sent to it (its log is kept)."""
    found = need("webhooks:write")
    webhook_endpoints.switch(found.tenancy, found.user, webhook_id, False)
    return ""
