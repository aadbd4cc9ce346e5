from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.core.labels import VALIDITY_RULE_LABELS


class ValidateForm(FlaskForm):
    valid_until = DateField(_l("Valable jusqu'au"), validators=[Optional()])


class RefuseForm(FlaskForm):
    reason = SelectField(
        _l("Motif du refus"),
        coerce=int,
        validate_choice=False,
        validators=[DataRequired(message=_l("Choisissez un motif de refus dans la liste."))],
    )
    comment = TextAreaField(
        _l("Commentaire pour le fournisseur (facultatif)"), validators=[Optional(), Length(max=1000)]
    )


class DocumentTypeForm(FlaskForm):
    label_fr = StringField(
        _l("Libellé (français)"), validators=[DataRequired(message=_l("Indiquez le libellé.")), Length(max=200)]
    )
    label_en = StringField(
        _l("Libellé (anglais)"), validators=[DataRequired(message=_l("Indiquez le libellé.")), Length(max=200)]
    )
    issuer = StringField(_l("Émetteur"), validators=[Optional(), Length(max=200)])
    validity_rule = SelectField(
        _l("Règle de validité"), choices=[SelectChoice(value, label) for value, label in VALIDITY_RULE_LABELS.items()]
    )
    validity_months = IntegerField(_l("Durée en mois"), validators=[Optional(), NumberRange(min=1, max=120)])
    has_verification_code = BooleanField(_l("Porte un code de vérification"))
    collectable = BooleanField(_l("Peut être collecté sous mandat"))
    active = BooleanField(_l("Actif"))
    auto_validate = BooleanField(
        _l("Validation automatique"),
        description=_l(
            "Un PDF natif dont le lecteur est sûr de chaque information (entreprise, type, dates, code) est "
            "validé sans opérateur, et dit « validé automatiquement » ; une part tirée au sort reste vérifiée "
            "par un opérateur."
        ),
    )

    retention_years = IntegerField(
        _l("Conservation des fichiers (années)"),
        validators=[
            InputRequired(message=_l("Indiquez la durée de conservation en années.")),
            NumberRange(min=1, max=50, message=_l("Entre 1 et 50 ans.")),
        ],
        description=_l(
            "Après qu'une version a cessé d'être valide, son fichier est supprimé au bout de cette durée ; "
            "ses dates, son état et son empreinte SHA-256 restent."
        ),
    )

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if self.validity_rule.data == "months_from_issue" and not self.validity_months.data:
            self.validity_months.errors = [*self.validity_months.errors, _l("Indiquez la durée de validité en mois.")]
            return False
        return valid


class RefusalReasonForm(FlaskForm):
    label_fr = StringField(
        _l("Motif (français)"), validators=[DataRequired(message=_l("Indiquez le motif.")), Length(max=200)]
    )
    label_en = StringField(
        _l("Motif (anglais)"), validators=[DataRequired(message=_l("Indiquez le motif.")), Length(max=200)]
    )
    active = BooleanField(_l("Proposé aux opérateurs"), default=True)


class CollectForm(FlaskForm):
    """A document the operator collected under a mandate, filed for the supplier."""

    type_code = SelectField(_l("Type de document"), validate_choice=False)
    file = FileField(
        _l("Fichier (PDF, JPEG ou PNG, 10 Mo maximum)"),
        validators=[FileRequired(message=_l("Choisissez le fichier à envoyer."))],
    )
    issued_on = DateField(
        _l("Date du document"),
        validators=[DataRequired(message=_l("Indiquez la date que le document certifie (sa date de délivrance)."))],
    )
    valid_until = DateField(_l("Fin de validité imprimée"), validators=[Optional()])
    verification_code = StringField(_l("Code de vérification"), validators=[Optional()])


class FindUserForm(FlaskForm):
    class Meta:
        csrf = False

    email = StringField(_l("Adresse e-mail"), validators=[Optional(), Length(max=254)])
