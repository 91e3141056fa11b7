"""Falls back when a message has not a single word the bot knows ("qwertz uiop", "???").

The sentence embedding gives every text a confident-looking intent, gibberish included, so the
FallbackClassifier's confidence threshold does not catch it. This component remembers the
words of the training data (surface forms and lemmas) and also counts a word as known when the
tokenizer's dictionary had a lemma for it. A message with letters but no known word gets the
intent ``nlu_fallback``; ``action_fallback`` then still tries retrieval, so an unseen but real
service word is answered when the catalogue knows it.
"""

from __future__ import annotations

import json
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

VOCABULARY_FILE = "vocabulary.json"


def is_known(token: Token, vocabulary: frozenset[str]) -> bool:
    word = token.text.lower()
    lemma = (token.lemma or word).lower()
    return (word in vocabulary or lemma in vocabulary or lemma != word
            or not any(c.isalpha() for c in word))


def all_unknown(tokens: list[Token], vocabulary: frozenset[str]) -> bool:
    """True when no token is known; a text without letters ("???") counts as unknown too."""
    words = [t for t in tokens if any(c.isalpha() for c in t.text)]
    if not words:
        return not any(c.isdigit() for t in tokens for c in t.text)
    return not any(is_known(t, vocabulary) for t in words)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class UnknownWordsFallback(GraphComponent):
    @classmethod
    def required_components(cls) -> list[type]:
        return [Tokenizer]

    def __init__(self, model_storage: ModelStorage, resource: Resource,
                 vocabulary: frozenset[str] = frozenset()) -> None:
        self._model_storage = model_storage
        self._resource = resource
        self.vocabulary = vocabulary

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> UnknownWordsFallback:
        return cls(model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        words: set[str] = set()
        for example in training_data.training_examples:
            for token in example.get(TOKENS_NAMES[TEXT]) or []:
                words.add(token.text.lower())
                words.add((token.lemma or token.text).lower())
        self.vocabulary = frozenset(words)
        with self._model_storage.write_to(self._resource) as directory:
            (directory / VOCABULARY_FILE).write_text(
                json.dumps(sorted(self.vocabulary), ensure_ascii=False), encoding="utf-8")
        return self._resource

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> UnknownWordsFallback:
        with model_storage.read_from(resource) as directory:
            words = json.loads((directory / VOCABULARY_FILE).read_text(encoding="utf-8"))
        return cls(model_storage, resource, frozenset(words))

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT)
            tokens = message.get(TOKENS_NAMES[TEXT])
            if not text or text.startswith("/") or not tokens:
                continue
            if all_unknown(tokens, self.vocabulary):
                fallback = {"name": DEFAULT_NLU_FALLBACK_INTENT_NAME, "confidence": 1.0}
                message.data[INTENT] = fallback
                message.data.setdefault(INTENT_RANKING_KEY, [])
                message.data[INTENT_RANKING_KEY].insert(0, dict(fallback))
        return messages
