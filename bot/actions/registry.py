"""The action server's services, built once and lazily: the one place actions get dependencies.

rasa_sdk instantiates actions without arguments, so actions cannot be handed their
dependencies. Instead they ask :data:`registry` for :class:`Services`. The registry builds them
on first use from ``Settings.load()`` (catalogue, retriever, clock, a bounded executor for the
blocking retrieval work); ``server.py`` builds them eagerly at start so the first chat is fast;
tests call :meth:`Registry.configure` with a real small catalogue and retriever instead.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

import structlog

from bot.actions.plan import focus
from bot.catalogue.model import Catalogue
from bot.settings import Settings
from retrieval.api import Decision, DecisionKind

log = structlog.get_logger(__name__)

# German cities only, for now: office hours in the catalogue are Berlin wall-clock times.
CITY_TIMEZONE = ZoneInfo("Europe/Berlin")
WARM_UP_QUERY = "Was kostet ein Personalausweis?"


class Decider(Protocol):
    """What the actions need from the retrieval engine."""

    def decide(self, text: str) -> Decision: ...


def city_now() -> dt.datetime:
    return dt.datetime.now(CITY_TIMEZONE)


@dataclass(frozen=True, slots=True)
class Services:
    catalogue: Catalogue
    retriever: Decider
    executor: ThreadPoolExecutor
    clock: Callable[[], dt.datetime] = city_now

    async def decide(self, text: str, mentions: Sequence[str] = ()) -> Decision:
        """Retrieval off the event loop, on the bounded executor.

        When the whole message finds nothing, the service names the NLU marked in it are
        searched alone (an English sentence around "passport", a long story around "Ausweis").
        """
        loop = asyncio.get_running_loop()
        decision = await loop.run_in_executor(self.executor, self.retriever.decide, text)
        if decision.kind == DecisionKind.ABSTAIN and mentions:
            focused = await loop.run_in_executor(self.executor, self.retriever.decide,
                                                 " ".join(mentions))
            decision = focus(decision, focused)
        return decision

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)


def build_services(settings: Settings) -> Services:
    """Load the catalogue and open (building if stale) the retrieval index."""
    from bot.catalogue import load_catalogue
    from retrieval.engine import Retriever

    log.info("actions.registry.catalogue.loading")
    catalogue = load_catalogue(settings.catalogue)
    log.info("actions.registry.retriever.opening", services=len(catalogue.services),
             model=settings.embedding_model)
    retriever = Retriever.open(catalogue, model=settings.embedding_model,
                               index_dir=settings.index_dir)
    executor = ThreadPoolExecutor(settings.worker_threads, thread_name_prefix="actions")
    return Services(catalogue=catalogue, retriever=retriever, executor=executor)


class Registry:
    """Holds the one :class:`Services` of this process; thread-safe, built on first use."""

    def __init__(self, factory: Callable[[Settings], Services] = build_services) -> None:
        self._factory = factory
        self._settings: Settings | None = None
        self._services: Services | None = None
        self._lock = threading.Lock()

    def configure(self, *, settings: Settings | None = None,
                  services: Services | None = None) -> None:
        """Use these settings (built lazily) or these ready services from now on."""
        with self._lock:
            if self._services is not None and self._services is not services:
                self._services.close()
            self._settings = settings
            self._services = services

    def get(self) -> Services:
        with self._lock:
            if self._services is None:
                settings = self._settings or Settings.load()
                self._services = self._factory(settings)
            return self._services

    def reset(self) -> None:
        self.configure()


registry = Registry()
