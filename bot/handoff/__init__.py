"""bot/handoff package."""
