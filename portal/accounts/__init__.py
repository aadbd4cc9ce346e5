"""Accounts: logging in, password reset, invitations, the organisations a user belongs to, the team."""
