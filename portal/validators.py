"""Form validators shared by features, built on the libraries the stack names."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError


class EmailAddress:
    """Syntax check with email-validator, never a DNS lookup.

    Outside production the special-use ``.test`` domain is accepted (demo accounts use it).
    """

    def __init__(self, message=None):
        self.message = message or _l("Cette adresse e-mail n'est pas valide.")

    def __call__(self, _form, field) -> None:
        if not field.data:
            return
        try:
            result = validate_email(
                field.data.strip(),
                check_deliverability=False,
                test_environment=current_app.config["VIGIE_ENV"] != "production",
            )
        except EmailNotValidError as exc:
            raise ValidationError(self.message) from exc
        field.data = result.normalized
