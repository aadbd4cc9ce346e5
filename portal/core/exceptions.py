"""The exceptions use-cases raise for bad input or a refusal: French messages keyed by form field."""

from __future__ import annotations

from werkzeug.exceptions import Forbidden


class InvalidInput(Exception):
    def __init__(self, errors: dict):
        super().__init__(errors)
        self.errors = errors

    def attach_to(self, form) -> None:
        """Show each message next to its field (messages for unknown fields are ignored)."""
        for name, message in self.errors.items():
            if name in form:
                form[name].errors = [*form[name].errors, str(message)]


class Refused(Forbidden):
    """403 with a French explanation shown on the error page."""

    def __init__(self, explanation):
        super().__init__()
        self.explanation = explanation
