from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import Length


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
