"""API errors: a stable machine-readable code plus a German message, rendered as JSON."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from aiohttp import hdrs, web

from bot.store import STORE_UNAVAILABLE

log = structlog.get_logger(__name__)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def response(self) -> web.Response:
        return web.json_response(
            {"error": {"code": self.code, "message": self.message}}, status=self.status)


def storage_unavailable() -> ApiError:
    """The error while the database cannot be reached: retryable, nothing the client did."""
    return ApiError(503, "storage-unavailable",
                    "Ihre Nachricht konnte gerade nicht verarbeitet werden, weil der "
                    "Datenspeicher nicht erreichbar ist. Bitte versuchen Sie es in einigen "
                    "Sekunden erneut.")


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_HTTP_CODES = {
    404: ("not-found", "Diese Adresse gibt es nicht."),
    405: ("method-not-allowed", "Diese Methode ist hier nicht erlaubt."),
    413: ("payload-too-large", "Die Anfrage ist zu groß."),
}


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as err:
        return err.response()
    except web.HTTPException as err:
        if err.status in _HTTP_CODES and request.path.startswith("/api/"):
            code, message = _HTTP_CODES[err.status]
            response = ApiError(err.status, code, message).response()
            if hdrs.ALLOW in err.headers:  # a 405 must say what is allowed (RFC 9110)
                response.headers[hdrs.ALLOW] = err.headers[hdrs.ALLOW]
            return response
        raise
    except STORE_UNAVAILABLE as err:  # any endpoint: the database is down or restarting
        log.warning("gateway.request.store_unavailable", path=request.path,
                    error=type(err).__name__)
        return storage_unavailable().response()
    except Exception:
        log.exception("gateway.request.failed", path=request.path)
        return ApiError(500, "internal-error",
                        "Es ist ein interner Fehler aufgetreten. Bitte versuchen Sie es später "
                        "noch einmal.").response()
