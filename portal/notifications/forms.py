from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from portal.notifications.pauses import COMMENT_MAX, REASON_LABELS


class PauseRequestForm(FlaskForm):
    """The supplier's request; the use-case checks the reason and the comment again."""

    reason = SelectField(
        _l("Raison"),
        choices=[SelectChoice("", _l("Choisissez…"))] + [SelectChoice(k, v) for k, v in REASON_LABELS.items()],
        validate_choice=False,
    )
    comment = TextAreaField(
        _l("Commentaire pour le client"),
        validators=[Length(max=COMMENT_MAX, message=_l("%(max)d caractères au plus.", max=COMMENT_MAX))],
        description=_l("Facultatif, sauf pour « Autre raison »."),
    )


class PauseDecisionForm(FlaskForm):
    decision = RadioField(
        _l("Votre décision"),
        choices=[
            SelectChoice("pause", _l("Mettre les relances en pause jusqu'au…")),
            SelectChoice("end", _l("Mettre fin à la relation")),
            SelectChoice("refuse", _l("Refuser, avec une réponse")),
        ],
        validators=[Optional()],
        validate_choice=False,
    )
    until = DateField(_l("Pause jusqu'au"), validators=[Optional()], description=_l("Au plus un an."))
    answer = TextAreaField(_l("Réponse au fournisseur"), validators=[Length(max=COMMENT_MAX)])


class CadenceForm(FlaskForm):
    days = StringField(
        _l("Jours de relance après l'invitation"),
        description=_l("Par défaut : 2, 4, 6, 20, 30, 60, 90 (J+2, J+4…)."),
    )
