from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import DateField, EmailField, HiddenField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.core.validators import EmailAddress, email_validators


class RequestForm(FlaskForm):
    target_id = HiddenField(validators=[DataRequired()])


class InviteCompanyForm(FlaskForm):
    legal_name = StringField(
        _l("Raison sociale"), validators=[DataRequired(message=_l("Indiquez la raison sociale.")), Length(max=200)]
    )
    siret = StringField(_l("SIRET"), validators=[DataRequired(message=_l("Indiquez le SIRET (14 chiffres)."))])
    email = EmailField(_l("Adresse e-mail du contact"), validators=email_validators)


contact_email_validators = [DataRequired(message=_l("Indiquez l'adresse e-mail du contact.")), EmailAddress()]


class SheetForm(FlaskForm):
    siret = StringField(_l("SIRET"), validators=[DataRequired(message=_l("Indiquez le SIRET (14 chiffres)."))])
    legal_name = StringField(
        _l("Raison sociale"),
        validators=[Optional(), Length(max=200)],
        description=_l("Seulement si l'entreprise n'est pas encore sur Vigie : elle sera invitée."),
    )
    contact_email = EmailField(_l("Adresse e-mail du contact"), validators=contact_email_validators)


class SheetEmailForm(FlaskForm):
    contact_email = EmailField(_l("Adresse e-mail du contact"), validators=contact_email_validators)


class LinkForm(FlaskForm):
    """ "Gérer le rattachement": the main account and the companies linked under it."""

    main_id = SelectField(_l("Compte principal"), coerce=int, validate_choice=False)
    company_ids = SelectMultipleField(
        _l("Sociétés du groupe"),
        coerce=int,
        validate_choice=False,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )


class EngagementForm(FlaskForm):
    """An engagement with a supplier: the use-case checks the amount and the dates again."""

    reference = StringField(
        _l("Référence du contrat ou de la commande"),
        validators=[DataRequired(message=_l("Indiquez la référence du contrat ou de la commande.")), Length(max=80)],
    )
    amount = StringField(
        _l("Montant HT (€)"),
        validators=[DataRequired(message=_l("Indiquez le montant hors taxes en euros."))],
        description=_l("Hors taxes. Plusieurs engagements avec ce fournisseur sur douze mois s'additionnent."),
    )
    starts_on = DateField(
        _l("Date de conclusion"),
        validators=[DataRequired(message=_l("Indiquez la date de conclusion (jj/mm/aaaa)."))],
    )
    ends_on = DateField(
        _l("Fin de l'exécution"),
        validators=[Optional()],
        description=_l("Laissez vide si l'engagement est en cours."),
    )


class PeriodForm(FlaskForm):
    """A period for a proof file or the URSSAF export (the use-case checks it)."""

    start = DateField(_l("Du"), validators=[Optional()])
    end = DateField(_l("Au"), validators=[Optional()])


class EngagementImportForm(FlaskForm):
    file = FileField(_l("Fichier CSV ou XLSX des engagements"))
