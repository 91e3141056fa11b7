"""Rasa's conversation lock in Redis (bot/cluster/rasa_lock.py) against a real Redis server:
mutual exclusion across two stores (two Rasa servers), expiry of a dead holder's lock, release
by token only. Each store is built by Rasa's own factory from the endpoints section we write;
tests/cluster/test_stores.py reads it from a written endpoints.yml, as a Rasa server does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from rasa.core.lock_store import LockError, LockStore
from rasa.utils.endpoints import EndpointConfig

from bot.cluster.endpoints import lock_store
from bot.cluster.rasa_lock import RedisMutexLockStore
from tests.redis_server import RedisServer, running_redis


class Redis:
    """The server, and every client a test opens on it (closed at the end)."""

    def __init__(self, server: RedisServer) -> None:
        self.server = server
        self.clients: list[aioredis.Redis] = []

    def client(self) -> aioredis.Redis:
        self.clients.append(aioredis.from_url(self.server.url))
        return self.clients[-1]

    def store(self) -> RedisMutexLockStore:
        """A store as Rasa builds it from the endpoints.yml section we write (one per server)."""
        store = LockStore.create(EndpointConfig.from_dict(lock_store(self.server.url)))
        assert isinstance(store, RedisMutexLockStore)
        self.clients.append(store.red)
        return store


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    with running_redis() as server:
        handle = Redis(server)
        try:
            yield handle
        finally:
            for client in handle.clients:
                await client.close(close_connection_pool=True)


async def test_the_store_is_namespaced_apart_from_rasas_own_lock_keys(
        redis: Redis) -> None:
    store = redis.store()
    async with store.lock("citizen-1") as held:
        assert held.conversation_id == "citizen-1"
        keys = await redis.client().keys("*")
        assert keys == [b"buergerbot:mutex:citizen-1"]  # not Rasa's never-expiring "lock:"
    assert await redis.client().keys("*") == []


async def test_two_servers_never_hold_one_conversation_at_once(redis: Redis) -> None:
    a, b = redis.store(), redis.store()
    inside: list[str] = []
    log: list[tuple[str, str]] = []

    async def turn(store: RedisMutexLockStore, name: str, conversation: str) -> None:
        async with store.lock(conversation, wait_time_in_seconds=0.05):
            inside.append(conversation)
            log.append(("in", name))
            # Another turn of the same conversation must not be inside now.
            assert inside.count(conversation) == 1
            await asyncio.sleep(0.05)
            inside.remove(conversation)
            log.append(("out", name))

    await asyncio.gather(*(turn(a if i % 2 else b, f"t{i}", "c1") for i in range(8)))
    assert len(log) == 16
    assert all(log[i][0] == "in" and log[i + 1] == ("out", log[i][1]) for i in range(0, 16, 2))

    # Different conversations do not wait for each other.
    started = asyncio.get_running_loop().time()
    await asyncio.gather(*(turn(a, f"p{i}", f"c{i}") for i in range(2, 8)))
    assert asyncio.get_running_loop().time() - started < 0.3  # six 50 ms turns side by side


async def test_a_dead_holders_lock_expires_and_its_late_release_frees_nothing(
        redis: Redis) -> None:
    a, b = redis.store(), redis.store()
    client = redis.client()
    # A server that died holding the lock: its key stays until the lifetime is over.
    await client.set("buergerbot:mutex:c1", "dead", px=300)
    waited = asyncio.get_running_loop().time()
    async with b.lock("c1", lock_lifetime=5, wait_time_in_seconds=0.05):
        assert asyncio.get_running_loop().time() - waited >= 0.25
        # A holder whose lock expired and who gives it back late must not free b's lock.
        assert await a._release(keys=["buergerbot:mutex:c1"], args=["dead"]) == 0
        assert await client.get("buergerbot:mutex:c1") not in (None, b"dead")
    assert await client.get("buergerbot:mutex:c1") is None


async def test_waiting_ends_with_rasas_lock_error_when_the_lock_never_frees(
        redis: Redis) -> None:
    store = redis.store()
    await redis.client().set("buergerbot:mutex:c1", "stuck")  # no expiry
    with pytest.raises(LockError):
        async with store.lock("c1", lock_lifetime=0.3, wait_time_in_seconds=0.05):
            pytest.fail("got a lock that another holder has")


async def test_a_cancelled_turn_gives_the_lock_back(redis: Redis) -> None:
    store = redis.store()

    async def hold() -> None:
        async with store.lock("c1"):
            await asyncio.sleep(30)

    task = asyncio.create_task(hold())
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.sleep(0.05)  # the shielded release finishes
    assert await redis.client().get("buergerbot:mutex:c1") is None


def test_key_prefix_must_be_alphanumeric() -> None:
    with pytest.raises(ValueError, match="Buchstaben"):
        RedisMutexLockStore(client=aioredis.Redis(), key_prefix="a:b")


async def test_a_lost_redis_at_release_does_not_fail_the_finished_turn(redis: Redis) -> None:
    store = redis.store()
    async with store.lock("c1"):
        redis.server.stop()  # the turn is done and stored; Redis is gone when it gives back
    redis.server.start()  # (the key was lost with the server: no persistence)
    async with store.lock("c1", lock_lifetime=2):  # and the lock works again afterwards
        pass
