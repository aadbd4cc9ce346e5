from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

LANGUAGE_CHOICES = [SelectChoice("fr", "Français"), SelectChoice("en", "English")]


class LanguageForm(FlaskForm):
    language = SelectField(_l("Langue"), choices=LANGUAGE_CHOICES)
