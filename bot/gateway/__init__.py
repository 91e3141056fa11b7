"""bot/gateway package."""
