"""Plumbing every feature uses: config, extensions, htmx, errors, tenancy, outbox, queue, clock..."""
