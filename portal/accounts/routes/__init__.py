"""Accounts' screens: login, password, invitations (``auth``); switching organisation, team."""

from portal.accounts.routes import auth, organisations, security

BLUEPRINTS = (auth.bp, organisations.bp, security.bp)
