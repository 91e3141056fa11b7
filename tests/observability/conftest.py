"""The Rasa stand-in every observability test puts behind its gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestServer

from tests.observability.helpers import rasa_stand_in


@pytest.fixture
async def rasa() -> AsyncIterator[TestServer]:
    server = TestServer(rasa_stand_in())
    await server.start_server()
    yield server
    await server.close()
