"""bot/actions package."""
