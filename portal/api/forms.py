from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from portal.api.keys import SCOPE_LABELS
from portal.api.webhook_endpoints import EVENT_LABELS
from portal.core.forms import Checkboxes


class ApiKeyForm(FlaskForm):
    name = StringField(
        _l("Nom de la clé"), description=_l("Pour la reconnaître : « ERP achats », « Outil de paiement »…")
    )
    scopes = Checkboxes(
        _l("Droits"),
        choices=[SelectChoice(scope, label) for scope, label in SCOPE_LABELS.items()],
        validate_choice=False,
    )
    expires_on = DateField(
        _l("Expire le (facultatif)"),
        validators=[Optional()],
        description=_l("Après cette date la clé ne fonctionne plus ; sans date, jusqu'à sa révocation."),
    )


class WebhookForm(FlaskForm):
    url = StringField(
        _l("Adresse du récepteur"), description=_l("HTTPS, par exemple https://erp.example.fr/webhooks/vigie.")
    )
    events = Checkboxes(
        _l("Événements"),
        choices=[SelectChoice(event, label) for event, label in EVENT_LABELS.items()],
        validate_choice=False,
    )
