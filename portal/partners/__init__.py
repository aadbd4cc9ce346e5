"""Partners: connection requests, requirements, compliance dashboard, client sheets, linked accounts."""
