"""A German tokenizer with dictionary lemmas, without a trained spaCy model.

Rasa's SpacyNLP needs a loadable spaCy pipeline; we have none for German (offline, no trained
model), so this component tokenizes with ``spacy.blank("de")`` and looks lemmas up in the
tables of ``spacy-lookups-data``. Lowercase nouns, common in typed and spoken questions
("reisepässe"), are also tried capitalised. Lemmas are lowercased: CountVectorsFeaturizer then
sees "kostet"/"kosten" and "Ausweise"/"ausweis" as one feature.
"""

from __future__ import annotations

import warnings
from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message

from bot import rasa_speedups

with warnings.catch_warnings():
    # spaCy 3.4 imports pkg_resources, which warns on every import under setuptools >= 80.
    warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
    import spacy

# Rasa imports this module before it builds the pipeline: faster model loading and action
# result validation in every Rasa process (see bot/rasa_speedups.py).
rasa_speedups.install()


class LemmaLookup:
    """``spacy.blank("de")`` plus the lookup lemma table; pure apart from loading the table."""

    def __init__(self, language: str = "de") -> None:
        self.nlp = spacy.blank(language)
        lemmatizer = self.nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        self.nlp.initialize()
        self._table = lemmatizer.lookups.get_table("lemma_lookup")

    def lemma(self, word: str) -> str:
        for candidate in (word, word.capitalize(), word.lower()):
            if candidate in self._table:
                return str(self._table[candidate]).lower()
        return word.lower()

    def words(self, text: str) -> list[tuple[str, int, str]]:
        """(text, start offset, lemma) of each word; punctuation and spaces are dropped."""
        doc = self.nlp.make_doc(text)
        return [(t.text, t.idx, self.lemma(t.text)) for t in doc
                if not (t.is_punct or t.is_space)]


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False
)
class GermanTokenizer(Tokenizer):
    """Tokens from spaCy's German rules, each with a dictionary lemma."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
            "language": "de",
        }

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self._lookup = LemmaLookup(self._config["language"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GermanTokenizer:
        return cls(config)

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        text = message.get(attribute)
        words = self._lookup.words(text)
        if not words:
            # Rasa expects at least one token (e.g. for a message of only "?").
            return [Token(text, 0, lemma=text.lower())]
        tokens = [Token(word, start, lemma=lemma) for word, start, lemma in words]
        return self._apply_token_pattern(tokens)
