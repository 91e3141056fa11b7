"""``python -m bot.gateway``: the gateway child process of ``buergerbot run``."""

from bot.gateway.app import serve
from bot.logs import configure_logging
from bot.settings import Settings

if __name__ == "__main__":
    settings = Settings.load()
    configure_logging(settings.log_level, log_format=settings.log_format, role="gateway")
    serve(settings)
