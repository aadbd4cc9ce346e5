"""Automatic validation, per document type, when operators switch it on (off by default).

A native PDF (never a scan) is validated by Vigie on its own only when the reader is sure of every
fact and each one agrees with what the supplier declared: the company is the document's subject
and its name is printed, the type is the one chosen, the certified date is the date declared, the
validity follows, the verification code is the one typed, and the reader raised no warning at all.
It is recorded "validé automatiquement", shown as such to partners, and a share of them (setting
``AUTO_VALIDATION_SAMPLE``, 10 % by default) still goes to the review queue for a person to check.
"""

from __future__ import annotations

import random

from flask import current_app

from portal.core import audit
from portal.core.extensions import db
from portal.documents import review
from portal.models import DocumentType, DocumentVersion

SAMPLED = "Éligible à la validation automatique : tiré au sort pour un contrôle par un opérateur."


def blocking(check: dict, kind: DocumentType, version: DocumentVersion, accepted: set[str]) -> list[str]:
    """Why this version may not be validated without an operator (empty: it may)."""
    why = []
    if check.get("kind") != "text" or check.get("ocr"):
        why.append("not a native PDF")
    if check.get("warnings"):
        why.append("warnings")
    sure = check.get("confidence") or {}
    # The subject named by its label ("l'entreprise", "Assuré", "Dénomination"), not guessed as the
    # only number printed without one.
    if check.get("siren_found") is not True or check.get("name_match") is not True:
        why.append("company")
    elif sure.get("subject_siren") != "high":
        why.append("company")
    if check.get("detected_type") not in accepted:
        why.append("type")
    if kind.validity_rule != "printed_end_date":
        if check.get("certified_on") != version.issued_on.isoformat() or sure.get("certified_on") != "high":
            why.append("certified date")
    proposed = check.get("proposed_valid_until")
    if version.valid_until is None or proposed != version.valid_until.isoformat():
        why.append("validity")
    if kind.has_verification_code and (
        not version.verification_code
        or (check.get("verification_code") or "").upper() != version.verification_code.upper()
    ):
        why.append("code")
    return why


def consider(version_id: int, *, draw=random.random) -> bool:
    """After an upload: validate it now when its type allows it and nothing blocks; True if done."""
    version = db.session.get(DocumentVersion, version_id)
    if version is None or version.status != "submitted":
        return False
    found = review.QueueItem(
        *db.session.execute(review.with_type_and_company().where(DocumentVersion.id == version.id)).one()
    )
    kind: DocumentType = found.document_type
    if not kind.auto_validate:
        return False
    if blocking(version.precheck or {}, kind, version, {kind.code, *review.alternatives_of(kind.code)}):
        return False
    if draw() < current_app.config["AUTO_VALIDATION_SAMPLE"]:
        version.precheck = {**version.precheck, "warnings": [*version.precheck.get("warnings", []), SAMPLED]}
        audit.record("document.sampled_for_review", organisation_id=version.organisation_id, version_id=version.id)
        db.session.commit()
        return False
    review.archive_older(version)
    version.validated_automatically = True
    review.decide(found, None, "valid", "document_validated")
    return True
