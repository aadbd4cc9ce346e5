from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField

LANGUAGE_CHOICES = [("fr", "Français"), ("en", "English")]


class LanguageForm(FlaskForm):
    language = SelectField(_l("Langue"), choices=LANGUAGE_CHOICES)
