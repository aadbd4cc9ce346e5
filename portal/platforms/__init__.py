"""Sync with other compliance platforms, per company ("Gérer mes organisations")."""
