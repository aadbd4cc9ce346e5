"""The operators' screens: review, mandates, catalogue, paid options, deliveries."""
