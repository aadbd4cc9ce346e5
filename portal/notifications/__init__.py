"""Notifications people want: preferences, the schedule, pauses, who asked, invitation follow-ups."""
