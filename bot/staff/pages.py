"""The console pages ``/staff`` (needs a session, else redirect to ``/staff/login``) and their
files under ``/staff/static``. The pages hold no data: everything comes through the API."""

from __future__ import annotations

from aiohttp import web

from bot.gateway.web import WEB_ROOT, Asset
from bot.staff.http import current_session

STAFF_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
             "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
             "object-src 'none'")
PAGE_HEADERS = {"Content-Security-Policy": STAFF_CSP, "X-Frame-Options": "DENY",
                "Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}

STAFF_ASSETS = web.AppKey("staff_assets", dict[str, Asset])
routes = web.RouteTableDef()


def load_assets() -> dict[str, Asset]:
    folder = WEB_ROOT.joinpath("staff")
    return {p.name: Asset.load(f"staff/{p.name}") for p in folder.iterdir()
            if p.is_file() and not p.name.startswith(".")}


def _page(request: web.Request, name: str) -> web.Response:
    response = request.app[STAFF_ASSETS][name].response(request, "no-store")
    response.headers.update(PAGE_HEADERS)
    return response


@routes.get("/staff")
async def console_page(request: web.Request) -> web.StreamResponse:
    if await current_session(request) is None:
        raise web.HTTPFound("/staff/login")
    return _page(request, "index.html")


@routes.get("/staff/")
async def console_slash(_request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/staff")


@routes.get("/staff/login")
async def login_page(request: web.Request) -> web.StreamResponse:
    if await current_session(request) is not None:
        raise web.HTTPFound("/staff")
    return _page(request, "login.html")


@routes.get("/staff/static/{name}")
async def staff_file(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    asset = request.app[STAFF_ASSETS].get(name)
    if asset is None or name.endswith(".html"):
        raise web.HTTPNotFound()
    return asset.response(request, "no-cache")
