"""The OpenAPI description (bot/gateway/openapi.yaml) against the real app: every public route
is described and every described route exists, so the two cannot drift apart; the gateway
serves the document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from aiohttp.test_utils import TestClient

from bot.gateway.api import openapi_document
from bot.gateway.app import create_app
from tests.security.conftest import gateway_settings

SPEC = Path(__file__).resolve().parents[2] / "bot" / "gateway" / "openapi.yaml"
METHODS = {"get", "post", "put", "patch", "delete"}

# Routes that are not part of the HTTP API: pages, assets and the voice line's browser sockets
# (documented in docs/WIDGET.md, docs/HANDOFF.md and docs/VOICE.md). A new route must be either
# described in openapi.yaml or listed here on purpose.
NOT_API = {
    ("GET", "/"), ("GET", "/embed.js"), ("GET", "/static/{name}"),
    ("GET", "/staff"), ("GET", "/staff/"), ("GET", "/staff/login"),
    ("GET", "/staff/static/{name}"),
    ("GET", "/voice"), ("GET", "/voice/ws"), ("GET", "/voice/asr"), ("GET", "/voice/static"),
}


def _app_routes(tmp_path: Path) -> set[tuple[str, str]]:
    app = create_app(gateway_settings(tmp_path))
    routes = set()
    for route in app.router.routes():
        if route.method in ("HEAD", "OPTIONS") or route.resource is None:
            continue  # HEAD mirrors GET; OPTIONS is the CORS preflight of every /api route
        routes.add((route.method, route.resource.canonical))
    return routes


def _spec_routes(spec: dict[str, Any]) -> set[tuple[str, str]]:
    return {(method.upper(), path) for path, item in spec["paths"].items()
            for method in item if method in METHODS}


def test_every_route_is_described_and_every_description_is_a_route(tmp_path: Path) -> None:
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    app_routes = _app_routes(tmp_path)
    described = _spec_routes(spec)
    assert app_routes - NOT_API - described == set(), "routes missing in openapi.yaml"
    assert described - app_routes == set(), "openapi.yaml describes routes the app lacks"
    assert NOT_API <= app_routes, "NOT_API lists routes that no longer exist"


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [node["$ref"]] if "$ref" in node else [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_spec_is_well_formed() -> None:
    spec = openapi_document()
    assert spec["openapi"].startswith("3.0")
    for ref in _refs(spec):
        node: Any = spec
        for part in ref.removeprefix("#/").split("/"):
            node = node[part]  # KeyError = a dangling reference
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            assert operation["responses"], f"{method} {path} documents no response"
            for status in operation["responses"]:
                assert status.isdigit() and 100 <= int(status) < 600, (path, status)
                # 5xx only where it is a documented state (Rasa/storage down, health).
                if int(status) >= 500:
                    assert int(status) == 503, (path, status)
    chat = spec["components"]["schemas"]["ChatRequest"]
    # Room for new optional fields (message_id today): unknown fields are not rejected.
    assert chat.get("additionalProperties", True) is not False
    assert "message_id" in chat["properties"] and "message_id" not in chat["required"]


async def test_gateway_serves_the_document(gateway: TestClient) -> None:
    response = await gateway.get("/api/v1/openapi.json")
    assert response.status == 200
    assert response.content_type == "application/json"
    assert await response.json() == yaml.safe_load(SPEC.read_text(encoding="utf-8"))
