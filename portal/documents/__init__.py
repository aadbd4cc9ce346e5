"""The supplier's compliance file: versions, compliance state, pre-checks, quitus, expiry, mandates, review."""
