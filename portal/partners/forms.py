from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, StringField
from wtforms.validators import DataRequired, Length

from portal.auth.forms import email_validators


class RequestForm(FlaskForm):
    target_id = HiddenField(validators=[DataRequired()])


class InviteCompanyForm(FlaskForm):
    legal_name = StringField(
        _l("Raison sociale"), validators=[DataRequired(message=_l("Indiquez la raison sociale.")), Length(max=200)]
    )
    siret = StringField(_l("SIRET"), validators=[DataRequired(message=_l("Indiquez le SIRET (14 chiffres)."))])
    email = EmailField(_l("Adresse e-mail du contact"), validators=email_validators)
