"""The public API (``/api/v1``) and its keys."""
