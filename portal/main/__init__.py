"""The home page and the dashboard."""
