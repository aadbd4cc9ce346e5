from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, SelectField, SelectMultipleField, StringField, widgets
from wtforms.validators import DataRequired, Optional

from portal.documents.catalogue import DEFAULT_VERIFICATION_CODE_HINT, VERIFICATION_CODE_HINTS
from portal.models import DocumentType


class UploadForm(FlaskForm):
    file = FileField(
        _l("Fichier (PDF, JPEG ou PNG, 10 Mo maximum)"),
        validators=[FileRequired(message=_l("Choisissez le fichier à envoyer."))],
    )
    issued_on = DateField(
        _l("Date du document"),
        validators=[DataRequired(message=_l("Indiquez la date que le document certifie (sa date de délivrance)."))],
        description=_l("La date que le document certifie : « à la date du… », « délivré le… »."),
    )
    valid_until = DateField(_l("Fin de validité imprimée"), validators=[Optional()])
    verification_code = StringField(_l("Code de vérification"), validators=[Optional()])
    confirm_sync = BooleanField(_l("J'ai compris : je dépose ce document ici quand même."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit = current_app.config["UPLOAD_MAX_BYTES"]
        # The browser says "10 Mo maximum" before sending (static/js/app.js); the server checks anyway.
        self.file.render_kw = {
            "accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png",
            "data-max-bytes": limit,
            "data-too-large": _(
                "Ce fichier fait %(size)s Mo : %(max)s Mo maximum. Réduisez-le (un scan en 200 dpi suffit) ou "
                "choisissez-en un autre.",
                size="{size}",
                max=limit // 1048576,
            ),
        }

    def adapt(self, document_type: DocumentType, synced_by: str | None = None) -> "UploadForm":
        """Keep only the fields this type of document needs; ``synced_by``: the platform whose sync
        provides this type (the upload then asks for confirmation)."""
        if document_type.validity_rule != "printed_end_date":
            del self.valid_until
        else:
            self.valid_until.description = _l("La date « valable jusqu'au » imprimée sur l'attestation.")
        if not document_type.has_verification_code:
            del self.verification_code
        else:
            self.verification_code.description = VERIFICATION_CODE_HINTS.get(
                document_type.code, DEFAULT_VERIFICATION_CODE_HINT
            )
        if synced_by is None:
            del self.confirm_sync
        return self


class AddDocumentForm(UploadForm):
    type_code = SelectField(_l("Type de document"), validators=[DataRequired(message=_l("Choisissez le type."))])


class MandateForm(FlaskForm):
    types = SelectMultipleField(
        _l("Documents que Vigie pourra collecter pour vous"),
        option_widget=widgets.CheckboxInput(),
        widget=widgets.ListWidget(prefix_label=False),
        validate_choice=False,
    )


class SignedMandateForm(FlaskForm):
    file = FileField(
        _l("Mandat signé (PDF, JPEG ou PNG)"), validators=[FileRequired(message=_l("Choisissez le fichier."))]
    )
