"""Intents from linear models on character n-grams and the sentence embedding.

With about 1 200 examples for 18 intents, DIET's intent head is the weak part of the pipeline
(5-fold cross-validation: macro F1 0.88). A linear support vector machine over

- character n-grams (2-5, within word boundaries) of the text: typos, inflection, compounds and
  lowercase voice transcripts share most of their n-grams with the written examples,
- word uni- and bigrams, at half weight, and
- the unit-length sentence embedding of the retrieval model (``SentenceEmbeddingFeaturizer``),

plus a small share of an RBF-kernel machine on the embedding alone, reaches 0.92-0.93 on the
same folds (docs/DIALOGUE.md). DIET stays in the pipeline for entities; this component runs after
it and replaces ``intent`` and ``intent_ranking``.

The machines' scores become confidences by a softmax whose temperature is fitted on
out-of-fold scores of the training data (lowest log loss), so the FallbackClassifier's threshold
reads as a probability. Trained with scikit-learn in seconds; at run time the same scores come
from lookup tables and matrix products (``LinearScorer``, ``RbfMachine``), ≈ 0.24 ms per message.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import joblib
import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.exceptions import RasaException
from rasa.shared.nlu.constants import (
    FEATURE_TYPE_SENTENCE,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import SVC, LinearSVC

logger = logging.getLogger(__name__)

MODEL_FILE = "linear_intent_classifier.joblib"
# temperatures tried when turning scores into confidences
TEMPERATURES = tuple(float(t) for t in np.geomspace(0.02, 5.0, 60))


class IntentTrainingError(RasaException):
    """The training data cannot train this classifier (raised at training time only)."""


@dataclass
class RbfMachine:
    """A fitted one-vs-one RBF ``SVC``'s one-vs-rest scores by two matrix products.

    scikit-learn's ``SVC.decision_function`` goes through libsvm, which takes ≈ 3 ms for one
    512-dimensional message against ~1 000 support vectors; the same numbers come from one
    kernel row (BLAS) times a matrix of each support vector's coefficient in each pair.
    """

    support_vectors: np.ndarray  # (n_sv, dim)
    squared_norms: np.ndarray  # (n_sv,)
    gamma: float
    pair_weights: np.ndarray  # (n_sv, n_pairs): coefficient of each vector in each pair
    intercepts: np.ndarray  # (n_pairs,)
    n_classes: int

    @classmethod
    def from_svc(cls, svc: SVC) -> RbfMachine:
        n_classes = len(svc.classes_)
        if n_classes < 3:
            raise ValueError("RbfMachine needs three or more classes")
        starts = np.concatenate([[0], np.cumsum(svc.n_support_)])
        weights = np.zeros((len(svc.support_vectors_), n_classes * (n_classes - 1) // 2))
        pair = 0
        # libsvm's pair order and coefficient layout (scikit-learn's SVC docs, "multi-class")
        for i in range(n_classes):
            for j in range(i + 1, n_classes):
                own, other = slice(starts[i], starts[i + 1]), slice(starts[j], starts[j + 1])
                weights[own, pair] = svc.dual_coef_[j - 1, own]
                weights[other, pair] = svc.dual_coef_[i, other]
                pair += 1
        vectors = np.ascontiguousarray(svc.support_vectors_, dtype=np.float64)
        return cls(vectors, (vectors ** 2).sum(axis=1), float(svc._gamma), weights,
                   np.asarray(svc.intercept_, dtype=np.float64), n_classes)

    def decision_function(self, dense: np.ndarray) -> np.ndarray:
        squared = ((dense ** 2).sum(axis=1)[:, None] + self.squared_norms[None, :]
                   - 2.0 * dense @ self.support_vectors.T)
        kernel = np.exp(-self.gamma * np.maximum(squared, 0.0))
        ovo = kernel @ self.pair_weights + self.intercepts
        return ovr_scores(ovo, self.n_classes)


def ovr_scores(ovo: np.ndarray, n_classes: int) -> np.ndarray:
    """scikit-learn's one-vs-rest transformation of one-vs-one decisions, without its loop.

    Votes per class plus the summed confidences squashed into (-1/3, 1/3), as in
    ``sklearn.utils.multiclass._ovr_decision_function(ovo < 0, -ovo, n_classes)``.
    """
    toward_first, toward_second = _pair_members(n_classes)
    second_wins = (ovo < 0).astype(np.float64)
    votes = (1.0 - second_wins) @ toward_first + second_wins @ toward_second
    confidence = ovo @ (toward_first - toward_second)
    return votes + confidence / (3 * (np.abs(confidence) + 1))


@lru_cache(maxsize=8)
def _pair_members(n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """(n_pairs, n_classes) indicators of each pair's first and second class, libsvm's order."""
    first, second = np.triu_indices(n_classes, k=1)
    pairs = np.arange(len(first))
    toward_first = np.zeros((len(first), n_classes))
    toward_first[pairs, first] = 1.0
    toward_second = np.zeros((len(first), n_classes))
    toward_second[pairs, second] = 1.0
    return toward_first, toward_second


@dataclass
class IntentModel:
    """The fitted parts; pure scikit-learn and numpy, pickled as one object."""

    chars: TfidfVectorizer
    words: TfidfVectorizer
    linear: LinearSVC
    rbf: RbfMachine | None
    word_weight: float
    rbf_weight: float
    temperature: float

    @property
    def intents(self) -> list[str]:
        return [str(c) for c in self.linear.classes_]

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_scorer", None)  # rebuilt from the fitted parts after loading
        return state

    def linear_scores(self, texts: list[str], dense: np.ndarray) -> np.ndarray:
        scorer = self.__dict__.get("_scorer")
        if scorer is None:
            scorer = self.__dict__["_scorer"] = LinearScorer.from_model(self)
        return scorer.decision_function(texts, dense)

    def scores(self, texts: list[str], dense: np.ndarray) -> np.ndarray:
        scores = self.linear_scores(texts, dense)
        if self.rbf is not None and self.rbf_weight:
            scores = scores + self.rbf_weight * self.rbf.decision_function(dense)
        return _two_class_columns(scores)

    def confidences(self, texts: list[str], dense: np.ndarray) -> np.ndarray:
        return softmax(self.scores(texts, dense) / self.temperature)


@dataclass
class _Block:
    """One fitted TfidfVectorizer as a lookup: analyzer, vocabulary, idf, first column."""

    analyzer: Any
    vocabulary: dict[str, int]
    idf: np.ndarray
    offset: int
    weight: float

    def columns(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        counts = Counter(g for g in self.analyzer(text) if g in self.vocabulary)
        if not counts:
            return np.empty(0, dtype=np.intp), np.empty(0)
        index = np.fromiter((self.vocabulary[g] for g in counts), dtype=np.intp, count=len(counts))
        values = (1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64))) * self.idf[index]
        values *= self.weight / np.sqrt(values @ values)  # sublinear tf-idf, l2 per block
        return index + self.offset, values


@dataclass
class LinearScorer:
    """The linear machine's decision function for one message at a time, without scipy.

    ``LinearSVC.decision_function(design_matrix(...))`` spends ≈ 1 ms per message in the vectorizers'
    and sparse matrices' bookkeeping; the same sums over the ~100 n-grams a message has take a
    tenth of that. Same numbers (tests/nlu/test_intent_classifier.py).
    """

    blocks: tuple[_Block, _Block]
    weights: np.ndarray  # (n_features, n_columns): coef_ transposed
    dense_offset: int
    intercept: np.ndarray

    @classmethod
    def from_model(cls, model: IntentModel) -> LinearScorer:
        chars, words = model.chars, model.words
        n_chars, n_words = len(chars.vocabulary_), len(words.vocabulary_)
        return cls(
            (_Block(chars.build_analyzer(), chars.vocabulary_, chars.idf_, 0, 1.0),
             _Block(words.build_analyzer(), words.vocabulary_, words.idf_, n_chars,
                    model.word_weight)),
            np.ascontiguousarray(model.linear.coef_.T), n_chars + n_words,
            np.asarray(model.linear.intercept_, dtype=np.float64))

    def decision_function(self, texts: list[str], dense: np.ndarray) -> np.ndarray:
        rows = dense @ self.weights[self.dense_offset:] + self.intercept
        for row, text in zip(rows, texts):
            for block in self.blocks:
                index, values = block.columns(text)
                if len(index):
                    row += values @ self.weights[index]
        return rows[:, 0] if rows.shape[1] == 1 else rows


def design_matrix(chars: TfidfVectorizer, words: TfidfVectorizer, word_weight: float,
                  texts: list[str], dense: np.ndarray) -> csr_matrix:
    """The matrix the linear machine is fitted on (LinearScorer computes its products)."""
    return hstack([
        chars.transform(texts),
        words.transform(texts) * word_weight,
        csr_matrix(dense),
    ]).tocsr()


def _two_class_columns(scores: np.ndarray) -> np.ndarray:
    # scikit-learn returns one column for two classes (positive = the second class)
    if scores.ndim == 1:
        return np.stack([-scores, scores], axis=1)
    return scores


def softmax(scores: np.ndarray) -> np.ndarray:
    shifted = scores - scores.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=1, keepdims=True)


def unit(vector: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(vector)
    return vector / norm if norm > 0 else vector


def fit_model(texts: list[str], labels: list[str], dense: np.ndarray,
              config: dict[str, Any], *, fit_temperature: bool = True) -> IntentModel:
    """Fit the machines on ``texts``/``dense`` (rows: unit-length embeddings) and ``labels``."""
    if len(set(labels)) < 2:
        raise IntentTrainingError(
            "LinearIntentClassifier braucht Beispiele für mindestens zwei Intents. / "
            f"needs examples of at least two intents, got {sorted(set(labels))}")
    low, high = config["char_ngram_range"]
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(low, high), sublinear_tf=True,
                            min_df=min(config["char_min_df"], len(texts)))
    words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True,
                            token_pattern=r"(?u)\b\w+\b")
    x = design_matrix(chars.fit(texts), words.fit(texts), config["word_weight"], texts, dense)
    linear = LinearSVC(C=config["C"], max_iter=10000, random_state=config["random_seed"])
    linear.fit(x, labels)
    rbf = None
    if config["rbf_weight"] and len(set(labels)) > 2:
        svc = SVC(C=config["rbf_C"], kernel="rbf", gamma=config["rbf_gamma"],
                  decision_function_shape="ovr")
        rbf = RbfMachine.from_svc(svc.fit(dense, labels))
    model = IntentModel(chars, words, linear, rbf, config["word_weight"], config["rbf_weight"],
                        temperature=1.0)
    if fit_temperature:
        model.temperature = fitted_temperature(texts, labels, dense, config)
    return model


def fitted_temperature(texts: list[str], labels: list[str], dense: np.ndarray,
                       config: dict[str, Any]) -> float:
    """The softmax temperature with the lowest log loss on out-of-fold scores.

    Falls back to 1.0 when an intent has fewer examples than folds (tiny training sets).
    """
    folds = config["calibration_folds"]
    _, counts = np.unique(labels, return_counts=True)
    if folds < 2 or counts.min() < folds:
        return 1.0
    truth = np.asarray(labels)
    rows: list[np.ndarray] = []
    wanted: list[np.ndarray] = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=config["random_seed"])
    for train, test in splitter.split(dense, truth):
        part = fit_model([texts[i] for i in train], [labels[i] for i in train], dense[train],
                         config, fit_temperature=False)
        if len(part.intents) != len(counts):
            return 1.0
        rows.append(part.scores([texts[i] for i in test], dense[test]))
        wanted.append(np.searchsorted(part.intents, truth[test]))
    scores = np.concatenate(rows)
    target = np.concatenate(wanted)
    losses = []
    for temperature in TEMPERATURES:
        probabilities = softmax(scores / temperature)
        losses.append(-np.log(probabilities[np.arange(len(target)), target] + 1e-12).mean())
    return TEMPERATURES[int(np.argmin(losses))]


def sentence_vectors(messages: list[Message], featurizers: list[str]) -> np.ndarray | None:
    """Each message's dense sentence features, each featurizer's part at unit length.

    None when a message has none (no dense featurizer in the pipeline).
    """
    rows = []
    for message in messages:
        parts = [
            f.features.reshape(-1)
            for f in message.features
            if f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE and not f.is_sparse()
            and (not featurizers or f.origin in featurizers)
        ]
        if not parts:
            return None
        rows.append(np.concatenate([unit(p) for p in parts]))
    return np.vstack(rows).astype(np.float64)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    """Replaces the intent and its ranking; see the module's docstring."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [DenseFeaturizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "char_ngram_range": [2, 5],
            "char_min_df": 2,
            "word_weight": 0.5,
            # regularisation of the linear machine (scikit-learn's C)
            "C": 1.0,
            # share of the RBF machine on the embedding; 0 switches it off
            "rbf_weight": 0.1,
            "rbf_C": 10.0,
            "rbf_gamma": 1.0,
            "calibration_folds": 3,
            "ranking_length": 10,
            # dense featurizers to use by name or alias; empty: all
            "featurizers": [],
            "random_seed": 1,
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["sklearn"]

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 model: IntentModel | None = None) -> None:
        self._config = config
        self._model_storage = model_storage
        self._resource = resource
        self.model = model

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> LinearIntentClassifier:
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(TEXT)]
        if not examples:
            logger.debug("nlu.linear_intent.no_examples")
            return self._resource
        dense = sentence_vectors(examples, self._config["featurizers"])
        if dense is None:
            raise IntentTrainingError(
                "LinearIntentClassifier braucht dichte Satz-Features (z. B. "
                "bot.nlu.featurizer.SentenceEmbeddingFeaturizer) vor sich in der Pipeline. / "
                "needs a dense sentence featurizer earlier in the pipeline.")
        texts = [m.get(TEXT) for m in examples]
        labels = [m.get(INTENT) for m in examples]
        self.model = fit_model(texts, labels, dense, self._config)
        with self._model_storage.write_to(self._resource) as directory:
            joblib.dump(self.model, directory / MODEL_FILE)
        return self._resource

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> LinearIntentClassifier:
        try:
            with model_storage.read_from(resource) as directory:
                model = joblib.load(directory / MODEL_FILE)
        except (ValueError, FileNotFoundError):
            logger.debug("nlu.linear_intent.no_model")
            model = None
        return cls(config, model_storage, resource, model)

    def process(self, messages: list[Message]) -> list[Message]:
        if self.model is None:
            return messages
        todo = [m for m in messages if m.get(TEXT) and not m.get(TEXT).startswith("/")]
        if not todo:
            return messages
        dense = sentence_vectors(todo, self._config["featurizers"])
        if dense is None:
            return messages
        confidences = self.model.confidences([m.get(TEXT) for m in todo], dense)
        intents = self.model.intents
        length = self._config["ranking_length"] or len(intents)
        for message, row in zip(todo, confidences):
            order = np.argsort(-row)[:length]
            ranking = [{INTENT_NAME_KEY: intents[i], PREDICTED_CONFIDENCE_KEY: float(row[i])}
                       for i in order]
            message.set(INTENT, dict(ranking[0]), add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
