"""``python -m bot.gateway``: the gateway child process of ``buergerbot run``."""

from bot import gcpause

gcpause.hold()  # the imports too; serve() settles once the gateway has started

from bot.gateway.app import serve
from bot.logs import configure_logging
from bot.settings import Settings

if __name__ == "__main__":
    settings = Settings.load()
    configure_logging(settings.log_level, log_format=settings.log_format, role="gateway")
    serve(settings)
