from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, SelectField, StringField
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
