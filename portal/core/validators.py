"""Form validators shared by features, built on the libraries the stack names."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms.validators import DataRequired, ValidationError


def checked_email(address: str) -> str:
    """The normalised address, or EmailNotValidError. Syntax only; ``.test`` allowed outside production."""
    return validate_email(
        address.strip(),
        check_deliverability=False,
        test_environment=current_app.config["VIGIE_ENV"] != "production",
    ).normalized


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
            field.data = checked_email(field.data)
        except EmailNotValidError as exc:
            raise ValidationError(self.message) from exc


email_validators = [
    DataRequired(message=_l("Indiquez votre adresse e-mail.")),
    EmailAddress(),
]

# The largest id or page number a request may carry: PostgreSQL's INTEGER.
MAX_NUMBER = 2**31 - 1


def whole_number(text, default: int | None = None, *, minimum: int = 0) -> int | None:
    """``text`` as a whole number when it is one, written in ASCII digits ("²" and "٣" are not),
    between ``minimum`` and PostgreSQL's INTEGER maximum; else ``default``."""
    text = str(text).strip() if text is not None else ""
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return default
    number = int(text)
    return number if minimum <= number <= MAX_NUMBER else default


def whole_numbers(values) -> list[int]:
    """The whole numbers among posted values (``request.form.getlist("ids")``), the rest dropped."""
    return [number for number in map(whole_number, values) if number is not None]


def page_number(text) -> int:
    """A ``?page=`` value: 1 unless it is a plausible page number."""
    return whole_number(text, 1, minimum=1)
