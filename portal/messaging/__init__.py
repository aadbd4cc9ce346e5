"""Emails and SMS: notifications, SMS rules (segments, cost, hours), deliveries."""
