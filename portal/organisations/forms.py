from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from portal.auth.forms import email_validators

ROLE_CHOICES = [SelectChoice("member", _l("Membre")), SelectChoice("owner", _l("Propriétaire"))]


class SwitchOrganisationForm(FlaskForm):
    organisation_id = HiddenField(validators=[DataRequired()])


class InviteForm(FlaskForm):
    email = EmailField(_l("Adresse e-mail"), validators=email_validators)
    first_name = StringField(_l("Prénom"), validators=[Optional(), Length(max=100)])
    last_name = StringField(_l("Nom"), validators=[Optional(), Length(max=100)])
    role = SelectField(_l("Rôle"), choices=ROLE_CHOICES, default="member")


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for one-button actions."""


class ConnectPlatformForm(FlaskForm):
    platform = SelectField(_l("Plateforme"), validate_choice=False)
    account_ref = StringField(
        _l("Identifiant du compte sur la plateforme"),
        validators=[Length(max=100)],
        description=_l("Laissez vide pour utiliser le SIREN de l'entreprise."),
    )
    api_key = PasswordField(
        _l("Clé d'API"),
        validators=[Length(max=200)],
        description=_l("Donnée par la plateforme ; chiffrée, jamais réaffichée."),
    )
