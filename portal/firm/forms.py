from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from portal.core.forms import Checkboxes
from portal.core.validators import EmailAddress
from portal.firm.folder_documents import Upload

ROLE_CHOICES = [SelectChoice("collaborator", _l("Collaborateur")), SelectChoice("owner", _l("Administrateur"))]


class ActionForm(FlaskForm):
    """CSRF only: buttons, and forms whose fields depend on the data (partner apps)."""


class SiretForm(FlaskForm):
    siret = StringField(
        _l("SIRET"),
        validators=[DataRequired(message=_l("Indiquez le SIRET (14 chiffres)."))],
        description=_l("Les informations connues de l'entreprise sont reprises à l'étape suivante."),
    )


class CompanyForm(FlaskForm):
    siret = StringField(_l("SIRET"))
    name = StringField(_l("Raison sociale"), validators=[Length(max=200)])
    legal_form = StringField(_l("Forme juridique"), validators=[Length(max=100)])
    address = StringField(_l("Adresse"), validators=[Length(max=300)])
    postal_code = StringField(_l("Code postal"), validators=[Length(max=10)])
    city = StringField(_l("Ville"), validators=[Length(max=100)])
    naf_code = StringField(_l("Code NAF"), validators=[Length(max=6)])


class FiscalYearForm(FlaskForm):
    starts_on = DateField(
        _l("Date de début d'exercice"),
        validators=[Optional()],
        description=_l(
            "Créez ici le plus ancien exercice voulu ; les suivants s'ajoutent depuis les paramètres du dossier."
        ),
    )
    ends_on = DateField(
        _l("Date de fin d'exercice"),
        validators=[Optional()],
        description=_l("Proposée 12 mois après le début, moins un jour ; modifiable (24 mois au plus)."),
    )
    # The dates the page showed: without JavaScript the end is not refreshed when the start changes.
    shown_start = HiddenField()
    shown_end = HiddenField()

    def shown(self) -> tuple[date | None, date | None]:
        return _iso(self.shown_start.data), _iso(self.shown_end.data)

    def show(self, starts_on: date | None, ends_on: date | None) -> None:
        self.shown_start.data = starts_on.isoformat() if starts_on else ""
        self.shown_end.data = ends_on.isoformat() if ends_on else ""


def _iso(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text or "")
    except ValueError:
        return None


class TemplateChoiceForm(FlaskForm):
    template_id = RadioField(_l("Arborescence"), coerce=int, validate_choice=False)


class ExecutiveForm(FlaskForm):
    email = EmailField(_l("Adresse e-mail du dirigeant"), validators=[Optional(), EmailAddress()])
    last_name = StringField(_l("Nom"), validators=[Length(max=100)])
    first_name = StringField(_l("Prénom"), validators=[Length(max=100)])
    theme_ids = Checkboxes(_l("Thèmes qu'il verra"), coerce=int, validate_choice=False)
    invite_now = BooleanField(_l("Envoyer l'invitation maintenant"), default=True)


class CollaboratorsForm(FlaskForm):
    user_ids = Checkboxes(_l("Collaborateurs ayant accès à ce dossier"), coerce=int, validate_choice=False)


class MemberFilesForm(FlaskForm):
    file_ids = Checkboxes(_l("Dossiers clients accessibles"), coerce=int, validate_choice=False)


class InviteMemberForm(FlaskForm):
    email = EmailField(
        _l("Adresse e-mail"), validators=[DataRequired(message=_l("Indiquez l'adresse e-mail.")), EmailAddress()]
    )
    first_name = StringField(_l("Prénom"), validators=[Length(max=100)])
    last_name = StringField(_l("Nom"), validators=[Length(max=100)])
    role = SelectField(
        _l("Rôle"),
        choices=ROLE_CHOICES,
        default="collaborator",
    )


class RoleForm(FlaskForm):
    role = SelectField(_l("Rôle"), choices=ROLE_CHOICES)


class TemplateForm(FlaskForm):
    name = StringField(
        _l("Nom de l'arborescence"), validators=[DataRequired(message=_l("Donnez un nom.")), Length(max=100)]
    )


class FolderForm(FlaskForm):
    name = StringField(
        _l("Nom du répertoire"), validators=[DataRequired(message=_l("Donnez un nom.")), Length(max=100)]
    )
    parent_id = SelectField(_l("Dans"), coerce=int, validate_choice=False)
    theme_id = SelectField(_l("Thème"), coerce=int, validate_choice=False)
    fiscal = BooleanField(_l("Lié à l'exercice (un sous-répertoire par mois)"))


class ThemeForm(FlaskForm):
    name = StringField(_l("Nom du thème"), validators=[DataRequired(message=_l("Donnez un nom.")), Length(max=100)])
    shared = BooleanField(_l("Partagé avec le client"), default=True)


class InviteExecutiveForm(FlaskForm):
    email = EmailField(_l("Adresse e-mail du dirigeant"), validators=[Optional(), EmailAddress()])
    last_name = StringField(_l("Nom"), validators=[Length(max=100)])
    first_name = StringField(_l("Prénom"), validators=[Length(max=100)])


class ImportForm(FlaskForm):
    file = FileField(
        _l("Fichier CSV ou XLSX"),
        description=_l("Une ligne par client ; partez du modèle (5 Mo et 20 000 lignes au plus)."),
    )


class UploadForm(FlaskForm):
    file = FileField(_l("Document (PDF, JPEG ou PNG, 10 Mo au plus)"))

    def upload(self):
        """The posted file for folder_documents (an empty one when none was chosen: refused there)."""

        posted = self.file.data
        return Upload(posted.filename if posted else "", posted.read() if posted else b"")


class EmployeeForm(FlaskForm):
    email = EmailField(
        _l("Adresse e-mail"), validators=[DataRequired(message=_l("Indiquez l'adresse e-mail.")), EmailAddress()]
    )
    first_name = StringField(_l("Prénom"), validators=[Length(max=100)])
    last_name = StringField(_l("Nom"), validators=[Length(max=100)])
    theme_ids = Checkboxes(_l("Thèmes qu'il verra"), coerce=int, validate_choice=False)
