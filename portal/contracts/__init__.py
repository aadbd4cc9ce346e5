"""Temp agencies: unsigned contracts, the reminder wizard and campaigns, signature sync, employee page."""
