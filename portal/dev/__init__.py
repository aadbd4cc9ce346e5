"""Development only: the outbox of emails and SMS."""
