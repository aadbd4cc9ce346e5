from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from portal.core.validators import email_validators

MIN_PASSWORD = 10


def new_password_fields():
    password = PasswordField(
        _l("Nouveau mot de passe"),
        validators=[
            DataRequired(message=_l("Choisissez un mot de passe.")),
            Length(min=MIN_PASSWORD, max=200, message=_l("Au moins %(n)s caractères.", n=MIN_PASSWORD)),
        ],
        description=_l("Au moins %(n)s caractères.", n=MIN_PASSWORD),
    )
    confirm = PasswordField(
        _l("Confirmez le mot de passe"),
        validators=[
            DataRequired(message=_l("Confirmez le mot de passe.")),
            EqualTo("password", message=_l("Les deux mots de passe ne sont pas identiques.")),
        ],
    )
    return password, confirm


class LoginForm(FlaskForm):
    email = EmailField(_l("Adresse e-mail"), validators=[DataRequired(message=_l("Indiquez votre adresse e-mail."))])
    password = PasswordField(_l("Mot de passe"), validators=[DataRequired(message=_l("Indiquez votre mot de passe."))])
    remember = BooleanField(_l("Rester connecté sur cet appareil"))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Adresse e-mail"), validators=email_validators)


class ResetPasswordForm(FlaskForm):
    password, confirm = new_password_fields()


class NewAccountInvitationForm(FlaskForm):
    first_name = StringField(_l("Prénom"), validators=[Optional(), Length(max=100)])
    last_name = StringField(_l("Nom"), validators=[Optional(), Length(max=100)])
    password, confirm = new_password_fields()


class ExistingAccountInvitationForm(FlaskForm):
    password = PasswordField(
        _l("Votre mot de passe actuel"), validators=[DataRequired(message=_l("Indiquez votre mot de passe."))]
    )


ROLE_CHOICES = [SelectChoice("member", _l("Membre")), SelectChoice("owner", _l("Propriétaire"))]


class SwitchOrganisationForm(FlaskForm):
    organisation_id = HiddenField(validators=[DataRequired()])


class InviteForm(FlaskForm):
    email = EmailField(_l("Adresse e-mail"), validators=email_validators)
    first_name = StringField(_l("Prénom"), validators=[Optional(), Length(max=100)])
    last_name = StringField(_l("Nom"), validators=[Optional(), Length(max=100)])
    role = SelectField(_l("Rôle"), choices=ROLE_CHOICES, default="member")


def _current_password():
    return PasswordField(
        _l("Mot de passe actuel"), validators=[DataRequired(message=_l("Indiquez votre mot de passe actuel."))]
    )


def _code(label=None):
    return StringField(
        label or _l("Code à 6 chiffres de votre application"),
        validators=[DataRequired(message=_l("Indiquez le code affiché par votre application.")), Length(max=20)],
    )


class ChangePasswordForm(FlaskForm):
    current = _current_password()
    password, confirm = new_password_fields()


class EnableTwoFactorForm(FlaskForm):
    code = _code()


class DisableTwoFactorForm(FlaskForm):
    password = _current_password()
    code = _code(_l("Code de votre application ou code de secours"))


class RenewCodesForm(FlaskForm):
    code = _code()


class SecondFactorForm(FlaskForm):
    code = _code(_l("Code de votre application, ou un code de secours"))
    trust_device = BooleanField(_l("Se souvenir de cet appareil 30 jours"))
