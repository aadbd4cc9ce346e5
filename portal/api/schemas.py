"""What the API reads and answers (marshmallow schemas: flask-smorest writes the OpenAPI from them)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from portal.core.labels import N_
from portal.models import WEBHOOK_EVENTS
from portal.partners.compliance_dashboard import STATUSES

MAX_LIMIT = 100
# The validators' messages are msgids (no braces: marshmallow formats nothing in them), translated
# when the problem is written (portal.core.problems).
NINE_DIGITS = N_("9 chiffres.")
STATUS_CHOICES = N_("Valeurs permises : compliant, incomplete, expired, in_review.")


class PageArgs(ma.Schema):
    cursor = ma.fields.Integer(
        load_default=0,
        # an INTEGER id on PostgreSQL
        validate=validate.Range(min=0, max=2**31 - 1, error=N_("Reprenez le next_cursor de la page précédente.")),
        metadata={"description": "next_cursor of the previous page (absent: the first page)"},
    )
    limit = ma.fields.Integer(
        load_default=50, validate=validate.Range(min=1, max=MAX_LIMIT, error=N_("Entre 1 et 100."))
    )


class SupplierListArgs(PageArgs):
    status = ma.fields.String(load_default=None, validate=validate.OneOf(STATUSES, error=STATUS_CHOICES))
    siren = ma.fields.String(load_default=None, validate=validate.Regexp(r"^[0-9]{9}$", error=NINE_DIGITS))
    updated_since = ma.fields.AwareDateTime(
        load_default=None, default_timezone=None, metadata={"description": "ISO 8601 with a time zone"}
    )


class SupplierSummary(ma.Schema):
    siren = ma.fields.String(required=True)
    legal_name = ma.fields.String(required=True)
    status = ma.fields.String(
        required=True, validate=validate.OneOf(STATUSES), metadata={"description": "as the client sees it"}
    )
    expiring_documents = ma.fields.Integer(
        required=True, metadata={"description": "required documents ending within expiring_within_days"}
    )
    expiring_within_days = ma.fields.Integer(required=True)
    status_changed_at = ma.fields.DateTime(allow_none=True, required=True, metadata={"description": "UTC"})
    partner_since = ma.fields.DateTime(allow_none=True, required=True, metadata={"description": "UTC"})


class SupplierPage(ma.Schema):
    data = ma.fields.List(ma.fields.Nested(SupplierSummary), required=True)
    next_cursor = ma.fields.Integer(allow_none=True, required=True, metadata={"description": "null on the last page"})


class VerificationLink(ma.Schema):
    issuer = ma.fields.String(required=True)
    code = ma.fields.String(required=True)
    url = ma.fields.String(allow_none=True, required=True, metadata={"description": "null: no public page"})
    code_in_url = ma.fields.Boolean(required=True)


class Reading(ma.Schema):
    """What Vigie read on the file (null: not read)."""

    detected_type = ma.fields.String(allow_none=True, required=True)
    certified_on = ma.fields.Date(allow_none=True, required=True)
    valid_until = ma.fields.Date(allow_none=True, required=True)
    verification_code = ma.fields.String(allow_none=True, required=True)
    issuer = ma.fields.String(allow_none=True, required=True)


class DocumentState(ma.Schema):
    type = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    required = ma.fields.Boolean(required=True)
    required_by = ma.fields.List(ma.fields.String(), required=True)
    state = ma.fields.String(
        required=True, validate=validate.OneOf(("missing", "in_review", "refused", "valid", "expiring", "expired"))
    )
    document_id = ma.fields.Integer(
        allow_none=True, required=True, metadata={"description": "the valid version, for /documents/{id}/file"}
    )
    issued_on = ma.fields.Date(allow_none=True, required=True)
    valid_until = ma.fields.Date(allow_none=True, required=True)
    verification_code = ma.fields.String(allow_none=True, required=True)
    reading = ma.fields.Nested(Reading, allow_none=True, required=True)
    verification_links = ma.fields.List(ma.fields.Nested(VerificationLink), required=True)


class SupplierDetail(SupplierSummary):
    documents = ma.fields.List(ma.fields.Nested(DocumentState), required=True)


class OwnDocuments(ma.Schema):
    siren = ma.fields.String(required=True)
    legal_name = ma.fields.String(required=True)
    documents = ma.fields.List(ma.fields.Nested(DocumentState), required=True)


class Problem(ma.Schema):
    """RFC 9457 problem details."""

    type = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String()
    errors = ma.fields.List(ma.fields.Dict())


class RequirementArgs(ma.Schema):
    supplier = ma.fields.String(
        load_default=None,
        validate=validate.Regexp(r"^[0-9]{9}$", error=NINE_DIGITS),
        metadata={"description": "a partner's SIREN; absent: what is required of all suppliers"},
    )


class RequirementBody(ma.Schema):
    types = ma.fields.List(
        ma.fields.String(validate=validate.Length(min=1, max=40, error=N_("De 1 à 40 caractères."))),
        required=True,
        validate=validate.Length(max=100, error=N_("100 types au plus.")),
        metadata={"description": "document type codes, e.g. RC_PRO, DECENNALE"},
    )


class Requirements(ma.Schema):
    supplier = ma.fields.String(allow_none=True, required=True)
    types = ma.fields.List(ma.fields.String(), required=True)
    available_types = ma.fields.List(ma.fields.String(), required=True)


class PartnershipRequestBody(ma.Schema):
    siren = ma.fields.String(
        validate=validate.Regexp(r"^[0-9]{9}$", error=NINE_DIGITS), metadata={"description": "a company on Vigie"}
    )
    siret = ma.fields.String(
        validate=validate.Regexp(r"^[0-9]{14}$", error=N_("14 chiffres.")),
        metadata={"description": "a company not on Vigie yet (invited)"},
    )
    email = ma.fields.String(
        validate=validate.Length(max=254, error=N_("254 caractères au plus.")),
        metadata={"description": "whom to invite"},
    )
    legal_name = ma.fields.String(validate=validate.Length(min=1, max=200, error=N_("De 1 à 200 caractères.")))


class PartnershipRequest(ma.Schema):
    id = ma.fields.Integer(required=True)
    siren = ma.fields.String(required=True)
    legal_name = ma.fields.String(required=True)
    status = ma.fields.String(required=True)
    invited_email = ma.fields.String(allow_none=True, required=True)


class VersionUpload(ma.Schema):
    """A multipart form: the file and what the supplier declares of it."""

    file = ma.fields.Raw(required=True, metadata={"type": "string", "format": "binary"})
    issued_on = ma.fields.Date(required=True, metadata={"description": "the date the document certifies"})
    valid_until = ma.fields.Date(load_default=None, metadata={"description": "printed end date, when the type has one"})
    verification_code = ma.fields.String(
        load_default=None, validate=validate.Length(max=40, error=N_("40 caractères au plus."))
    )
    confirm_sync = ma.fields.Boolean(
        load_default=None, metadata={"description": "true when the type comes from a platform sync: upload anyway"}
    )


class SentVersion(ma.Schema):
    id = ma.fields.Integer(required=True)
    type = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"description": "submitted, or valid when validated at once"})
    issued_on = ma.fields.Date(required=True)
    valid_until = ma.fields.Date(allow_none=True, required=True)
    verification_code = ma.fields.String(allow_none=True, required=True)
    reading = ma.fields.Nested(Reading, allow_none=True, required=True)
    warnings = ma.fields.List(ma.fields.String(), required=True)


class WebhookBody(ma.Schema):
    url = ma.fields.String(required=True, validate=validate.Length(min=1, max=500, error=N_("De 1 à 500 caractères.")))
    events = ma.fields.List(
        ma.fields.String(
            validate=validate.OneOf(WEBHOOK_EVENTS, error=N_("Événement inconnu : voyez la liste des événements."))
        ),
        required=True,
        validate=validate.Length(min=1, error=N_("Choisissez au moins un événement.")),
    )


class Webhook(ma.Schema):
    id = ma.fields.Integer(required=True)
    url = ma.fields.String(required=True)
    events = ma.fields.List(ma.fields.String(), required=True)
    active = ma.fields.Boolean(required=True)
    failing_since = ma.fields.DateTime(allow_none=True, required=True)


class NewWebhook(Webhook):
    secret = ma.fields.String(required=True, metadata={"description": "the signing secret, shown this once"})


class WebhookList(ma.Schema):
    data = ma.fields.List(ma.fields.Nested(Webhook), required=True)


class EngagementBody(ma.Schema):
    reference = ma.fields.String(
        required=True, validate=validate.Length(min=1, max=80, error=N_("De 1 à 80 caractères."))
    )
    amount_ht = ma.fields.Decimal(
        required=True,
        metadata={"description": "euros excluding VAT, at most two decimals (number or string)"},
    )
    starts_on = ma.fields.Date(required=True, metadata={"description": "the conclusion date"})
    ends_on = ma.fields.Date(load_default=None, allow_none=True, metadata={"description": "null: ongoing"})


class CheckpointDocument(ma.Schema):
    accepted_types = ma.fields.List(ma.fields.String(), required=True)
    article = ma.fields.String(required=True, metadata={"description": "Code du travail article"})
    state = ma.fields.String(
        required=True, metadata={"description": "held, late, checking, missing; to come: covered, to_renew"}
    )
    version_id = ma.fields.Integer(allow_none=True, required=True)
    received_on = ma.fields.Date(allow_none=True, required=True)


class Checkpoint(ma.Schema):
    day = ma.fields.Date(required=True)
    kind = ma.fields.String(required=True, metadata={"description": "conclusion or six-monthly"})
    state = ma.fields.String(
        required=True, metadata={"description": "met, late, checking, missed; to come: upcoming, at_risk"}
    )
    documents = ma.fields.List(ma.fields.Nested(CheckpointDocument), required=True)


class Engagement(ma.Schema):
    id = ma.fields.Integer(required=True)
    reference = ma.fields.String(required=True)
    amount_ht = ma.fields.String(required=True, metadata={"description": "euros excluding VAT, e.g. 12500.50"})
    starts_on = ma.fields.Date(required=True)
    ends_on = ma.fields.Date(allow_none=True, required=True)
    cumulative_12_months_ht = ma.fields.String(required=True)
    legal_duty = ma.fields.Boolean(required=True, metadata={"description": "the 5 000 € HT threshold is reached"})
    checkpoints = ma.fields.List(ma.fields.Nested(Checkpoint), required=True)


class EngagementList(ma.Schema):
    data = ma.fields.List(ma.fields.Nested(Engagement), required=True)
