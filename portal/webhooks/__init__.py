"""Webhooks from providers (SMS delivery reports, e-signature)."""
